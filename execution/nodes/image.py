"""Image nodes (Pillow). Transforms keep their source's format when Pillow can write it."""

from __future__ import annotations

import asyncio
import math
from collections.abc import AsyncIterator, Callable
from typing import Annotated

from PIL import Image, ImageColor, ImageDraw, ImageFilter, ImageFont, ImageOps
from pydantic import AfterValidator, Field

from execution import media
from execution.context import ProcessingContext
from execution.node import BaseNode
from execution.refs import ImageRef

MAX_SIDE = 8192


def _check_color(value: str) -> str:
    try:
        ImageColor.getrgb(value)
    except ValueError as error:
        raise ValueError(f"'{value}' is not a colour (try '#ff8800' or 'red')") from error
    return value


Color = Annotated[str, AfterValidator(_check_color)]
Side = Annotated[int, Field(ge=1, le=MAX_SIDE)]


def _solid(width: int, height: int, color: str) -> Image.Image:
    rgba = ImageColor.getrgb(color)
    mode = "RGBA" if len(rgba) == 4 else "RGB"
    return Image.new(mode, (width, height), rgba)


async def _transformed(
    context: ProcessingContext, ref: ImageRef, change: Callable[[Image.Image], Image.Image]
) -> ImageRef:
    source = await context.image_from_ref(ref)

    def work() -> bytes:
        return media.image_to_bytes(change(source), media.output_format(source))

    return ImageRef(data=await asyncio.to_thread(work))


class Create(BaseNode):
    """A new image filled with one colour."""

    _auto_save_asset = True
    _title = "Create Image"

    width: Side = 512
    height: Side = 512
    color: Color = "#000000"

    async def process(self, context: ProcessingContext) -> ImageRef:
        image = _solid(self.width, self.height, self.color)
        return await context.image_to_ref(image, "PNG")


class Resize(BaseNode):
    """Scale an image to exactly `width` x `height` pixels."""

    _auto_save_asset = True

    image: ImageRef
    width: Side = 256
    height: Side = 256

    async def process(self, context: ProcessingContext) -> ImageRef:
        size = (self.width, self.height)
        return await _transformed(
            context, self.image, lambda im: im.resize(size, Image.Resampling.LANCZOS)
        )


class Crop(BaseNode):
    """Cut out the `width` x `height` rectangle whose top-left corner is (`left`, `top`).

    Without a width or height the rectangle reaches the right or bottom edge.
    """

    _auto_save_asset = True

    image: ImageRef
    left: Annotated[int, Field(ge=0)] = 0
    top: Annotated[int, Field(ge=0)] = 0
    width: Side | None = None
    height: Side | None = None

    async def process(self, context: ProcessingContext) -> ImageRef:
        def crop(image: Image.Image) -> Image.Image:
            right = image.width if self.width is None else self.left + self.width
            bottom = image.height if self.height is None else self.top + self.height
            box = (self.left, self.top, right, bottom)
            inside = self.left < right <= image.width and self.top < bottom <= image.height
            if not inside:
                raise ValueError(
                    f"the crop box {box} does not fit in the {image.width}x{image.height} image"
                )
            return image.crop(box)

        return await _transformed(context, self.image, crop)


class Blur(BaseNode):
    """Gaussian blur."""

    _auto_save_asset = True

    image: ImageRef
    radius: Annotated[float, Field(ge=0, le=100)] = 2.0

    async def process(self, context: ProcessingContext) -> ImageRef:
        blur = ImageFilter.GaussianBlur(self.radius)
        return await _transformed(context, self.image, lambda im: im.filter(blur))


class Grayscale(BaseNode):
    """Shades of grey (keeps transparency)."""

    _auto_save_asset = True

    image: ImageRef

    async def process(self, context: ProcessingContext) -> ImageRef:
        def grey(image: Image.Image) -> Image.Image:
            if "A" in image.getbands():
                return image.convert("LA")
            return ImageOps.grayscale(image)

        return await _transformed(context, self.image, grey)


