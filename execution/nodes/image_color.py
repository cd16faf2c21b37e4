"""Image colour nodes (Pillow, numpy): enhancement, tone and colour grading, in `image.*`.

Every one of them keeps the image's transparency and runs with only `image` connected.
"""

from __future__ import annotations

import asyncio
import itertools
import re
from collections.abc import Callable
from typing import Annotated, Any, ClassVar, Literal

import numpy as np
from PIL import Image, ImageColor, ImageEnhance, ImageFilter, ImageOps
from pydantic import AfterValidator, Field, PrivateAttr, model_validator

from execution.context import ProcessingContext
from execution.nodes.image import Color, ImageTransform, keep_alpha
from execution.refs import AssetRef, ImageRef
from services.errors import InvalidInput

Factor = Annotated[float, Field(ge=0, le=10, description="1 leaves the image unchanged")]
Level = Annotated[int, Field(ge=0, le=255)]
Amount = Annotated[float, Field(ge=0, le=1)]


def _to_uint8(values: np.ndarray) -> np.ndarray:
    return np.round(np.clip(values, 0.0, 1.0) * 255).astype(np.uint8)


def numeric(change: Callable[[np.ndarray], np.ndarray]) -> Callable[[Image.Image], Image.Image]:
    """An operation on floats in [0, 1] (shape h x w x 3, or h x w for greyscale) as one on
    images."""

    def apply(image: Image.Image) -> Image.Image:
        pixels = np.asarray(image, dtype=np.float32) / 255
        return Image.fromarray(_to_uint8(change(pixels)), image.mode)

    return apply


def _rgb(image: Image.Image) -> Image.Image:
    return (
        image
        if image.mode in ("RGB", "RGBA")
        else image.convert(
            "RGBA" if "A" in image.getbands() or "transparency" in image.info else "RGB"
        )
    )


def _luma(pixels: np.ndarray) -> np.ndarray:
    return pixels @ np.array([0.299, 0.587, 0.114], dtype=np.float32)


class _Enhance(ImageTransform):
    _abstract = True
    enhancer: ClassVar[type[ImageEnhance._Enhance]]
    factor: Factor = 1.5

    def transform(self, image: Image.Image) -> Image.Image:
        enhancer = type(self).enhancer
        return keep_alpha(image, lambda rgb: enhancer(rgb).enhance(self.factor))  # type: ignore[call-arg]


class Brightness(_Enhance):
    """Brighter (`factor` > 1) or darker (< 1); 0 is black."""

    enhancer = ImageEnhance.Brightness


class Contrast(_Enhance):
    """More (`factor` > 1) or less (< 1) contrast; 0 is flat grey."""

    enhancer = ImageEnhance.Contrast


class Sharpness(_Enhance):
    """Sharper (`factor` > 1) or softer (< 1)."""

    enhancer = ImageEnhance.Sharpness
    factor: Factor = 2.0


class Saturation(_Enhance):
    """Colour saturation: more vivid (`factor` > 1) or duller (< 1); 0 is greyscale."""

    enhancer = ImageEnhance.Color


class AutoContrast(ImageTransform):
    """Stretch the tones to the full range, ignoring the darkest and lightest `cutoff` percent."""

    cutoff: Annotated[float, Field(ge=0, le=49)] = 0.0
    preserve_tone: bool = Field(default=False, description="stretch lightness, not each channel")

    def transform(self, image: Image.Image) -> Image.Image:
        return keep_alpha(
            image,
            lambda rgb: ImageOps.autocontrast(
                rgb, cutoff=self.cutoff, preserve_tone=self.preserve_tone
            ),
        )


class Equalize(ImageTransform):
    """Flatten the histogram, spreading tones evenly over the range."""

    def transform(self, image: Image.Image) -> Image.Image:
        return keep_alpha(image, ImageOps.equalize)


class Posterize(ImageTransform):
    """Fewer tones: keep `bits` bits of each channel (1 bit: two levels per channel)."""

    bits: Annotated[int, Field(ge=1, le=8)] = 4

    def transform(self, image: Image.Image) -> Image.Image:
        return keep_alpha(image, lambda rgb: ImageOps.posterize(rgb, self.bits))


class Solarize(ImageTransform):
    """Invert every tone at or above `threshold`."""

    threshold: Level = 128

    def transform(self, image: Image.Image) -> Image.Image:
        return keep_alpha(image, lambda rgb: ImageOps.solarize(rgb, self.threshold))


class Invert(ImageTransform):
    """The negative: each channel becomes 255 minus itself (transparency kept)."""

    def transform(self, image: Image.Image) -> Image.Image:
        return keep_alpha(image, ImageOps.invert)


