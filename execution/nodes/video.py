"""Video nodes (PyAV, with the FFmpeg its wheels ship)."""

from __future__ import annotations

import asyncio
from typing import Annotated

from pydantic import Field

from execution import media
from execution.context import ProcessingContext
from execution.node import BaseNode
from execution.refs import ImageRef, VideoRef


class FromImages(BaseNode):
    """An H.264 MP4 showing `frames` in order, sized like the first frame."""

    _auto_save_asset = True
    _title = "Video From Images"

    frames: Annotated[list[ImageRef], Field(min_length=1, max_length=10_000)]
    fps: Annotated[float, Field(gt=0, le=120)] = 8.0

    async def process(self, context: ProcessingContext) -> VideoRef:
        images = [await context.image_from_ref(ref) for ref in self.frames]
        data = await asyncio.to_thread(media.mp4_from_images, images, fps=self.fps)
        return VideoRef(data=data)
