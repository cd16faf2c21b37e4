"""Custom scalars. A value a scalar cannot take raises GraphQLError: graphql-core reports that
as the client's error (BAD_USER_INPUT), where any other exception would be masked as an
internal one."""

import datetime as dt
from typing import Any, NewType

from graphql.error import GraphQLError
from strawberry.scalars import JSON
from strawberry.types.scalar import ScalarDefinition, scalar

from services.validation import json_problem

BigInt = NewType("BigInt", int)
MAX_BIGINT = (1 << 63) - 1


def _parse_datetime(value: Any) -> dt.datetime:
    if not isinstance(value, str):
        raise GraphQLError("DateTime must be an ISO-8601 string such as 2026-11-24T12:00:00Z")
    try:
        parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=dt.UTC)
        return parsed.astimezone(dt.UTC)
    except (ValueError, OverflowError) as error:
        raise GraphQLError(
            f"DateTime must be an ISO-8601 date and time such as 2026-11-24T12:00:00Z ({error})"
        ) from None


def _serialize_datetime(value: dt.datetime) -> str:
    if value.tzinfo is dt.UTC:  # what the database layer hands over: no conversion needed
        return value.isoformat().replace("+00:00", "Z")
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


def _parse_bigint(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise GraphQLError("BigInt must be an integer")
    if abs(value) > MAX_BIGINT:
        raise GraphQLError("BigInt must fit in 64 bits")
    return value


def _parse_json(value: Any) -> Any:
    problem = json_problem(value)
    if problem:
        raise GraphQLError(f"JSON value {problem}")
    return value


SCALAR_OVERRIDES: dict[object, ScalarDefinition] = {
    BigInt: scalar(
        name="BigInt",
        description="Integer serialized as a JSON number (byte sizes beyond 2^31).",
        serialize=int,
        parse_value=_parse_bigint,
    ),
    dt.datetime: scalar(
        name="DateTime",
        description="ISO-8601 date and time with timezone, in UTC.",
        serialize=_serialize_datetime,
        parse_value=_parse_datetime,
    ),
    JSON: scalar(
        name="JSON",
        description="The `JSON` scalar type represents JSON values as specified by "
        "[ECMA-404](https://ecma-international.org/wp-content/uploads/ECMA-404_2nd_edition_december_2017.pdf).",
        specified_by_url="https://ecma-international.org/wp-content/uploads/ECMA-404_2nd_edition_december_2017.pdf",
        serialize=lambda value: value,
        parse_value=_parse_json,
    ),
}
