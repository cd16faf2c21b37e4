"""JSON from clients, parsed strictly: valid UTF-8, no lone surrogates, bounded nesting, no
NaN/Infinity, integers exact. Anything else is the client's error (400), never a crash
further in (a RecursionError, an encoder or a database driver refusing it). Whether an
integer is in range is for what receives it: GraphQL's Int, our BigInt and JSON scalars and
the services each say so with their own message."""

import json
import re
from typing import Any

import orjson

from services.errors import InvalidInput

# orjson reads integers past 64 bits as floats, silently rounding them; a run of this many
# digits is the only way to write one, so only then is the body read again, exactly.
_LONG_DIGITS = re.compile(rb"\d{20,}")


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
        # orjson has already checked everything else (and the nesting depth).
        value = json.loads(data)
    return value
