"""ProcessingContext and the asset service helpers it stands on, against the real services."""

import pytest
from PIL import Image

from execution import AudioRef, ImageRef, JSONRef, ProcessingContext
from execution.autosave import content_type_of, find_refs
from services import users
from services.errors import InvalidInput, NotFound
from tests.conftest import TroveClient


@pytest.fixture
async def context(client: TroveClient) -> ProcessingContext:
    # The app runs without authentication, so GraphQL acts as this same local user.
    owner = await users.get_or_create_user(name=users.LOCAL_USER_NAME)
    return ProcessingContext(
        services=client.services, user=owner, job_id="job-a", workflow_id="wf-a"
    )


async def test_create_asset_tracks_job_and_workflow(
    context: ProcessingContext, client: TroveClient
) -> None:
    asset = await context.create_asset("note.txt", None, b"hello", node_id="n1")
    assert (asset.node_id, asset.job_id, asset.workflow_id) == ("n1", "job-a", "wf-a")
    assert asset.content_type == "text/plain"
    listed = await client.data('{ assets(jobId: "job-a") { nodes { id name nodeId workflowId } } }')
    assert listed["assets"]["nodes"] == [
        {"id": str(asset.id), "name": "note.txt", "nodeId": "n1", "workflowId": "wf-a"}
    ]
    assert await context.asset_bytes(str(asset.id)) == b"hello"


async def test_get_assets_by_node_job_and_workflow(context: ProcessingContext) -> None:
    other = ProcessingContext(
        services=context.services, user=context.user, job_id="job-b", workflow_id="wf-a"
    )
    a = await context.create_asset("a.txt", None, b"a", node_id="n1")
    b = await context.create_asset("b.txt", None, b"b", node_id="n2")
    c = await other.create_asset("c.txt", None, b"c", node_id="n1")

    assert [x.id for x in await context.get_assets_by_node("n1")] == [c.id, a.id]
    assert [x.id for x in await context.get_assets_by_job()] == [b.id, a.id]
    assert [x.id for x in await context.get_assets_by_job("job-b")] == [c.id]
    assert [x.id for x in await context.get_assets_by_workflow()] == [c.id, b.id, a.id]
    assert await context.get_assets_by_workflow("wf-none") == []

    detached = ProcessingContext(services=context.services, user=context.user)
    with pytest.raises(InvalidInput):
        await detached.get_assets_by_job()


async def test_paginate_walks_every_page(context: ProcessingContext) -> None:
    made = [await context.create_asset(f"{i}.txt", None, b"x", node_id="p") for i in range(5)]
    seen = []
    cursor = ""
    pages = 0
    while True:
        page, cursor = await context.services.assets.paginate(
            user_id=context.user.id, node_id="p", limit=2, start_key=cursor
        )
        seen.extend(page)
        pages += 1
        if not cursor:  # "" on the last page, as the seed's Asset.paginate
            break
    assert pages == 3
    assert [a.id for a in seen] == [a.id for a in made]  # oldest first, as the seed

    newest, _ = await context.services.assets.paginate(
        user_id=context.user.id, node_id="p", limit=2, reverse=True
    )
    assert [a.id for a in newest] == [made[4].id, made[3].id]

    only_job, more = await context.services.assets.paginate(
        user_id=str(context.user.id), job_id="job-a", workflow_id="wf-a", limit=100
    )
    assert len(only_job) == 5 and more == ""


async def test_images_round_trip_through_refs(context: ProcessingContext) -> None:
    ref = await context.image_to_ref(Image.new("RGB", (3, 2), (1, 2, 3)), "PNG")
    assert ref.asset_id is None and ref.data is not None
    image = await context.image_from_ref(ref)
    assert image.size == (3, 2) and image.getpixel((0, 0)) == (1, 2, 3)

    stored = await context.create_asset("p.png", None, ref.data, node_id="img")
    loaded = await context.ref_for_asset(stored.id)
    assert isinstance(loaded, ImageRef)
    assert loaded.content_type == "image/png"
    assert (await context.image_from_ref(loaded)).size == (3, 2)
    assert context.image_from_bytes(context.image_to_bytes(image, "JPEG")).format == "JPEG"


async def test_reading_refuses_folders_and_foreign_assets(context: ProcessingContext) -> None:
    folder = await context.services.assets.create_folder(owner=context.user, name="f")
    with pytest.raises(InvalidInput, match="is a folder"):
        await context.asset_bytes(str(folder.id))
    stranger = await users.get_or_create_user(name="stranger")
    theirs = ProcessingContext(services=context.services, user=stranger)
    mine = await context.create_asset("mine.txt", None, b"secret")
    with pytest.raises(NotFound):
        await theirs.asset_bytes(str(mine.id))
    with pytest.raises(InvalidInput, match="neither data nor an asset id"):
        await context.asset_bytes(ImageRef())


def test_content_type_trusts_bytes_over_the_reference_kind() -> None:
    jpeg_bytes = ProcessingContext.image_to_bytes(Image.new("RGB", (2, 2)), "JPEG")
    # JPEG bytes in an ImageRef claiming PNG are still JPEG.
    assert content_type_of(ImageRef(content_type="image/png"), jpeg_bytes) == "image/jpeg"
    assert content_type_of(JSONRef(), b"[1, 2]") == "application/json"
    assert content_type_of(JSONRef(), b"not json") == "text/plain"
    assert content_type_of(AudioRef(content_type="text/plain"), b"\x00\x01\x02") == (
        "application/octet-stream"
    )


def test_find_refs_reports_paths_and_each_object_once() -> None:
    shared = ImageRef(asset_id="x")
    found = list(find_refs({"a": [shared, (shared, ImageRef())]}, "out"))
    assert [path for path, _ in found] == ["out-a-0", "out-a-1-1"]