def _to_linear(srgb: np.ndarray) -> np.ndarray:
    return np.where(srgb <= 0.04045, srgb / 12.92, ((srgb + 0.055) / 1.055) ** 2.4)


def _to_srgb(linear: np.ndarray) -> np.ndarray:
    linear = np.clip(linear, 0.0, 1.0)
    return np.where(linear <= 0.0031308, linear * 12.92, 1.055 * linear ** (1 / 2.4) - 0.055)


class Exposure(ImageTransform):
    """Exposure in stops, applied to linear light as a camera would: +1 doubles the light."""

    stops: Annotated[float, Field(ge=-10, le=10)] = 1.0

    def transform(self, image: Image.Image) -> Image.Image:
        gain = np.float32(2.0**self.stops)
        return keep_alpha(image, numeric(lambda p: _to_srgb(_to_linear(p) * gain)))


class Gamma(ImageTransform):
    """Gamma correction: each tone t becomes t^(1/gamma), so `gamma` > 1 lifts the midtones."""

    gamma: Annotated[float, Field(ge=0.1, le=10)] = 1.5

    def transform(self, image: Image.Image) -> Image.Image:
        exponent = 1 / self.gamma
        return keep_alpha(image, numeric(lambda p: p**exponent))


class Levels(ImageTransform):
    """Map the input range [`in_black`, `in_white`] to [`out_black`, `out_white`], with a
    midtone `gamma` (> 1 brightens)."""

    in_black: Level = 0
    in_white: Level = 255
    gamma: Annotated[float, Field(ge=0.1, le=10)] = 1.0
    out_black: Level = 0
    out_white: Level = 255

    @model_validator(mode="after")
    def _ordered(self) -> Levels:
        if self.in_black >= self.in_white:
            raise ValueError("in_black must be below in_white")
        return self

    def transform(self, image: Image.Image) -> Image.Image:
        low, high = self.in_black / 255, self.in_white / 255
        out_low, out_high = self.out_black / 255, self.out_white / 255
        exponent = 1 / self.gamma

        def levels(p: np.ndarray) -> np.ndarray:
            t = np.clip((p - low) / (high - low), 0, 1) ** exponent
            return out_low + t * (out_high - out_low)

        return keep_alpha(image, numeric(levels))


def _check_points(points: list[tuple[int, int]]) -> list[tuple[int, int]]:
    xs = [x for x, _ in points]
    if any(b <= a for a, b in itertools.pairwise(xs)):
        raise ValueError("curve points must be ordered by strictly increasing input level")
    return points


CurvePoint = tuple[Level, Level]


class Curves(ImageTransform):
    """A tone curve through `points` ([input, output] levels, 0-255), joined by straight lines.

    The default is a gentle S-curve (more contrast). `channel` limits it to red, green or
    blue; greyscale images take the curve as is.
    """

    points: Annotated[
        list[CurvePoint], Field(min_length=2, max_length=64), AfterValidator(_check_points)
    ] = [(0, 0), (64, 48), (192, 208), (255, 255)]
    channel: Literal["all", "red", "green", "blue"] = "all"

    def transform(self, image: Image.Image) -> Image.Image:
        xs = [x for x, _ in self.points]
        ys = [y for _, y in self.points]
        table = np.round(np.interp(np.arange(256), xs, ys)).astype(np.uint8).tolist()
        identity = list(range(256))
        index = {"red": 0, "green": 1, "blue": 2}.get(self.channel)

        def curve(rgb: Image.Image) -> Image.Image:
            if rgb.mode == "L" or index is None:
                return rgb.point(table * len(rgb.getbands()))
            tables = [table if band == index else identity for band in range(3)]
            return rgb.point(tables[0] + tables[1] + tables[2])

        return keep_alpha(image, curve)


class LiftGammaGain(ImageTransform):
    """Colour-grading wheels as one control each: `lift` raises (or lowers) the blacks,
    `gamma` the midtones, `gain` scales the whites: out = (gain * (t + lift * (1 - t)))^(1/gamma).
    """

    lift: Annotated[float, Field(ge=-1, le=1)] = 0.0
    gamma: Annotated[float, Field(ge=0.1, le=10)] = 1.0
    gain: Annotated[float, Field(ge=0, le=4)] = 1.0

    def transform(self, image: Image.Image) -> Image.Image:
        def grade(p: np.ndarray) -> np.ndarray:
            lifted = self.gain * (p + self.lift * (1 - p))
            return np.clip(lifted, 0, 1) ** (1 / self.gamma)

        return keep_alpha(image, numeric(grade))


