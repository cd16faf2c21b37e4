"""JSON columns whose Python value is exactly what was stored, strings included.

Tortoise's JSONField takes a Python `str` to be JSON text: `Model(...)` (so `create`) passes
constructor values through `to_python_value`, which decodes them, and `to_db_value` stores a
string as the JSON it already is. So the metadata string "123" was stored as the number 123
("[1]" as a list, "true" as a boolean, "null" as JSON null), and a string that is not JSON
text ("hello") was refused with a FieldError (an internal error). Metadata is whatever JSON
value the client sent: a top-level string must stay a string.
"""

from typing import Any, TypeVar

from tortoise import fields
from tortoise.models import Model

T = TypeVar("T")


class JSONValueField(fields.JSONField[T]):
    """Encodes every value, strings too. Reading decodes the column's JSON text once, as
    JSONField does (SQLite's TEXT and asyncpg's jsonb both arrive as text)."""

    def to_db_value(self, value: Any, instance: type[Model] | Model) -> str | None:
        self.validate(value)
        if value is None:
            return None
        encoded: str = self.encoder(value)
        return encoded

    def describe(self, serializable: bool) -> dict[str, Any]:
        # The column is JSONField's own; migrations (aerich compares these descriptions)
        # must see no change.
        description: dict[str, Any] = super().describe(serializable)
        if serializable:
            description["field_type"] = fields.JSONField.__name__
        return description


class KeepsJSONValues:
    """For models with JSONValueField columns (listed first among the bases): constructor
    values of those columns are kept as given instead of being decoded as JSON text."""

    _meta: Any

    def __init__(self, **kwargs: Any) -> None:
        fields_map = self._meta.fields_map
        given = {
            name: kwargs.pop(name)
            for name in list(kwargs)
            if isinstance(fields_map.get(name), JSONValueField)
        }
        super().__init__(**kwargs)
        for name, value in given.items():
            if value is None and not fields_map[name].null:
                raise ValueError(f"{name} is non nullable field, but null was passed")
            setattr(self, name, value)
