"""Image filter nodes (Pillow's ImageFilter): blurs, rank filters and convolution kernels, in
`image.*`. Transparency is kept; palette images are filtered in RGB."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, ClassVar

from PIL import Image, ImageFilter
from pydantic import AfterValidator, Field

from execution.nodes.image import ImageTransform, keep_alpha


def _odd(value: int) -> int:
    if value % 2 == 0:
        raise ValueError(f"the size must be odd (3, 5, 7...), not {value}")
    return value


WindowSize = Annotated[int, Field(ge=3, le=15, description="odd: 3, 5, 7..."), AfterValidator(_odd)]
Radius = Annotated[float, Field(ge=0, le=100)]


class _Kernel(ImageTransform):
    """A fixed 3x3 Pillow kernel."""

    _abstract = True
    kernel: ClassVar[type[ImageFilter.BuiltinFilter]]

    def transform(self, image: Image.Image) -> Image.Image:
        return keep_alpha(image, lambda rgb: rgb.filter(self.kernel))


class BoxBlur(ImageTransform):
    """Blur by averaging each pixel with its neighbours within `radius` pixels (flat, fast)."""

    radius: Radius = 2.0

    def transform(self, image: Image.Image) -> Image.Image:
        return keep_alpha(image, lambda rgb: rgb.filter(ImageFilter.BoxBlur(self.radius)))


class _Rank(ImageTransform):
    _abstract = True
    rank: ClassVar[Callable[[int], ImageFilter.Filter]]
    size: WindowSize = 3

    def transform(self, image: Image.Image) -> Image.Image:
        make = type(self).rank
        return keep_alpha(image, lambda rgb: rgb.filter(make(self.size)))


class MedianFilter(_Rank):
    """Each pixel becomes the median of its `size` x `size` neighbourhood: removes speckle
    noise while keeping edges."""

    rank = ImageFilter.MedianFilter


class MinFilter(_Rank):
    """Each pixel becomes the darkest of its `size` x `size` neighbourhood (erodes light areas)."""

    rank = ImageFilter.MinFilter


class MaxFilter(_Rank):
    """Each pixel becomes the lightest of its `size` x `size` neighbourhood (grows light areas)."""

    rank = ImageFilter.MaxFilter


class ModeFilter(_Rank):
    """Each pixel becomes the most common value of its `size` x `size` neighbourhood."""

    rank = ImageFilter.ModeFilter


class UnsharpMask(ImageTransform):
    """Sharpen by adding back the difference from a blurred copy: `radius` of the blur,
    `percent` of the difference, and only where it exceeds `threshold` levels."""

    radius: Radius = 2.0
    percent: Annotated[int, Field(ge=0, le=1000)] = 150
    threshold: Annotated[int, Field(ge=0, le=255)] = 3

    def transform(self, image: Image.Image) -> Image.Image:
        mask = ImageFilter.UnsharpMask(self.radius, self.percent, self.threshold)
        return keep_alpha(image, lambda rgb: rgb.filter(mask))


class Sharpen(_Kernel):
    """A fixed 3x3 sharpening kernel."""

    kernel = ImageFilter.SHARPEN


class Emboss(_Kernel):
    """Relief: edges raised in grey, as if pressed into metal."""

    kernel = ImageFilter.EMBOSS


class Contour(_Kernel):
    """Outlines: dark lines along edges on white."""

    kernel = ImageFilter.CONTOUR


class FindEdges(_Kernel):
    """Edges light on black (a Laplacian-style kernel)."""

    kernel = ImageFilter.FIND_EDGES


class Detail(_Kernel):
    """Bring out fine detail (a mild sharpening kernel)."""

    kernel = ImageFilter.DETAIL


class EdgeEnhance(ImageTransform):
    """Strengthen edges; `strong` uses the heavier kernel."""

    strong: bool = False

    def transform(self, image: Image.Image) -> Image.Image:
        kernel = ImageFilter.EDGE_ENHANCE_MORE if self.strong else ImageFilter.EDGE_ENHANCE
        return keep_alpha(image, lambda rgb: rgb.filter(kernel))


class Smooth(ImageTransform):
    """Soften noise with a 3x3 (or, `strong`, 5x5) smoothing kernel."""

    strong: bool = False

    def transform(self, image: Image.Image) -> Image.Image:
        kernel = ImageFilter.SMOOTH_MORE if self.strong else ImageFilter.SMOOTH
        return keep_alpha(image, lambda rgb: rgb.filter(kernel))
