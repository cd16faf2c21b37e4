"""Image nodes (Pillow): making, resizing, placing and combining images.

Colour adjustments live in `image_color.py` and convolution filters in `image_filter.py`,
all in the `image` namespace. Transforms keep their source's format when Pillow can write it
(a JPEG stays a JPEG) and run in a worker thread.
"""

from __future__ import annotations

import asyncio
import io
import math
from collections.abc import AsyncIterator, Callable
from typing import Annotated, Literal

import numpy as np
from PIL import Image, ImageChops, ImageColor, ImageDraw, ImageFilter, ImageFont, ImageOps
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


def keep_alpha(image: Image.Image, change: Callable[[Image.Image], Image.Image]) -> Image.Image:
    """Apply an RGB-only operation, keeping the image's transparency (and greyscale mode)."""
    if image.mode in ("L", "RGB"):
        return change(image)
    if image.mode in ("LA", "RGBA", "PA", "P") and (
        "A" in image.getbands() or "transparency" in image.info
    ):
        rgba = image.convert("RGBA")
        changed = change(rgba.convert("RGB")).convert("RGB")
        changed.putalpha(rgba.getchannel("A"))
        return changed
    return change(image.convert("RGB"))


Resample = Literal["nearest", "bilinear", "bicubic", "lanczos"]
RESAMPLING = {
    "nearest": Image.Resampling.NEAREST,
    "bilinear": Image.Resampling.BILINEAR,
    "bicubic": Image.Resampling.BICUBIC,
    "lanczos": Image.Resampling.LANCZOS,
}


class ImageTransform(BaseNode):
    """One image in, one image out: subclasses implement `transform` (run in a thread)."""

    _abstract = True
    _auto_save_asset = True
    _namespace = "image"

    image: ImageRef

    def transform(self, image: Image.Image) -> Image.Image:
        raise NotImplementedError

    async def process(self, context: ProcessingContext) -> ImageRef:
        return await _transformed(context, self.image, self.transform)


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
    """Gaussian blur of `radius` pixels (the GaussianBlur of other node libraries)."""

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


class Scale(ImageTransform):
    """Resize by a factor, keeping the aspect ratio (0.5 halves each side)."""

    factor: Annotated[float, Field(gt=0, le=16)] = 0.5
    resample: Resample = "lanczos"

    def transform(self, image: Image.Image) -> Image.Image:
        width = max(1, round(image.width * self.factor))
        height = max(1, round(image.height * self.factor))
        if width > MAX_SIDE or height > MAX_SIDE:
            raise ValueError(f"the result would be {width}x{height}, over {MAX_SIDE} a side")
        return image.resize((width, height), RESAMPLING[self.resample])


class Fit(ImageTransform):
    """Fit into a `width` x `height` box, keeping the aspect ratio.

    `contain`: the whole image, as large as fits (may be smaller than the box);
    `cover`: fill the box, cropping what sticks out (around the centre);
    `pad`: the whole image centred on a box-sized canvas of `color`.
    """

    width: Side = 256
    height: Side = 256
    mode: Literal["contain", "cover", "pad"] = "contain"
    color: Color = "#000000"

    def transform(self, image: Image.Image) -> Image.Image:
        size = (self.width, self.height)
        method = Image.Resampling.LANCZOS
        if self.mode == "contain":
            return ImageOps.contain(image, size, method)
        if self.mode == "cover":
            return ImageOps.fit(image, size, method)
        if image.mode not in ("RGB", "RGBA", "L"):
            image = image.convert("RGBA")
        return ImageOps.pad(image, size, method, color=self.color)


