"""What every value must be before it reaches a database: text both databases can store, JSON
of bounded depth whose numbers every JSON codec (and PostgreSQL's jsonb) round-trips.

SQLite would take a NUL character or a 2^70 integer where PostgreSQL refuses them with a
server error; checking here makes both databases give the caller the same clear answer.
"""

from typing import Any

from services.errors import InvalidInput

# Deeper JSON than this is no metadata or graph anyone writes by hand or by tool; it only
# makes every recursive reader (encoders, drivers, the database) work harder.
MAX_JSON_DEPTH = 64
# What 64-bit JSON codecs (and JavaScript's BigInt-free clients, to 2^53) can carry.
MIN_JSON_INT = -(1 << 63)
MAX_JSON_INT = (1 << 64) - 1


def text_problem(value: str) -> str | None:
    """Why `value` cannot be stored as text, or None when it can."""
    if "\x00" in value:
        return "contains a NUL character (\\u0000), which cannot be stored"
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return "contains a lone UTF-16 surrogate, which is not valid Unicode"
    return None


def check_text(value: str | None, what: str) -> str | None:
    if value is not None:
        problem = text_problem(value)
        if problem:
            raise InvalidInput(f"{what} {problem}")
    return value


def json_problem(value: Any, *, max_depth: int = MAX_JSON_DEPTH) -> str | None:
    """Why `value` is not storable JSON, or None. Iterative: safe on any nesting depth."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict | list):
            if depth > max_depth:
                return f"is nested too deeply (more than {max_depth} levels)"
            if isinstance(item, dict):
                for key, child in item.items():
                    if not isinstance(key, str):
                        return "has a key that is not a string"
                    problem = text_problem(key)
                    if problem:
                        return f"has a key that {problem}"
                    stack.append((child, depth + 1))
            else:
                stack.extend((child, depth + 1) for child in item)
        elif isinstance(item, str):
            problem = text_problem(item)
            if problem:
                return problem
        elif isinstance(item, bool) or item is None:
            continue
        elif isinstance(item, int):
            if not MIN_JSON_INT <= item <= MAX_JSON_INT:
                return "has an integer outside the 64-bit range (-2^63 to 2^64-1)"
        elif isinstance(item, float):
            if item != item or item in (float("inf"), float("-inf")):
                return "has a number that is not finite"
        else:
            return f"has a value of type {type(item).__name__}, which is not JSON"
    return None


def check_json(value: Any, what: str) -> Any:
    problem = json_problem(value)
    if problem:
        raise InvalidInput(f"{what} {problem}")
    return value
