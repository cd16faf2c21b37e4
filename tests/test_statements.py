"""Listing SQL compiled once per shape (services/statements.py) gives the pages Tortoise
gives, on both databases, for every filter, ordering, direction and cursor."""

from collections.abc import AsyncIterator, Sequence
from itertools import pairwise
from typing import Any
from uuid import UUID

import pytest
from tortoise.transactions import in_transaction

from models import Asset, User
from services.assets import AssetFilter, AssetOrder, Tracking
from services.statements import _NOT_CACHEABLE, StatementCache
from tests.conftest import TroveClient


async def _chunks(data: bytes) -> AsyncIterator[bytes]:
    yield data


async def _seed(client: TroveClient) -> tuple[User, UUID]:
    owner = await User.get(name="local")
    assets = client.services.assets
    folder = await assets.create_folder(owner=owner, name="folder")
    for index in range(12):
        await assets.create_asset(
            owner=owner,
            content=_chunks(f"content {index}".encode() * (index + 1)),
            name=f"file-{index % 5}.{'png' if index % 3 else 'txt'}",
            tracking=Tracking(
                node_id=f"node-{index % 2}", job_id=f"job-{index % 3}", workflow_id="wf"
            ),
            parent_id=folder.id if index % 4 == 0 else None,
        )
    return owner, folder.id


async def _walk(client: TroveClient, owner: User, where: AssetFilter, order: AssetOrder) -> None:
    """Every page of `where` both ways, records against models, forward then backward."""
    assets = client.services.assets
    after = None
    while True:
        models = await assets.list_assets(
            owner=owner, where=where, order=order, first=2, after=after
        )
        records = await assets.list_records(
            owner=owner, where=where, order=order, first=2, after=after
        )
        assert [r.id for r in records.items] == [m.id for m in models.items]
        assert list(records.cursors) == list(models.cursors)
        assert await records.has_next_page() == await models.has_next_page()
        if not await models.has_next_page():
            break
        after = models.cursors[-1]
    before = None
    while True:
        models = await assets.list_assets(
            owner=owner, where=where, order=order, last=3, before=before
        )
        records = await assets.list_records(
            owner=owner, where=where, order=order, last=3, before=before
        )
        assert [r.id for r in records.items] == [m.id for m in models.items]
        if not models.items or not await models.has_previous_page():
            break
        before = models.cursors[0]


def _learnt(client: TroveClient) -> dict[object, object]:
    return client.services.assets._list_statements._statements


async def test_compiled_pages_match_tortoise_for_every_shape(client: TroveClient) -> None:
    owner, folder = await _seed(client)
    filters = [
        AssetFilter(),
        AssetFilter(job_id="job-1"),
        AssetFilter(node_id="node-0", workflow_id="wf"),
        AssetFilter(content_type="image/png"),
        AssetFilter(parent_id=str(folder)),
        AssetFilter(parent_id=str(folder).upper()),  # the same folder, written otherwise
        AssetFilter(top_level=True, job_id="job-2"),
        AssetFilter(job_id="no such job"),
    ]
    for where in filters:
        for order in AssetOrder:
            await _walk(client, owner, where, order)
    learnt = _learnt(client)
    # The hot shapes are compiled, not quietly left to Tortoise.
    assert learnt
    assert [shape for shape, statement in learnt.items() if statement is _NOT_CACHEABLE] == []


async def test_value_built_filters_are_left_to_tortoise(client: TroveClient) -> None:
    owner, _ = await _seed(client)
    for where in (
        AssetFilter(search="FILE-1"),
        AssetFilter(content_type="image"),
        AssetFilter(tags=["x"]),
    ):
        await _walk(client, owner, where, AssetOrder.CREATED_AT_DESC)
    assert not _learnt(client)


async def test_a_shape_learnt_with_one_value_serves_others(client: TroveClient) -> None:
    owner, _ = await _seed(client)
    assets = client.services.assets
    pages = []
    for job in ("job-0", "job-1", "job-2"):
        page = await assets.list_records(owner=owner, where=AssetFilter(job_id=job), first=50)
        expected = await Asset.filter(owner_id=owner.id, job_id=job).order_by("-id")
        assert [r.id for r in page.items] == [a.id for a in expected]
        pages.append({r.id for r in page.items})
    assert all(not a & b for a, b in pairwise(pages))
    assert len(_learnt(client)) == 1


async def test_compiled_statements_run_inside_the_callers_transaction(
    client: TroveClient,
) -> None:
    owner, _ = await _seed(client)
    assets = client.services.assets
    where = AssetFilter(job_id="job-0")
    await assets.list_records(owner=owner, where=where, first=50)  # learn the shape
    row = await Asset.filter(owner_id=owner.id, job_id="job-0").first()
    assert row is not None
    with pytest.raises(_RolledBack):
        async with in_transaction() as connection:
            await Asset.filter(id=row.id).using_db(connection).update(job_id="elsewhere")
            page = await assets.list_records(owner=owner, where=where, first=50)
            # Same shape, so the compiled statement ran, and it saw the uncommitted change.
            assert row.id not in {r.id for r in page.items}
            raise _RolledBack
    page = await assets.list_records(owner=owner, where=where, first=50)
    assert row.id in {r.id for r in page.items}


class _RolledBack(Exception):
    pass


async def test_a_statement_built_from_its_values_is_never_reused(client: TroveClient) -> None:
    """A LIKE pattern made from the value: the learner refuses it, and Tortoise builds it."""
    owner, _ = await _seed(client)
    cache = StatementCache(Asset)

    def build(values: Sequence[Any]) -> Any:
        return Asset.filter(owner_id=values[0], name__icontains=values[1]).limit(values[2])

    for search in ("FILE-1", "file-2", "%"):
        rows = await cache.rows("search", build, [owner.id, search, 50])
        expected = await Asset.filter(owner_id=owner.id, name__icontains=search).limit(50)
        assert sorted(str(row["id"]) for row in rows) == sorted(str(a.id) for a in expected)
    assert cache._statements["search"] is _NOT_CACHEABLE


async def test_an_empty_id_list_is_not_taken_for_no_filter(client: TroveClient) -> None:
    owner, _ = await _seed(client)
    assets = client.services.assets
    everything = await assets.list_records(owner=owner, where=AssetFilter(), first=50)
    assert everything.items
    nothing = await assets.list_records(owner=owner, where=AssetFilter(ids=[]), first=50)
    assert nothing.items == []
    again = await assets.list_records(owner=owner, where=AssetFilter(), first=50)
    assert [r.id for r in again.items] == [r.id for r in everything.items]
