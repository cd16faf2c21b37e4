"""The in-process Python API speaks the seed's (nodetool's) dialect: `AssetService.paginate`
like `Asset.paginate`, search with folder paths, `ProcessingContext.create_asset` with the
seed's argument names. Against the real services, on both databases."""

import io

import pytest

from execution import ProcessingContext
from models import User
from services import users
from services.assets import AssetFilter
from services.errors import InvalidInput
from tests.conftest import TroveClient


@pytest.fixture
async def owner(client: TroveClient) -> User:
    return await users.get_or_create_user(name=users.LOCAL_USER_NAME)


@pytest.fixture
async def context(client: TroveClient, owner: User) -> ProcessingContext:
    return ProcessingContext(services=client.services, user=owner, job_id="job-py")


async def test_paginate_as_the_seed(context: ProcessingContext, owner: User) -> None:
    assets = context.services.assets
    folder = await assets.create_folder(owner=owner, name="stills")
    jpegs = [
        await context.create_asset(f"{n}.jpg", "image/jpeg", b"\xff\xd8\xff" + bytes([n]))
        for n in range(5)
    ]
    inside = await context.create_asset("in.txt", "text/plain", b"in", parent_id=str(folder.id))

    page, next_key = await assets.paginate(user_id=owner.id, content_type="image", limit=3)
    assert [a.id for a in page] == [a.id for a in jpegs[:3]] and next_key
    rest, last = await assets.paginate(
        user_id=str(owner.id), content_type="image", limit=3, start_key=next_key
    )
    assert [a.id for a in rest] == [a.id for a in jpegs[3:]] and last == ""
    newest, _ = await assets.paginate(user_id=owner.id, content_type="image/", reverse=True)
    assert [a.id for a in newest] == [a.id for a in reversed(jpegs)]

    # parent_id equal to the user id is the top level ("Home"); a folder id its children.
    home, _ = await assets.paginate(user_id=owner.id, parent_id=str(owner.id), limit=100)
    assert [a.id for a in home] == [folder.id, *(a.id for a in jpegs)]
    children, _ = await assets.paginate(user_id=owner.id, parent_id=folder.id)
    assert [a.id for a in children] == [inside.id]
    everything, _ = await assets.paginate(user_id=owner.id)
    assert len(everything) == 7


async def test_one_listing_method_walks_everything(context: ProcessingContext, owner: User) -> None:
    made = [await context.create_asset(f"{n}.txt", None, b"x", node_id="many") for n in range(105)]
    walked = [
        a.id
        async for a in context.services.assets.iter_assets(
            owner=owner, where=AssetFilter(node_id="many")
        )
    ]
    assert walked == [a.id for a in reversed(made)]
    assert [a.id for a in await context.get_assets_by_node("many")] == walked
    capped = context.services.assets.iter_assets(owner=owner, where=AssetFilter(), limit=7)
    assert len([a async for a in capped]) == 7


async def test_search_with_folder_paths(context: ProcessingContext, owner: User) -> None:
    assets = context.services.assets
    one = await assets.create_folder(owner=owner, name="Folder1")
    two = await assets.create_folder(owner=owner, name="Folder2", parent_id=one.id)
    deep = await context.create_asset("deep_asset", None, b"d", parent_id=two.id)
    root = await context.create_asset("root_asset", None, b"r")
    page, paths = await assets.search_assets(owner=owner, query="asset")
    assert {a.id for a in page.items} == {deep.id, root.id}
    assert paths[deep.id].folder_path == "Home / Folder1 / Folder2"
    assert (paths[deep.id].folder_name, paths[deep.id].folder_id) == ("Folder2", str(two.id))
    assert (paths[root.id].folder_path, paths[root.id].folder_id) == ("Home", str(owner.id))
    with pytest.raises(InvalidInput, match="at least 2 characters"):
        await assets.search_assets(owner=owner, query="a")

    # The seed's names and shapes.
    found, next_key, folder_paths = await assets.search_assets_global(
        user_id=owner.id, query="deep", content_type="text"
    )
    assert [a.id for a in found] == [deep.id] and next_key == ""
    assert folder_paths == [
        {
            "folder_id": str(two.id),
            "folder_name": "Folder2",
            "folder_path": "Home / Folder1 / Folder2",
        }
    ]
    info = await assets.get_asset_path_info(
        user_id=str(owner.id), asset_ids=[str(root.id), str(deep.id), "nonexistent_id"]
    )
    assert info[str(root.id)] == {
        "folder_id": str(owner.id),
        "folder_name": "Home",
        "folder_path": "Home",
    }
    assert set(info) == {str(root.id), str(deep.id)}
    assert await assets.get_asset_path_info(user_id=owner.id, asset_ids=[]) == {}


async def test_create_asset_takes_the_seed_arguments(
    context: ProcessingContext, owner: User
) -> None:
    # nodetool: create_asset(name, content_type, content: IO, parent_id, instructions, node_id)
    buffer = io.BytesIO()
    buffer.write(b"written, not rewound")
    first = await context.create_asset("a.txt", "text/plain", buffer, str(owner.id), None, "n1")
    assert (first.parent_id, first.node_id, first.size) == (None, "n1", 20)  # type: ignore[attr-defined]
    assert await context.asset_bytes(first.id) == b"written, not rewound"

    second = await context.create_asset(
        name="b.txt", content_type="text/plain", instructions=io.BytesIO(b"old name")
    )
    assert await context.asset_bytes(second.id) == b"old name"
    third = await context.create_asset("c.bin", None, bytearray(b"\x00\x01"), node_id="n3")
    assert third.size == 2 and third.job_id == "job-py"

    with pytest.raises(InvalidInput, match="content is required"):
        await context.create_asset("d.txt", "text/plain")
