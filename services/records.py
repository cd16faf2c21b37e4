"""Light records for list pages: rows straight from the driver, parsed cheaply.

A page of 50 ORM objects costs more than the SQL that fetched it: Tortoise builds each model
through `_init_from_db`, parses every timestamp with `iso8601` and converts every id. Readers
that only serialise a page (the GraphQL and REST list endpoints) get `AssetRecord`s instead:
the same attribute names and values as `models.Asset` (the tests compare them field by
field on both databases), made from the driver's rows; each column is converted
(`datetime.fromisoformat`, `UUID()`, JSON) only when it is first read. Anything that
changes an asset still loads the model.
"""

import datetime as dt
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


_UNREAD: Any = object()


class AssetRecord:
    """A read-only `models.Asset` as far as reading goes (no relations, no saving).

    Only the columns that need no conversion are read when the row arrives; ids, JSON
    columns and timestamps are converted the first time they are read (a GraphQL page
    usually asks for a few of them, never for every one). `id_text` is the id as the
    response writes it, without a round trip through `UUID`.
    """

    __slots__ = (
        "_created_at",
        "_expires_at",
        "_id",
        "_media",
        "_metadata",
        "_owner_id",
        "_parent_id",
        "_tags",
        "_updated_at",
        "content_type",
        "id_text",
        "job_id",
        "name",
        "node_id",
        "sha256",
        "size",
        "workflow_id",
    )

    def __init__(self, row: dict[str, Any]) -> None:
        raw_id = row["id"]
        if type(raw_id) is str:  # SQLite: text; PostgreSQL: already a UUID
            self.id_text = raw_id
            self._id = None
        else:
            self.id_text = str(raw_id)
            self._id = raw_id
        self._owner_id = row["owner_id"]
        self.name = row["name"]
        self.content_type = row["content_type"]
        self.size = row["size"]
        self.sha256 = row["sha256"]
        self.node_id = row["node_id"]
        self.job_id = row["job_id"]
        self.workflow_id = row["workflow_id"]
        self._parent_id = row["parent_id"]
        self._metadata = row["metadata"]
        self._created_at = row["created_at"]
        self._updated_at = row["updated_at"]
        self._tags = row["tags"]
        self._media = row["media"]
        self._expires_at = row["expires_at"]

    @property
    def id(self) -> UUID:
        value = self._id
        if value is None:
            value = self._id = UUID(self.id_text)
        return value

    @property
    def pk(self) -> UUID:
        return self.id

    @property
    def owner_id(self) -> UUID:
        return self._uuid("_owner_id")  # type: ignore[return-value]

    @property
    def parent_id(self) -> UUID | None:
        return self._uuid("_parent_id")

    @property
    def created_at(self) -> dt.datetime:
        return self._timestamp("_created_at")  # type: ignore[return-value]

    @property
    def updated_at(self) -> dt.datetime:
        return self._timestamp("_updated_at")  # type: ignore[return-value]

    @property
    def expires_at(self) -> dt.datetime | None:
        return self._timestamp("_expires_at")

    # Each conversion replaces the raw value in its slot, so a second read costs nothing.

    def _uuid(self, slot: str) -> UUID | None:
        value = getattr(self, slot)
        if value is not None and not isinstance(value, UUID):
            value = UUID(value)
            setattr(self, slot, value)
        return value

    def _timestamp(self, slot: str) -> dt.datetime | None:
        value = getattr(self, slot)
        if value is not None and (type(value) is not dt.datetime or value.tzinfo is None):
            value = _datetime(value)
            setattr(self, slot, value)
        return value

    @property
    def metadata(self) -> Any:
        return self._json("_metadata", _metadata)

    @property
    def tags(self) -> list[str] | None:
        return self._json("_tags", _tags)

    @property
    def media(self) -> dict[str, Any] | None:
        return self._json("_media", _media)

    def _json(self, slot: str, convert: Any) -> Any:
        # A converted value is kept as `(value,)`: JSON text is never a tuple, and the
        # value itself may be None or a string.
        raw = getattr(self, slot)
        if type(raw) is tuple:
            return raw[0]
        value = convert(raw)
        setattr(self, slot, (value,))
        return value

    @property
    def is_folder(self) -> bool:
        return self.content_type == FOLDER_CONTENT_TYPE


def _datetime(value: Any) -> dt.datetime:
    # SQLite hands back ISO text, PostgreSQL an aware datetime; either way UTC-aware out.
    parsed = value if isinstance(value, dt.datetime) else dt.datetime.fromisoformat(value)
    return parsed.replace(tzinfo=dt.UTC) if parsed.tzinfo is None else parsed


_metadata = Asset._meta.fields_map["metadata"].to_python_value
_tags = Asset._meta.fields_map["tags"].to_python_value
_media = Asset._meta.fields_map["media"].to_python_value


async def fetch_asset_records(queryset: QuerySet[Asset]) -> list[AssetRecord]:
    """The rows of an asset query (filters, order and limit as given) as records."""
    # What awaiting the query does (every column, as its prebuilt model select), minus
    # building a model per row: the rows come back as dicts keyed by column name.
    query = queryset._clone()
    query._choose_db_if_not_chosen()
    query._make_query()
    rows = await query._db.execute_query_dict(*query.query.get_parameterized_sql())
    return [AssetRecord(row) for row in rows]