class Rotate(ImageTransform):
    """Rotate counter-clockwise by `angle` degrees; `expand` grows the canvas to fit it all."""

    angle: Annotated[float, Field(ge=-360, le=360)] = 90.0
    expand: bool = True
    color: Color = "#00000000"

    def transform(self, image: Image.Image) -> Image.Image:
        quarter = self.angle % 360
        if self.expand and quarter in (0, 90, 180, 270):
            if quarter == 0:
                return image.copy()
            return image.transpose(QUARTER_TURNS[int(quarter)])
        wants_alpha = len(ImageColor.getrgb(self.color)) == 4
        if (wants_alpha and "A" not in image.getbands()) or image.mode not in ("RGB", "RGBA", "LA"):
            image = image.convert("RGBA")
        fill = ImageColor.getcolor(self.color, image.mode)
        return image.rotate(
            self.angle, Image.Resampling.BICUBIC, expand=self.expand, fillcolor=fill
        )


QUARTER_TURNS = {
    90: Image.Transpose.ROTATE_90,
    180: Image.Transpose.ROTATE_180,
    270: Image.Transpose.ROTATE_270,
}


class Flip(ImageTransform):
    """Mirror left-right (`horizontal`) or upside down (`vertical`)."""

    direction: Literal["horizontal", "vertical"] = "horizontal"

    def transform(self, image: Image.Image) -> Image.Image:
        if self.direction == "horizontal":
            return ImageOps.mirror(image)
        return ImageOps.flip(image)


Border = Annotated[int, Field(ge=0, le=4096)]


class Pad(ImageTransform):
    """Add a border of `color`, `left`/`top`/`right`/`bottom` pixels wide."""

    left: Border = 8
    top: Border = 8
    right: Border = 8
    bottom: Border = 8
    color: Color = "#000000"

    def transform(self, image: Image.Image) -> Image.Image:
        width = image.width + self.left + self.right
        height = image.height + self.top + self.bottom
        if width > MAX_SIDE or height > MAX_SIDE:
            raise ValueError(f"the result would be {width}x{height}, over {MAX_SIDE} a side")
        mode = "RGBA" if len(ImageColor.getrgb(self.color)) == 4 else "RGB"
        if "A" in image.getbands():
            mode = "RGBA"
        canvas = Image.new(mode, (width, height), ImageColor.getcolor(self.color, mode))
        layer = image.convert(mode)
        canvas.paste(layer, (self.left, self.top))
        return canvas


BlendMode = Literal[
    "normal", "multiply", "screen", "overlay", "darken", "lighten", "add", "subtract", "difference"
]


def _blend(base: np.ndarray, top: np.ndarray, mode: str) -> np.ndarray:
    """Separable blend modes on floats in [0, 1]."""
    if mode == "multiply":
        return base * top
    if mode == "screen":
        return 1 - (1 - base) * (1 - top)
    if mode == "overlay":
        return np.where(base < 0.5, 2 * base * top, 1 - 2 * (1 - base) * (1 - top))
    if mode == "darken":
        return np.minimum(base, top)
    if mode == "lighten":
        return np.maximum(base, top)
    if mode == "add":
        return np.minimum(base + top, 1.0)
    if mode == "subtract":
        return np.maximum(base - top, 0.0)
    if mode == "difference":
        return np.abs(base - top)
    return top


class Composite(BaseNode):
    """Lay `overlay` over `image` at (`x`, `y`) with a blend mode and `opacity`.

    Where a `mask` is given (white: overlay, black: image; stretched to the overlay's size)
    it controls where the overlay shows; the overlay's own transparency counts too.
    """

    _auto_save_asset = True

    image: ImageRef
    overlay: ImageRef
    mask: ImageRef | None = None
    mode: BlendMode = "normal"
    opacity: Annotated[float, Field(ge=0, le=1)] = 1.0
    x: int = 0
    y: int = 0

    async def process(self, context: ProcessingContext) -> ImageRef:
        overlay = await context.image_from_ref(self.overlay)
        mask = await context.image_from_ref(self.mask) if self.mask is not None else None

        def composite(image: Image.Image) -> Image.Image:
            has_alpha = "A" in image.getbands()
            base = image.convert("RGBA")
            layer = Image.new("RGBA", base.size, (0, 0, 0, 0))
            layer.paste(overlay.convert("RGBA"), (self.x, self.y))
            coverage = np.asarray(layer.getchannel("A"), dtype=np.float32) / 255
            if mask is not None:
                placed = Image.new("L", base.size, 0)
                placed.paste(mask.convert("L").resize(overlay.size), (self.x, self.y))
                coverage *= np.asarray(placed, dtype=np.float32) / 255
            coverage *= self.opacity
            below = np.asarray(base, dtype=np.float32)[..., :3] / 255
            above = np.asarray(layer, dtype=np.float32)[..., :3] / 255
            mixed = _blend(below, above, self.mode)
            out = below + (mixed - below) * coverage[..., None]
            rgb = Image.fromarray(np.round(out * 255).astype(np.uint8), "RGB")
            if has_alpha:
                rgb.putalpha(ImageChops.lighter(base.getchannel("A"), _alpha_of(coverage)))
            return rgb

        return await _transformed(context, self.image, composite)


