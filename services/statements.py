"""Parameterized SQL remembered per query shape, so a hot listing skips Tortoise's compiler.

Tortoise composes a query's SQL on every execution: for a page of assets, cloning the
queryset, resolving the filters and pypika rendering the statement cost about 0.1 ms,
more than SQLite takes to run it. A listing has few shapes (which filters are set, the
ordering, the direction, whether a cursor bounds it) and many values, so this module lets
Tortoise compile each shape once and then only fills in the values.

It learns a shape by building the query three times through the caller's own builder:
twice with marker values (distinct, of the real values' types) and once with the real
values. The SQL text must be the same every time, and every parameter must be one of the
values, as given or converted the way the driver saw it (a UUID as text, say); the
mapping learnt from the markers must then reproduce the real values' parameters exactly.
A shape that fails any of this (a LIKE pattern built from a value, a value that changes
the SQL) is remembered as not cacheable and always built by Tortoise, as before.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID, uuid4

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.models import Model
from tortoise.queryset import QuerySet

# How a parameter is made from its value: as given, as text, or a UUID parsed from text.
_CONVERSIONS: tuple[Callable[[Any], Any], ...] = (lambda value: value, str, UUID)
_counter = itertools.count(1)


@dataclass(frozen=True)
class _Statement:
    sql: str
    # Per parameter: (index into the values, conversion), or (-1, constant).
    parameters: tuple[tuple[int, Any], ...]

    def bind(self, values: Sequence[Any]) -> list[Any]:
        return [
            constant_or_convert if index < 0 else constant_or_convert(values[index])
            for index, constant_or_convert in self.parameters
        ]


_NOT_CACHEABLE = _Statement("", ())


def _marker(value: Any) -> Any:
    """A value of the same kind as `value` that no real query carries."""
    n = next(_counter)
    if isinstance(value, UUID):
        return uuid4()
    if isinstance(value, bool):
        raise TypeError("a flag changes the SQL: make it part of the shape")
    if isinstance(value, int):
        return 900_000_000 + n
    if isinstance(value, dt.datetime):
        return dt.datetime(2001, 1, 1, tzinfo=dt.UTC) + dt.timedelta(seconds=n)
    if isinstance(value, str):
        try:
            UUID(value)
        except ValueError:
            # Shaped like the value where shape matters to a builder (a MIME type).
            return f"x-trove-marker/{n}" if "/" in value else f"trove-statement-marker-{n}"
        return str(uuid4())
    raise TypeError(f"no marker for {type(value).__name__}")


def _compile(query: QuerySet[Any]) -> tuple[BaseDBAsyncClient, str, list[Any]]:
    query = query._clone()
    query._choose_db_if_not_chosen()
    query._make_query()
    sql, parameters = query.query.get_parameterized_sql()
    return query._db, sql, list(parameters)


def _learn(build: Callable[[Sequence[Any]], QuerySet[Any]], values: Sequence[Any]) -> _Statement:
    try:
        markers = [[_marker(value) for value in values] for _ in range(2)]
    except TypeError:
        return _NOT_CACHEABLE
    compiled = [_compile(build(marker_values))[1:] for marker_values in markers]
    (sql_a, params_a), (sql_b, params_b) = compiled
    _, sql, real = _compile(build(values))
    if not (sql == sql_a == sql_b and len(real) == len(params_a) == len(params_b)):
        return _NOT_CACHEABLE
    mapping: list[tuple[int, Any]] = []
    for position, (param_a, param_b) in enumerate(zip(params_a, params_b, strict=True)):
        found = _source(param_a, param_b, markers)
        if found is None:
            if param_a != param_b or real[position] != param_a:
                return _NOT_CACHEABLE
            found = (-1, param_a)  # a constant of the shape (e.g. a fixed content type)
        mapping.append(found)
    statement = _Statement(sql, tuple(mapping))
    bound = statement.bind(values)
    if bound != real or [type(p) for p in bound] != [type(p) for p in real]:
        return _NOT_CACHEABLE
    return statement


def _source(param_a: Any, param_b: Any, markers: list[list[Any]]) -> tuple[int, Any] | None:
    for index, (marker_a, marker_b) in enumerate(zip(*markers, strict=True)):
        for convert in _CONVERSIONS:
            try:
                if (
                    convert(marker_a) == param_a
                    and convert(marker_b) == param_b
                    and type(convert(marker_a)) is type(param_a)
                ):
                    return index, convert
            except (TypeError, ValueError, AttributeError):
                continue
    return None


class StatementCache:
    """The SQL of each query shape of one model, learnt once (see the module's docstring)."""

    def __init__(self, model: type[Model], max_shapes: int = 512) -> None:
        self._model = model
        self._statements: dict[Hashable, _Statement] = {}
        self._max_shapes = max_shapes

    async def rows(
        self,
        shape: Hashable,
        build: Callable[[Sequence[Any]], QuerySet[Any]],
        values: Sequence[Any],
    ) -> list[dict[str, Any]]:
        """The rows of `build(values)`, as dicts keyed by column name.

        `shape` must name everything about the query except `values`: two calls with the
        same shape must build the same SQL for any values.
        """
        statement = self._statements.get(shape)
        if statement is None:
            if len(self._statements) >= self._max_shapes:
                self._statements.clear()
            statement = self._statements[shape] = _learn(build, values)
        if statement is _NOT_CACHEABLE:
            db, sql, parameters = _compile(build(values))
        else:
            # The connection a queryset would choose now (a transaction's, inside one).
            db, sql, parameters = self._model._choose_db(), statement.sql, statement.bind(values)
        return list(await db.execute_query_dict(sql, parameters))
