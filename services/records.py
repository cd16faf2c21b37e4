"""Light records for list pages: rows straight from the driver, parsed cheaply.

A page of 50 ORM objects costs more than the SQL that fetched it: Tortoise builds each model
through `_init_from_db`, parses every timestamp with `iso8601` and converts every id. Readers
that only serialise a page (the GraphQL and REST list endpoints) get `AssetRecord`s instead:
the same attribute names and values as `models.Asset` (the tests compare them field by
field on both databases), made from `values()` rows with `datetime.fromisoformat` (in C)
and one `UUID()` per id. Anything that changes an asset still loads the model.
"""

import datetime as dt
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from tortoise.queryset import QuerySet

from models import Asset
from models.asset import FOLDER_CONTENT_TYPE

ASSET_COLUMNS = (
    "id",
    "owner_id",
    "name",
    "content_type",
    "size",
    "sha256",
    "node_id",
    "job_id",
    "workflow_id",
    "parent_id",
    "metadata",
    "created_at",
    "updated_at",
    "tags",
    "media",
    "expires_at",
)


@dataclass(slots=True, eq=False)
class AssetRecord:
    """A read-only `models.Asset` as far as reading goes (no relations, no saving)."""

    id: UUID
    owner_id: UUID
    name: str
    content_type: str
    size: int
    sha256: str
    node_id: str | None
    job_id: str | None
    workflow_id: str | None
    parent_id: UUID | None
    metadata: Any
    created_at: dt.datetime
    updated_at: dt.datetime
    # Curation columns (services/tags.py, services/media_facts.py, retention).
    tags: list[str] | None = None
    media: dict[str, Any] | None = None
    expires_at: dt.datetime | None = None

    @property
    def pk(self) -> UUID:
        return self.id

    @property
    def is_folder(self) -> bool:
        return self.content_type == FOLDER_CONTENT_TYPE


def _uuid(value: Any) -> UUID | None:
    if value is None or isinstance(value, UUID):
        return value
    return UUID(value)


def _datetime(value: Any) -> dt.datetime:
    # SQLite hands back ISO text, PostgreSQL an aware datetime; either way UTC-aware out.
    parsed = value if isinstance(value, dt.datetime) else dt.datetime.fromisoformat(value)
    return parsed.replace(tzinfo=dt.UTC) if parsed.tzinfo is None else parsed


_metadata = Asset._meta.fields_map["metadata"].to_python_value
_tags = Asset._meta.fields_map["tags"].to_python_value
_media = Asset._meta.fields_map["media"].to_python_value


def to_record(row: dict[str, Any]) -> AssetRecord:
    return AssetRecord(
        id=_uuid(row["id"]),  # type: ignore[arg-type]
        owner_id=_uuid(row["owner_id"]),  # type: ignore[arg-type]
        name=row["name"],
        content_type=row["content_type"],
        size=row["size"],
        sha256=row["sha256"],
        node_id=row["node_id"],
        job_id=row["job_id"],
        workflow_id=row["workflow_id"],
        parent_id=_uuid(row["parent_id"]),
        metadata=_metadata(row["metadata"]),
        created_at=_datetime(row["created_at"]),
        updated_at=_datetime(row["updated_at"]),
        tags=_tags(row["tags"]),
        media=_media(row["media"]),
        expires_at=None if row["expires_at"] is None else _datetime(row["expires_at"]),
    )


async def fetch_asset_records(queryset: QuerySet[Asset]) -> list[AssetRecord]:
    """The rows of an asset query (filters, order and limit as given) as records."""
    # What awaiting the query does (every column, as its prebuilt model select), minus
    # building a model per row: the rows come back as dicts keyed by column name.
    query = queryset._clone()
    query._choose_db_if_not_chosen()
    query._make_query()
    rows = await query._db.execute_query_dict(*query.query.get_parameterized_sql())
    return [to_record(row) for row in rows]
