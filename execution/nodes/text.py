"""Text nodes."""

from __future__ import annotations

import asyncio
import io
import string
from typing import Any, Literal

from PIL import Image, ImageDraw, ImageFont

from execution.context import ProcessingContext
from execution.node import BaseNode
from execution.refs import DocumentRef

PAGE_SIZE = (1240, 1754)  # A4 at 150 dpi
PAGE_MARGIN = 100
LINE_HEIGHT = 34


class _PlainFields(string.Formatter):
    """`{name}` and `{name:spec}` only: no attribute or index access from a template."""

    def get_field(self, field_name: str, args: Any, kwargs: Any) -> Any:
        if not field_name.isidentifier():
            raise ValueError(f"'{{{field_name}}}' is not a plain placeholder name")
        if field_name not in kwargs:
            raise ValueError(f"the template uses '{{{field_name}}}' but no value has that name")
        return kwargs[field_name], field_name


class Format(BaseNode):
    """Fill `{name}` placeholders in `template` from `values` (connect to `values.name`)."""

    template: str = ""
    values: dict[str, Any] = {}

    async def process(self, context: ProcessingContext) -> str:
        return _PlainFields().vformat(self.template, (), self.values)


def _pdf(text: str) -> bytes:
    font = ImageFont.load_default(size=24)
    per_page = (PAGE_SIZE[1] - 2 * PAGE_MARGIN) // LINE_HEIGHT
    lines = text.splitlines() or [""]
    pages = []
    for start in range(0, len(lines), per_page):
        page = Image.new("RGB", PAGE_SIZE, "white")
        draw = ImageDraw.Draw(page)
        for row, line in enumerate(lines[start : start + per_page]):
            draw.text((PAGE_MARGIN, PAGE_MARGIN + row * LINE_HEIGHT), line, fill="black", font=font)
        pages.append(page)
    out = io.BytesIO()
    pages[0].save(out, "PDF", save_all=True, append_images=pages[1:], resolution=150)
    return out.getvalue()


class ToDocument(BaseNode):
    """Text as a Markdown, plain text or PDF document."""

    _auto_save_asset = True

    text: str = ""
    format: Literal["markdown", "plain", "pdf"] = "markdown"

    async def process(self, context: ProcessingContext) -> DocumentRef:
        if self.format == "pdf":
            return DocumentRef(data=await asyncio.to_thread(_pdf, self.text))
        content_type = "text/markdown" if self.format == "markdown" else "text/plain"
        return DocumentRef(data=self.text.encode("utf-8"), content_type=content_type)