def _alpha_of(coverage: np.ndarray) -> Image.Image:
    return Image.fromarray(np.round(coverage * 255).astype(np.uint8), "L")


class MaskFromColor(ImageTransform):
    """A black and white mask: white where a pixel is within `tolerance` of `color`.

    Tolerance is the largest difference allowed in any of R, G and B (0 to 255).
    """

    color: Color = "#00ff00"
    tolerance: Annotated[int, Field(ge=0, le=255)] = 32
    invert: bool = False

    def transform(self, image: Image.Image) -> Image.Image:
        pixels = np.asarray(image.convert("RGB"), dtype=np.int16)
        target = np.array(ImageColor.getrgb(self.color)[:3], dtype=np.int16)
        near = np.abs(pixels - target).max(axis=2) <= self.tolerance
        if self.invert:
            near = ~near
        return Image.fromarray(np.where(near, 255, 0).astype(np.uint8), "L")


class MaskFromAlpha(ImageTransform):
    """The image's transparency as a greyscale mask (opaque: white); fully white without one."""

    invert: bool = False

    def transform(self, image: Image.Image) -> Image.Image:
        if "A" in image.getbands() or "transparency" in image.info:
            alpha = image.convert("RGBA").getchannel("A")
        else:
            alpha = Image.new("L", image.size, 255)
        return ImageOps.invert(alpha) if self.invert else alpha


class Pixelate(ImageTransform):
    """Blocks of `block` x `block` pixels, each one flat colour."""

    block: Annotated[int, Field(ge=1, le=1024)] = 8

    def transform(self, image: Image.Image) -> Image.Image:
        small = (
            max(1, math.ceil(image.width / self.block)),
            max(1, math.ceil(image.height / self.block)),
        )
        reduced = image.resize(small, Image.Resampling.BOX)
        big = reduced.resize(
            (small[0] * self.block, small[1] * self.block), Image.Resampling.NEAREST
        )
        return big.crop((0, 0, image.width, image.height))


class ConvertFormat(BaseNode):
    """Re-encode as PNG, JPEG or WebP; `quality` (1-100) applies to JPEG and lossy WebP.

    Transparency is flattened onto white for JPEG.
    """

    _auto_save_asset = True
    _title = "Convert Image Format"

    image: ImageRef
    format: Literal["png", "jpeg", "webp"] = "png"
    quality: Annotated[int, Field(ge=1, le=100)] = 90
    lossless: bool = Field(default=False, description="WebP only: lossless compression")

    async def process(self, context: ProcessingContext) -> ImageRef:
        source = await context.image_from_ref(self.image)

        def work() -> bytes:
            image = source
            if self.format == "jpeg" and image.mode not in ("RGB", "L"):
                image = media.flatten(image)
            if image.mode not in ("RGB", "RGBA", "L", "LA", "P", "1"):
                image = image.convert("RGBA")
            out = io.BytesIO()
            options: dict[str, object] = {}
            if self.format in ("jpeg", "webp"):
                options["quality"] = self.quality
            if self.format == "webp":
                options["lossless"] = self.lossless
            if self.format == "png":
                options["optimize"] = True
            image.save(out, format=self.format.upper(), **options)
            return out.getvalue()

        return ImageRef(data=await asyncio.to_thread(work))
