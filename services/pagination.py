"""Keyset pagination over (sort key, id) with opaque cursors.

A page after a cursor is one index range scan, so the 1000th page costs what the first does.
"""

import base64
import binascii
import json
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Generic, TypeVar
from uuid import UUID

from tortoise.expressions import Q
from tortoise.queryset import QuerySet

from services.errors import InvalidInput
from services.validation import text_problem

T = TypeVar("T")
MAX_PAGE_SIZE = 100
DEFAULT_PAGE_SIZE = 50


@dataclass(frozen=True)
class Ordering:
    name: str
    # None means the id alone orders the rows (UUIDv7 ids sort by creation time).
    key: str | None
    descending: bool
    key_is_datetime: bool = False
    # What the key column holds (str or int), so a forged cursor cannot reach the database
    # with a value of another type.
    key_type: type = str
    # Asset and workflow ids are UUIDs; job ids are caller-chosen strings.
    pk_is_uuid: bool = True


class Cursors(Sequence[str]):
    """The cursor of each row of a page, encoded when first read: most readers want only
    the last one (`endCursor`, REST's `next`), not one per row."""

    __slots__ = ("_encoded", "_ordering", "_rows")

    def __init__(self, ordering: "Ordering", rows: Sequence[Any]) -> None:
        self._ordering = ordering
        self._rows = rows
        self._encoded: list[str | None] = [None] * len(rows)

    def __len__(self) -> int:
        return len(self._rows)

    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        cursor = self._encoded[index]
        if cursor is None:
            cursor = self._encoded[index] = encode_cursor(self._ordering, self._rows[index])
        return cursor

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Sequence) and list(self) == list(other)

    def __repr__(self) -> str:
        return f"Cursors({list(self)!r})"


@dataclass
class Page(Generic[T]):
    items: list[T]
    cursors: Sequence[str]
    has_next_page: Callable[[], Awaitable[bool]]
    has_previous_page: Callable[[], Awaitable[bool]]
    total_count: Callable[[], Awaitable[int]]


def _resolved(value: bool) -> Callable[[], Awaitable[bool]]:
    async def answer() -> bool:
        return value

    return answer


def encode_cursor(ordering: Ordering, row: Any) -> str:
    pk = row.pk
    if ordering.key is None and isinstance(pk, UUID):
        # Neither the ordering's name nor a UUID needs JSON escaping: format directly (a
        # page encodes one cursor per row). Job ids are free text and take json.dumps.
        payload = f'["{ordering.name}","{pk}"]'
        return base64.urlsafe_b64encode(payload.encode()).decode().rstrip("=")
    key = [] if ordering.key is None else [getattr(row, ordering.key)]
    if ordering.key_is_datetime:
        key = [value.isoformat() for value in key]
    payload = json.dumps([ordering.name, *key, str(row.pk)], separators=(",", ":"))
    return base64.urlsafe_b64encode(payload.encode()).decode().rstrip("=")


def decode_cursor(ordering: Ordering, cursor: str) -> tuple[Any, str]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        payload = json.loads(raw)
    except (binascii.Error, ValueError, UnicodeDecodeError, RecursionError) as error:
        raise InvalidInput("Malformed cursor") from error
    expected = 2 if ordering.key is None else 3
    if not isinstance(payload, list) or len(payload) != expected or payload[0] != ordering.name:
        raise InvalidInput("Malformed cursor, or a cursor from a different ordering")
    *key, pk = payload[1:]
    return (_cursor_key(ordering, key[0]) if key else None), _cursor_pk(ordering, pk)


def _cursor_pk(ordering: Ordering, pk: Any) -> str:
    if not isinstance(pk, str) or text_problem(pk) or len(pk) > 255:
        raise InvalidInput("Malformed cursor")
    if ordering.pk_is_uuid:
        try:
            UUID(pk)
        except ValueError as error:
            raise InvalidInput("Malformed cursor") from error
    return pk


def _cursor_key(ordering: Ordering, value: Any) -> Any:
    if ordering.key_is_datetime:
        if not isinstance(value, str):
            raise InvalidInput("Malformed cursor")
        try:
            parsed = datetime.fromisoformat(value)
        except (TypeError, ValueError) as error:
            raise InvalidInput("Malformed cursor") from error
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    if ordering.key_type is int:
        if isinstance(value, bool) or not isinstance(value, int) or abs(value) >= 1 << 63:
            raise InvalidInput("Malformed cursor")
        return value
    if not isinstance(value, str) or text_problem(value):
        raise InvalidInput("Malformed cursor")
    return value


def validate_page_size(name: str, value: int | None) -> None:
    if value is not None and not 0 <= value <= MAX_PAGE_SIZE:
        raise InvalidInput(f"`{name}` must be between 0 and {MAX_PAGE_SIZE}")


