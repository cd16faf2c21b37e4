"""Metadata containment search: "assets whose metadata contains this JSON object".

The meaning is PostgreSQL's `jsonb @> jsonb`: an object contains another when it has every
key of it with a containing value; an array contains another when every element of the other
is contained by one of its elements; scalars contain only an equal scalar (numbers compare by
value, so 1 matches 1.0; true is not 1). PostgreSQL evaluates it with `@>` (GIN-indexed);
SQLite gets the same predicate compiled to json_type / json_each. `contains` is the reference
the property test holds both databases to.
"""

from __future__ import annotations

import itertools
import json
from typing import Any

from pypika_tortoise.context import SqlContext
from pypika_tortoise.terms import Criterion
from tortoise.expressions import Q
from tortoise.query_utils import QueryModifier

from services.errors import InvalidInput

MAX_QUERY_BYTES = 16 * 1024
MAX_QUERY_DEPTH = 16


def contains(document: Any, query: Any) -> bool:
    """Whether `document` contains `query`, exactly as PostgreSQL's jsonb `@>` decides."""
    if isinstance(query, dict):
        return isinstance(document, dict) and all(
            key in document and contains(document[key], value) for key, value in query.items()
        )
    if isinstance(query, list):
        return isinstance(document, list) and all(
            any(contains(candidate, element) for candidate in document) for element in query
        )
    if query is None or isinstance(query, bool):
        return document is query
    if isinstance(query, int | float):
        return (
            isinstance(document, int | float)
            and not isinstance(document, bool)
            and document == query
        )
    return isinstance(query, str) and isinstance(document, str) and document == query


def validated_query(query: Any) -> dict[str, Any]:
    if not isinstance(query, dict):
        raise InvalidInput('`metadata` must be a JSON object, e.g. {"seed": 42}')
    try:
        encoded = json.dumps(query, allow_nan=False)
    except (TypeError, ValueError) as error:
        raise InvalidInput("`metadata` must be JSON") from error
    if len(encoded) > MAX_QUERY_BYTES:
        raise InvalidInput(f"The `metadata` filter is larger than {MAX_QUERY_BYTES} bytes")
    if _depth(query) > MAX_QUERY_DEPTH:
        raise InvalidInput(f"The `metadata` filter nests deeper than {MAX_QUERY_DEPTH} levels")
    return query


def _depth(value: Any) -> int:
    if isinstance(value, dict):
        return 1 + max((_depth(v) for v in value.values()), default=0)
    if isinstance(value, list):
        return 1 + max((_depth(v) for v in value), default=0)
    return 0


def containment(query: dict[str, Any], *, dialect: str, column: str = "metadata") -> Q:
    """A filter for `Asset` rows whose `column` contains `query`."""
    query = validated_query(query)
    if dialect == "postgres":
        # The query as a value, encoded by the column's field (models/json_value.py).
        lookup: dict[str, Any] = {f"{column}__contains": query}
        return Q(**lookup)
    return _RawQ(_SqliteContainment(query, column))


class _SqliteContainment(Criterion):
    """The containment predicate as SQLite SQL; values are bound as parameters."""

    def __init__(self, query: dict[str, Any], column: str) -> None:
        super().__init__()
        self.query = query
        self.column = column

    def get_sql(self, ctx: SqlContext) -> str:
        from pypika_tortoise.terms import ValueWrapper

        aliases = itertools.count()

        def bind(value: Any) -> str:
            return str(ValueWrapper(value).get_sql(ctx))

        def match(query: Any, type_sql: str, value_sql: str, json_sql: str) -> str:
            if isinstance(query, dict):
                parts = [f"{type_sql} = 'object'"]
                for key, value in query.items():
                    alias = f"_m{next(aliases)}"
                    # Parameters are numbered in the order they are bound: key first.
                    key_sql = bind(key)
                    inner = match(value, f"{alias}.type", f"{alias}.value", f"{alias}.value")
                    parts.append(
                        f"EXISTS (SELECT 1 FROM json_each({_container(type_sql, json_sql)}) "
                        f"AS {alias} WHERE {alias}.key = {key_sql} AND {inner})"
                    )
                return "(" + " AND ".join(parts) + ")"
            if isinstance(query, list):
                parts = [f"{type_sql} = 'array'"]
                for element in query:
                    alias = f"_m{next(aliases)}"
                    inner = match(element, f"{alias}.type", f"{alias}.value", f"{alias}.value")
                    parts.append(
                        f"EXISTS (SELECT 1 FROM json_each({_container(type_sql, json_sql)}) "
                        f"AS {alias} WHERE {inner})"
                    )
                return "(" + " AND ".join(parts) + ")"
            if query is None:
                return f"{type_sql} = 'null'"
            if query is True:
                return f"{type_sql} = 'true'"
            if query is False:
                return f"{type_sql} = 'false'"
            if isinstance(query, int | float):
                return f"({type_sql} IN ('integer', 'real') AND {value_sql} = {bind(query)})"
            return f"({type_sql} = 'text' AND {value_sql} = {bind(str(query))})"

        column = f'"{self.column}"'
        # A NULL column has a NULL json_type, so it never matches.
        return match(self.query, f"json_type({column})", f"json_extract({column}, '$')", column)


def _container(type_sql: str, json_sql: str) -> str:
    # json_each must never see a scalar's text (it is not JSON): only containers reach it.
    return f"CASE WHEN {type_sql} IN ('object', 'array') THEN {json_sql} ELSE '[]' END"


class _RawQ(Q):
    """A Q whose condition is a prebuilt criterion (Tortoise has no public hook for one)."""

    def __init__(self, criterion: Criterion) -> None:
        super().__init__()
        self.criterion = criterion

    def resolve(self, resolve_context: Any) -> QueryModifier:
        modifier = QueryModifier(where_criterion=self.criterion)
        if self._is_negated:
            modifier = ~modifier
        return modifier
