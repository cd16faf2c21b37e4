import datetime as dt
from typing import Any, NewType

from strawberry.types.scalar import ScalarDefinition, scalar

BigInt = NewType("BigInt", int)


def _parse_datetime(value: Any) -> dt.datetime:
    if not isinstance(value, str):
        raise ValueError("DateTime must be an ISO-8601 string")
    parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.UTC)
    return parsed.astimezone(dt.UTC)


def _serialize_datetime(value: dt.datetime) -> str:
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


def _parse_bigint(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError("BigInt must be an integer")
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
}