def _beyond(ordering: Ordering, key_value: Any, pk: str, *, forward: bool) -> Q:
    """Rows strictly past the cursor in the given direction of the ordering."""
    ascending = ordering.descending != forward
    op = "lt" if not ascending else "gt"
    if ordering.key is None:
        return Q(**{f"id__{op}": pk})
    return Q(**{f"{ordering.key}__{op}": key_value}) | Q(
        **{ordering.key: key_value, f"id__{op}": pk}
    )


def _order_by(ordering: Ordering, *, forward: bool) -> list[str]:
    descending = ordering.descending == forward
    prefix = "-" if descending else ""
    keys = [] if ordering.key is None else [ordering.key]
    return [f"{prefix}{k}" for k in [*keys, "id"]]


@dataclass(frozen=True)
class PageBounds:
    """Which rows one page fetches: past the cursors, in the ordering, at most `limit`."""

    ordering: Ordering
    after: tuple[Any, str] | None
    before: tuple[Any, str] | None
    forward: bool
    limit: int  # rows to fetch: the page size plus one, to tell whether more follow

    def apply(self, queryset: QuerySet[Any]) -> QuerySet[Any]:
        bounded = queryset
        if self.after:
            bounded = bounded.filter(_beyond(self.ordering, *self.after, forward=True))
        if self.before:
            bounded = bounded.filter(_beyond(self.ordering, *self.before, forward=False))
        return bounded.order_by(*_order_by(self.ordering, forward=self.forward)).limit(self.limit)

    @property
    def shape(self) -> tuple[Any, ...]:
        """Everything about the page's SQL but its values (services/statements.py)."""
        return (self.ordering.name, self.forward, self.after is not None, self.before is not None)

    def values(self) -> list[Any]:
        """The values the page's SQL carries, as canonical objects (ids as UUIDs)."""
        values: list[Any] = []
        for cursor in (self.after, self.before):
            if cursor is not None:
                key, pk = cursor
                if self.ordering.key is not None:
                    values.append(key)
                values.append(UUID(pk) if self.ordering.pk_is_uuid else pk)
        return [*values, self.limit]

    def with_values(self, values: Sequence[Any]) -> "PageBounds":
        """These bounds carrying other `values` (of the same shape)."""
        remaining = list(values)
        cursors: list[tuple[Any, str] | None] = []
        for cursor in (self.after, self.before):
            if cursor is None:
                cursors.append(None)
                continue
            key = remaining.pop(0) if self.ordering.key is not None else None
            cursors.append((key, remaining.pop(0)))
        return PageBounds(self.ordering, cursors[0], cursors[1], self.forward, remaining.pop(0))


async def paginate(
    queryset: QuerySet[Any],
    ordering: Ordering,
    *,
    first: int | None,
    after: str | None,
    last: int | None,
    before: str | None,
    fetch: Callable[[QuerySet[Any], PageBounds], Awaitable[Sequence[Any]]] | None = None,
) -> Page[Any]:
    """One page of `queryset`; `fetch` gets the page's rows (default: as models)."""
    validate_page_size("first", first)
    validate_page_size("last", last)
    if first is not None and last is not None:
        raise InvalidInput("Pass either `first` or `last`, not both")
    after_key = decode_cursor(ordering, after) if after else None
    before_key = decode_cursor(ordering, before) if before else None
    base = queryset

    forward = last is None
    requested = first if forward else last
    limit = DEFAULT_PAGE_SIZE if requested is None else requested
    rows: Sequence[Any] = []
    if limit > 0:
        bounds = PageBounds(ordering, after_key, before_key, forward, limit + 1)
        rows = await (fetch(base, bounds) if fetch is not None else bounds.apply(base))
    more = len(rows) > limit
    rows = list(rows[:limit])
    if not forward:
        rows.reverse()

    async def exists_beyond(cursor: tuple[Any, str] | None, *, forward_side: bool) -> bool:
        if cursor is None:
            return False
        return await base.filter(_beyond(ordering, *cursor, forward=forward_side)).exists()

    if forward:
        has_next = _resolved(more)

        async def has_previous() -> bool:
            return await exists_beyond(after_key, forward_side=False)

        has_prev: Callable[[], Awaitable[bool]] = has_previous
    else:
        has_prev = _resolved(more)

        async def has_following() -> bool:
            return await exists_beyond(before_key, forward_side=True)

        has_next = has_following

    async def total() -> int:
        return await base.count()

    return Page(
        items=rows,
        cursors=Cursors(ordering, rows),
        has_next_page=has_next,
        has_previous_page=has_prev,
        total_count=total,
    )
