"""Nodes of a third-party package: an auto-saving image node and a plain value node."""

from __future__ import annotations

import asyncio

from PIL import ImageOps

from execution import BaseNode, ImageRef, ProcessingContext


class Invert(BaseNode):
    """The negative of an image."""

    _auto_save_asset = True
    _namespace = "example"

    image: ImageRef

    async def process(self, context: ProcessingContext) -> ImageRef:
        image = await context.image_from_ref(self.image)
        inverted = await asyncio.to_thread(ImageOps.invert, image.convert("RGB"))
        return await context.image_to_ref(inverted, "PNG")


class Shout(BaseNode):
    """Upper-case text."""

    _namespace = "example"

    text: str = ""

    async def process(self, context: ProcessingContext) -> str:
        return self.text.upper() + "!"
