"""JSON from clients, parsed strictly: valid UTF-8, no lone surrogates, bounded nesting, no
NaN/Infinity, integers exact and within 64 bits. Anything else is the client's error (400),
never a crash further in (a RecursionError, an encoder or a database driver refusing it)."""

import json
import re
from typing import Any

import orjson

from services.errors import InvalidInput
from services.validation import MAX_JSON_INT, MIN_JSON_INT

# orjson reads integers past 64 bits as floats, silently rounding them; a run of this many
# digits is the only way to write one, so only then is the body read again, exactly.
_LONG_DIGITS = re.compile(rb"\d{20,}")


class _IntegerOutOfRange(ValueError):
    pass


def _exact_int(text: str) -> int:
    value = int(text)
    if not MIN_JSON_INT <= value <= MAX_JSON_INT:
        raise _IntegerOutOfRange(text if len(text) < 40 else text[:37] + "...")
    return value


def parse_json(raw: bytes | str, what: str) -> Any:
    """`raw` as a Python value, or InvalidInput naming `what` and the problem."""
    data = raw.encode("utf-8", "surrogatepass") if isinstance(raw, str) else raw
    try:
        value = orjson.loads(data)
    except orjson.JSONDecodeError as error:
        reason = str(error)
        if "depth limit" in reason:
            reason = "it is nested too deeply (more than 1024 levels)"
        raise InvalidInput(f"{what} is not valid JSON: {reason}") from None
    if _LONG_DIGITS.search(data):
        try:
            value = json.loads(data, parse_int=_exact_int)
        except _IntegerOutOfRange as error:
            raise InvalidInput(
                f"{what} has an integer outside the 64-bit range (-2^63 to 2^64-1): {error}"
            ) from None
    return value
