"""List pages as light records (services/records.py) carry exactly what the ORM loads."""

import datetime as dt
from collections.abc import AsyncIterator

from models import Asset, User
from services.assets import AssetFilter, AssetOrder, Tracking
from services.records import ASSET_COLUMNS, AssetRecord, fetch_asset_records
from tests.conftest import TroveClient

METADATA = [
    None,
    {"prompt": "a cat", "steps": 30, "cfg": 7.5, "nested": {"list": [1, None, "x"]}},
    ["a", 2, 3.25, True, None],
    12345678901234,
    {"unicode": "naïve ☃ 日本", "empty": {}, "zero": 0},
]


async def _chunks(data: bytes) -> AsyncIterator[bytes]:
    yield data


async def test_records_equal_the_orm_models_field_by_field(client: TroveClient) -> None:
    owner = await User.get(name="local")
    assets = client.services.assets
    folder = await assets.create_folder(owner=owner, name="folder")
    for index, metadata in enumerate(METADATA):
        await assets.create_asset(
            owner=owner,
            content=_chunks(f"content {index}".encode()),
            name=f"file-{index}.txt",
            tracking=Tracking(
                node_id=None if index % 2 else f"node-{index}",
                job_id="job-1",
                workflow_id=None if index % 3 else "wf",
            ),
            parent_id=folder.id if index % 2 else None,
            metadata=metadata,
        )
    query = Asset.filter(owner_id=owner.id).order_by("-id")
    models = await query
    records = await fetch_asset_records(query)
    assert len(records) == len(models) == len(METADATA) + 1
    for model, record in zip(models, records, strict=True):
        assert isinstance(record, AssetRecord)
        for column in ASSET_COLUMNS:
            expected, got = getattr(model, column), getattr(record, column)
            assert got == expected, (column, got, expected)
            assert type(got) is type(expected) or isinstance(got, dt.datetime), column
        assert record.created_at.utcoffset() == dt.timedelta(0)
        assert record.pk == model.pk
        assert record.is_folder == model.is_folder


async def test_list_records_pages_like_list_assets(client: TroveClient) -> None:
    owner = await User.get(name="local")
    assets = client.services.assets
    for index in range(7):
        await assets.create_asset(
            owner=owner, content=_chunks(bytes([index])), name=f"n{index}", metadata={"i": index}
        )
    for order in (AssetOrder.CREATED_AT_DESC, AssetOrder.NAME_ASC, AssetOrder.SIZE_DESC):
        after = None
        while True:
            models = await assets.list_assets(
                owner=owner, where=AssetFilter(), order=order, first=3, after=after
            )
            records = await assets.list_records(
                owner=owner, where=AssetFilter(), order=order, first=3, after=after
            )
            assert [r.id for r in records.items] == [m.id for m in models.items]
            assert records.cursors == models.cursors
            assert await records.has_next_page() == await models.has_next_page()
            if not await models.has_next_page():
                break
            after = models.cursors[-1]