class HueShift(ImageTransform):
    """Turn every hue round the colour wheel by `degrees` (120: red becomes green)."""

    degrees: Annotated[float, Field(ge=-360, le=360)] = 30.0

    def transform(self, image: Image.Image) -> Image.Image:
        shift = round(self.degrees / 360 * 256) % 256

        def hue(rgb: Image.Image) -> Image.Image:
            h, s, v = rgb.convert("RGB").convert("HSV").split()
            h = h.point(lambda value: (value + shift) % 256)
            return Image.merge("HSV", (h, s, v)).convert("RGB")

        return keep_alpha(_rgb(image), hue)


class WhiteBalance(ImageTransform):
    """Neutralise a colour cast. `auto` scales the channels so their averages match (grey
    world); `manual` warms (`temperature` > 0) or cools the image and shifts it toward magenta
    (`tint` > 0) or green."""

    mode: Literal["auto", "manual"] = "auto"
    temperature: Annotated[float, Field(ge=-100, le=100)] = 0.0
    tint: Annotated[float, Field(ge=-100, le=100)] = 0.0

    def transform(self, image: Image.Image) -> Image.Image:
        def balance(p: np.ndarray) -> np.ndarray:
            if self.mode == "auto":
                means = p.reshape(-1, 3).mean(axis=0)
                scale = means.mean() / np.maximum(means, 1e-6)
            else:
                warm, tint = self.temperature / 100 * 0.3, self.tint / 100 * 0.3
                scale = np.array([1 + warm, 1 - tint, 1 - warm], dtype=np.float32)
            return p * scale.astype(np.float32)

        return keep_alpha(_rgb(image), numeric(balance))


class Vignette(ImageTransform):
    """Darken toward the corners: by `strength` (0 to 1) at the corners, starting at `radius`
    (a fraction of the centre-to-corner distance)."""

    strength: Amount = 0.5
    radius: Annotated[float, Field(ge=0, lt=1)] = 0.5

    def transform(self, image: Image.Image) -> Image.Image:
        height, width = image.height, image.width
        ys = (np.arange(height, dtype=np.float32) + 0.5 - height / 2) / (height / 2)
        xs = (np.arange(width, dtype=np.float32) + 0.5 - width / 2) / (width / 2)
        distance = np.sqrt(xs[None, :] ** 2 + ys[:, None] ** 2) / np.sqrt(2)
        t = np.clip((distance - self.radius) / (1 - self.radius), 0, 1)
        falloff = 1 - self.strength * (t * t * (3 - 2 * t))  # smoothstep

        def darken(p: np.ndarray) -> np.ndarray:
            return p * (falloff[..., None] if p.ndim == 3 else falloff)

        return keep_alpha(image, numeric(darken))


class FilmGrain(ImageTransform):
    """Photographic grain: Gaussian noise of standard deviation `amount` (of full scale),
    `size` pixels across, the same for a given `seed`."""

    amount: Annotated[float, Field(ge=0, le=0.5)] = 0.08
    size: Annotated[float, Field(ge=0, le=10)] = 1.0
    monochrome: bool = True
    seed: Annotated[int, Field(ge=0)] = 0

    def transform(self, image: Image.Image) -> Image.Image:
        rng = np.random.default_rng(self.seed)

        def grain(p: np.ndarray) -> np.ndarray:
            shape = p.shape[:2] if self.monochrome or p.ndim == 2 else p.shape
            noise = rng.normal(0.0, 1.0, shape).astype(np.float32)
            if self.size > 1:
                noise = _blurred_noise(noise, self.size)
            noise *= self.amount
            if p.ndim == 3 and noise.ndim == 2:
                noise = noise[..., None]
            return p + noise

        return keep_alpha(image, numeric(grain))


def _blurred_noise(noise: np.ndarray, size: float) -> np.ndarray:
    """Coarser grain: blur the noise, then restore its spread."""
    planes = noise[..., None] if noise.ndim == 2 else noise
    out = np.empty_like(planes)
    for c in range(planes.shape[2]):
        plane = Image.fromarray(planes[..., c], "F").filter(ImageFilter.GaussianBlur(size / 2))
        out[..., c] = np.asarray(plane)
    out /= max(float(out.std()), 1e-6)
    return out[..., 0] if noise.ndim == 2 else out


class Tint(ImageTransform):
    """Wash the image with `color`: its lightness kept, its hue and saturation taken from the
    colour, blended by `amount`."""

    color: Color = "#ff9900"
    amount: Amount = 0.5

    def transform(self, image: Image.Image) -> Image.Image:
        tint = np.array(ImageColor.getrgb(self.color)[:3], dtype=np.float32) / 255
        # Scaled so mid grey becomes the colour itself.
        tint_luma = max(float(_luma(tint)), 1e-6)

        def wash(p: np.ndarray) -> np.ndarray:
            tinted = _luma(p)[..., None] * tint / tint_luma * 0.5 + _luma(p)[..., None] * 0.5
            return p + (tinted - p) * self.amount

        return keep_alpha(_rgb(image), numeric(wash))


