"""Small generated inputs for the node library tests and the gallery (this module holds no
tests): every value is known, so outputs can be checked pixel by pixel and sample by sample."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image

from execution import media

AUDIO_RATE = 8000


def pattern() -> Image.Image:
    """16 x 12 RGB: red grows to the right, green downward, blue fixed (see `pattern_pixel`)."""
    return Image.fromarray(
        np.array([[pattern_pixel(x, y) for x in range(16)] for y in range(12)], dtype=np.uint8),
        "RGB",
    )


def pattern_pixel(x: int, y: int) -> tuple[int, int, int]:
    return (x * 16 + 8, y * 20 + 10, 100)


def square() -> Image.Image:
    """16 x 16 grey 64 with an 8 x 8 square of grey 192 from (4, 4) to (11, 11)."""
    image = Image.new("RGB", (16, 16), (64, 64, 64))
    image.paste((192, 192, 192), (4, 4, 12, 12))
    return image


def speckle() -> Image.Image:
    """9 x 9 grey 100 with one white pixel at (4, 4)."""
    image = Image.new("RGB", (9, 9), (100, 100, 100))
    image.putpixel((4, 4), (255, 255, 255))
    return image


def half_alpha() -> Image.Image:
    """8 x 8 RGBA: opaque red on the left half, fully transparent blue on the right."""
    image = Image.new("RGBA", (8, 8), (0, 0, 255, 0))
    image.paste((255, 0, 0, 255), (0, 0, 4, 8))
    return image


def half_mask() -> Image.Image:
    """8 x 8 greyscale: white on the left half, black on the right."""
    image = Image.new("L", (8, 8), 0)
    image.paste(255, (0, 0, 4, 8))
    return image


def png(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def speech_like() -> media.Audio:
    """1 s of stereo at 8 kHz: a 400 Hz tone for 0.25 s (left at 0.5, right at 0.25),
    0.5 s of silence, then the tone again for 0.25 s."""
    t = np.arange(AUDIO_RATE // 4) / AUDIO_RATE
    burst = np.sin(2 * np.pi * 400 * t).astype(np.float32)
    stereo = np.stack([0.5 * burst, 0.25 * burst], axis=1)
    gap = np.zeros((AUDIO_RATE // 2, 2), np.float32)
    return media.Audio(np.concatenate([stereo, gap, stereo]), AUDIO_RATE)


def clip_color(index: int) -> tuple[int, int, int]:
    return (index * 25, 100, 50)


def clip() -> bytes:
    """10 frames of 64 x 48 at 10 fps, frame i filled with `clip_color(i)`, with 1 s of a
    440 Hz tone (amplitude 0.5, 44.1 kHz) as sound."""
    frames = [Image.new("RGB", (64, 48), clip_color(i)) for i in range(10)]
    sound = media.tone(frequency=440, duration=1.0, rate=44100, amplitude=0.5)
    return media.mp4_from_images(frames, fps=10, audio=sound)


def green_clip() -> bytes:
    """5 frames of 16 x 12 green at 10 fps, silent."""
    return media.mp4_from_images([Image.new("RGB", (16, 12), (0, 200, 0))] * 5, fps=10)


def invert_cube() -> bytes:
    """A 2 x 2 x 2 .cube LUT that inverts every colour."""
    lines = ['TITLE "invert"', "LUT_3D_SIZE 2"]
    lines += [f"{1 - r} {1 - g} {1 - b}" for b in (0, 1) for g in (0, 1) for r in (0, 1)]
    return ("\n".join(lines) + "\n").encode()


SVG = (
    b'<svg xmlns="http://www.w3.org/2000/svg" width="20" height="20">'
    b'<rect width="20" height="20" fill="#0000ff"/><rect width="10" height="10" fill="#ff0000"/>'
    b"</svg>"
)


def photo(width: int = 64, height: int = 48) -> Image.Image:
    """A diagonal colour gradient with a light disc and a dark bar, so filters have edges,
    flat areas and colour to work on (64 x 48: the golden-image source)."""
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    u, v = xs * 64 / width, ys * 48 / height  # the 64 x 48 design, scaled
    red = 40 + 180 * u / 63
    green = 30 + 150 * v / 47
    blue = 160 - 100 * (u + v) / 110
    pixels = np.stack([red, green, blue], axis=2)
    pixels[(u - 22) ** 2 + (v - 20) ** 2 < 12**2] = (235, 225, 200)
    pixels[(v >= 34) & (v < 40) & (u >= 30) & (u < 60)] = (20, 25, 40)
    return Image.fromarray(np.round(pixels).astype(np.uint8), "RGB")


def dark() -> Image.Image:
    """64 x 16: 16 bands of grey, 4 pixels wide, from 0 to 60 in steps of 4 (left to right):
    all in the darkest quarter. (Pillow leaves images under 256 pixels alone when equalizing.)"""
    row = np.repeat((np.arange(64) // 4 * 4).astype(np.uint8)[None, :], 16, axis=0)
    return Image.fromarray(row, "L").convert("RGB")