class Paste(BaseNode):
    """Put `overlay` on top of `image` with its top-left corner at (`x`, `y`)."""

    _auto_save_asset = True

    image: ImageRef
    overlay: ImageRef
    x: int = 0
    y: int = 0

    async def process(self, context: ProcessingContext) -> ImageRef:
        overlay = await context.image_from_ref(self.overlay)
        position = (self.x, self.y)

        def paste(image: Image.Image) -> Image.Image:
            base = image.copy()
            if "A" in overlay.getbands():
                layer = overlay.convert("RGBA")
                base = base.convert("RGBA") if "A" in base.getbands() else base.convert("RGB")
                base.paste(layer, position, layer.getchannel("A"))
            else:
                base.paste(overlay.convert(base.mode), position)
            return base

        return await _transformed(context, self.image, paste)


class Grid(BaseNode):
    """Images side by side in rows of `columns` (0: as square as possible), on `background`."""

    _auto_save_asset = True

    images: Annotated[list[ImageRef], Field(min_length=1, max_length=1024)]
    columns: Annotated[int, Field(ge=0, le=1024)] = 0
    gap: Annotated[int, Field(ge=0, le=1024)] = 0
    background: Color = "#000000"

    async def process(self, context: ProcessingContext) -> ImageRef:
        images = [await context.image_from_ref(ref) for ref in self.images]
        columns = self.columns or math.ceil(math.sqrt(len(images)))
        rows = math.ceil(len(images) / columns)
        cell_w = max(im.width for im in images)
        cell_h = max(im.height for im in images)
        width = columns * cell_w + (columns - 1) * self.gap
        height = rows * cell_h + (rows - 1) * self.gap
        if width * height > media.MAX_IMAGE_PIXELS:
            raise ValueError(f"the grid would be {width}x{height} pixels, which is too large")

        def work() -> bytes:
            canvas = _solid(width, height, self.background).convert("RGBA")
            for i, image in enumerate(images):
                column, row = i % columns, i // columns
                tile = image.convert("RGBA")
                canvas.alpha_composite(
                    tile, (column * (cell_w + self.gap), row * (cell_h + self.gap))
                )
            return media.image_to_bytes(canvas, "PNG")

        return ImageRef(data=await asyncio.to_thread(work))


class RenderText(BaseNode):
    """Text drawn centred on a plain background."""

    _auto_save_asset = True

    text: str = "Hello"
    width: Side = 512
    height: Side = 128
    font_size: Annotated[int, Field(ge=4, le=1024)] = 32
    color: Color = "#ffffff"
    background: Color = "#000000"

    async def process(self, context: ProcessingContext) -> ImageRef:
        def work() -> bytes:
            image = _solid(self.width, self.height, self.background)
            draw = ImageDraw.Draw(image)
            font = ImageFont.load_default(size=self.font_size)
            left, top, right, bottom = draw.multiline_textbbox((0, 0), self.text, font=font)
            x = (self.width - (right - left)) / 2 - left
            y = (self.height - (bottom - top)) / 2 - top
            draw.multiline_text((x, y), self.text, fill=self.color, font=font, align="center")
            return media.image_to_bytes(image, "PNG")

        return ImageRef(data=await asyncio.to_thread(work))


class Frames(BaseNode):
    """`count` frames fading from `start_color` to `end_color`, streamed one by one."""

    _auto_save_asset = True

    width: Side = 64
    height: Side = 64
    count: Annotated[int, Field(ge=1, le=1000)] = 8
    start_color: Color = "#000000"
    end_color: Color = "#ffffff"

    async def process(self, context: ProcessingContext) -> AsyncIterator[ImageRef]:
        start = ImageColor.getrgb(self.start_color)[:3]
        end = ImageColor.getrgb(self.end_color)[:3]
        for i in range(self.count):
            t = i / (self.count - 1) if self.count > 1 else 0.0
            color = tuple(round(a + (b - a) * t) for a, b in zip(start, end, strict=True))
            image = Image.new("RGB", (self.width, self.height), color)
            yield await context.image_to_ref(image, "PNG")