SEPIA = np.array(
    [[0.393, 0.769, 0.189], [0.349, 0.686, 0.168], [0.272, 0.534, 0.131]], dtype=np.float32
)


class Sepia(ImageTransform):
    """The warm brown of old photographs (the classic sepia matrix), blended by `amount`."""

    amount: Amount = 1.0

    def transform(self, image: Image.Image) -> Image.Image:
        def sepia(p: np.ndarray) -> np.ndarray:
            return p + (p @ SEPIA.T - p) * self.amount

        return keep_alpha(_rgb(image), numeric(sepia))


class Threshold(ImageTransform):
    """Black and white: white where the lightness is at least `threshold`, black elsewhere."""

    threshold: Level = 128

    def transform(self, image: Image.Image) -> Image.Image:
        grey = image.convert("L")
        return grey.point(lambda value: 255 if value >= self.threshold else 0)


class Dither(ImageTransform):
    """Reduce to `colors` colours with Floyd-Steinberg error diffusion (2: black and white)."""

    colors: Annotated[int, Field(ge=2, le=256)] = 2

    def transform(self, image: Image.Image) -> Image.Image:
        if self.colors == 2:
            return image.convert("L").convert("1", dither=Image.Dither.FLOYDSTEINBERG).convert("L")
        rgb = image.convert("RGB")
        return rgb.quantize(self.colors, dither=Image.Dither.FLOYDSTEINBERG).convert("RGB")


MAX_LUT_SIZE = 65
_CUBE_NUMBER = re.compile(r"^[-+0-9.eE]+$")


def parse_cube(text: str) -> ImageFilter.Color3DLUT:
    """An Adobe / Resolve `.cube` 3D LUT as a Pillow filter."""
    size: int | None = None
    low, high = np.zeros(3, np.float32), np.ones(3, np.float32)
    rows: list[list[float]] = []
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        parts = line.split()
        keyword = parts[0].upper()
        if keyword == "LUT_3D_SIZE":
            size = int(parts[1])
        elif keyword == "DOMAIN_MIN":
            low = np.array([float(v) for v in parts[1:4]], np.float32)
        elif keyword == "DOMAIN_MAX":
            high = np.array([float(v) for v in parts[1:4]], np.float32)
        elif keyword == "LUT_1D_SIZE":
            raise ValueError("1D LUTs are not supported: give a 3D .cube LUT")
        elif len(parts) == 3 and all(_CUBE_NUMBER.match(p) for p in parts):
            rows.append([float(v) for v in parts])
        elif keyword in ("TITLE", "LUT_1D_INPUT_RANGE", "LUT_3D_INPUT_RANGE"):
            continue
        else:
            raise ValueError(f"line {number} of the LUT is not valid .cube syntax: {raw[:60]!r}")
    if size is None:
        raise ValueError("the LUT has no LUT_3D_SIZE line")
    if not 2 <= size <= MAX_LUT_SIZE:
        raise ValueError(f"LUT_3D_SIZE must be between 2 and {MAX_LUT_SIZE}, not {size}")
    if len(rows) != size**3:
        raise ValueError(f"a LUT of size {size} needs {size**3} entries, this one has {len(rows)}")
    table = (np.array(rows, np.float32) - low) / np.maximum(high - low, 1e-6)
    return ImageFilter.Color3DLUT(size, table.ravel().tolist())


class ApplyLUT(ImageTransform):
    """Colour-grade with a 3D LUT: `lut` is a `.cube` file asset (as exported by Resolve,
    Photoshop and most grading tools), applied with trilinear interpolation and blended by
    `strength`."""

    _title = "Apply LUT"

    lut: AssetRef
    strength: Amount = 1.0

    _lut: Any = PrivateAttr(default=None)

    async def process(self, context: ProcessingContext) -> ImageRef:
        data = await context.asset_bytes(self.lut)
        try:
            # Up to 65^3 lines to parse: not on the event loop.
            lut = await asyncio.to_thread(parse_cube, data.decode("utf-8-sig"))
        except UnicodeDecodeError as error:
            raise InvalidInput("the LUT is not a text .cube file") from error
        except ValueError as error:
            raise InvalidInput(str(error)) from error
        self._lut = lut
        return await super().process(context)

    def transform(self, image: Image.Image) -> Image.Image:
        lut = self._lut

        def grade(rgb: Image.Image) -> Image.Image:
            rgb = rgb.convert("RGB")
            graded = rgb.filter(lut)
            return graded if self.strength >= 1 else Image.blend(rgb, graded, self.strength)

        return keep_alpha(_rgb(image), grade)
