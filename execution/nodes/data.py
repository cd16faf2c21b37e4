"""Data nodes."""

from __future__ import annotations

import json
from typing import Annotated, Any

from pydantic import Field

from execution.context import ProcessingContext
from execution.node import BaseNode
from execution.outputs import to_json
from execution.refs import JSONRef


class ToJSON(BaseNode):
    """Any value as a JSON document (assets in it appear as {type, id, contentType})."""

    _auto_save_asset = True
    _title = "To JSON"

    value: Any = None
    indent: Annotated[int, Field(ge=0, le=8)] = 2

    async def process(self, context: ProcessingContext) -> JSONRef:
        text = json.dumps(to_json(self.value), indent=self.indent or None, ensure_ascii=False)
        return JSONRef(data=text.encode("utf-8"))
