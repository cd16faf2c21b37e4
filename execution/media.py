"""Byte-level media helpers shared by nodes: images through Pillow, WAV audio through the
standard library, MP4 video through PyAV. All of them are synchronous and CPU-bound; nodes
call them in a worker thread so the server keeps answering while they run."""

from __future__ import annotations

import array
import io
import math
import sys
import wave
from collections.abc import Sequence
from dataclasses import dataclass

from PIL import Image

# Formats a transformed image may keep; anything else (e.g. a TIFF or an ICO) becomes PNG.
WRITABLE_IMAGE_FORMATS = frozenset({"PNG", "JPEG", "WEBP", "GIF", "BMP"})
MAX_IMAGE_PIXELS = 100_000_000


class MediaError(ValueError):
    """The bytes are not media this helper can read."""


def image_from_bytes(data: bytes) -> Image.Image:
    try:
        image = Image.open(io.BytesIO(data))
        if image.width * image.height > MAX_IMAGE_PIXELS:
            raise MediaError(f"the image is larger than {MAX_IMAGE_PIXELS} pixels")
        image.load()
    except (OSError, Image.DecompressionBombError) as error:
        raise MediaError(f"not a readable image ({error})") from error
    return image


def output_format(source: Image.Image | None) -> str:
    """Keep the source's format when Pillow can write it, so JPEG stays JPEG."""
    fmt = source.format if source is not None else None
    return fmt if fmt in WRITABLE_IMAGE_FORMATS else "PNG"


def image_to_bytes(image: Image.Image, format: str = "PNG") -> bytes:
    format = format.upper()
    if format == "JPG":
        format = "JPEG"
    if (format == "JPEG" and image.mode not in ("RGB", "L", "CMYK")) or (
        format == "BMP" and image.mode not in ("RGB", "L", "P", "1")
    ):
        image = _flatten(image)
    out = io.BytesIO()
    image.save(out, format=format)
    return out.getvalue()


def _flatten(image: Image.Image) -> Image.Image:
    if "A" in image.getbands() or image.mode == "P":
        rgba = image.convert("RGBA")
        background = Image.new("RGB", rgba.size, (255, 255, 255))
        background.paste(rgba, mask=rgba.getchannel("A"))
        return background
    return image.convert("RGB")


@dataclass
class Audio:
    """PCM audio as signed 16-bit samples, interleaved by channel."""

    samples: array.array[int]
    rate: int
    channels: int

    @property
    def frames(self) -> int:
        return len(self.samples) // self.channels

    @property
    def duration(self) -> float:
        return self.frames / self.rate


def audio_from_wav(data: bytes) -> Audio:
    try:
        with wave.open(io.BytesIO(data), "rb") as reader:
            width = reader.getsampwidth()
            channels = reader.getnchannels()
            rate = reader.getframerate()
            raw = reader.readframes(reader.getnframes())
    except (wave.Error, EOFError) as error:
        raise MediaError(f"not a readable WAV file ({error})") from error
    return Audio(samples=_to_int16(raw, width), rate=rate, channels=channels)


def _to_int16(raw: bytes, width: int) -> array.array[int]:
    if width == 2:
        samples = array.array("h", raw[: len(raw) // 2 * 2])
        if sys.byteorder == "big":
            samples.byteswap()
        return samples
    if width == 1:
        return array.array("h", ((b - 128) << 8 for b in raw))
    if width in (3, 4):
        count = len(raw) // width
        # Keep the two most significant bytes of each little-endian sample.
        return array.array(
            "h",
            (
                int.from_bytes(
                    raw[i * width + width - 2 : i * width + width], "little", signed=True
                )
                for i in range(count)
            ),
        )
    raise MediaError(f"unsupported WAV sample width of {width} bytes")


def audio_to_wav(audio: Audio) -> bytes:
    samples = audio.samples
    if sys.byteorder == "big":
        samples = array.array("h", samples)
        samples.byteswap()
    out = io.BytesIO()
    with wave.open(out, "wb") as writer:
        writer.setnchannels(audio.channels)
        writer.setsampwidth(2)
        writer.setframerate(audio.rate)
        writer.writeframes(samples.tobytes())
    return out.getvalue()


def tone(*, frequency: float, duration: float, rate: int, amplitude: float) -> Audio:
    count = round(duration * rate)
    peak = amplitude * 32767
    step = 2 * math.pi * frequency / rate
    return Audio(
        samples=array.array("h", (round(peak * math.sin(step * i)) for i in range(count))),
        rate=rate,
        channels=1,
    )


def silence(*, duration: float, rate: int) -> Audio:
    return Audio(samples=array.array("h", bytes(2 * round(duration * rate))), rate=rate, channels=1)


def with_channels(audio: Audio, channels: int) -> Audio:
    if audio.channels == channels:
        return audio
    frames = audio.frames
    if audio.channels == 1:
        out = array.array("h", (s for s in audio.samples for _ in range(channels)))
    else:
        mono = array.array(
            "h",
            (
                round(
                    sum(audio.samples[f * audio.channels + c] for c in range(audio.channels))
                    / audio.channels
                )
                for f in range(frames)
            ),
        )
        return with_channels(Audio(mono, audio.rate, 1), channels)
    return Audio(out, audio.rate, channels)


def resampled(audio: Audio, rate: int) -> Audio:
    """Linear interpolation: plenty for joining clips recorded at different rates."""
    if audio.rate == rate or audio.frames == 0:
        return Audio(audio.samples, rate, audio.channels) if audio.frames == 0 else audio
    count = max(1, round(audio.frames * rate / audio.rate))
    ratio = audio.rate / rate
    source, channels, last = audio.samples, audio.channels, audio.frames - 1
    out = array.array("h")
    for i in range(count):
        position = i * ratio
        left = min(int(position), last)
        right = min(left + 1, last)
        fraction = position - left
        for c in range(channels):
            a = source[left * channels + c]
            b = source[right * channels + c]
            out.append(round(a + (b - a) * fraction))
    return Audio(out, rate, channels)


def concatenated(clips: Sequence[Audio]) -> Audio:
    """Joined in order, in the rate and channel count of the first clip."""
    first = clips[0]
    samples = array.array("h")
    for clip in clips:
        samples.extend(resampled(with_channels(clip, first.channels), first.rate).samples)
    return Audio(samples, first.rate, first.channels)


def normalized(audio: Audio, peak: float) -> Audio:
    loudest = max((abs(s) for s in audio.samples), default=0)
    if loudest == 0:
        return audio
    gain = peak * 32767 / loudest
    return Audio(
        array.array("h", (max(-32768, min(32767, round(s * gain))) for s in audio.samples)),
        audio.rate,
        audio.channels,
    )


def mp4_from_images(images: Sequence[Image.Image], *, fps: float) -> bytes:
    """H.264 in MP4, sized to the first frame (rounded down to even, as yuv420p requires)."""
    import fractions

    import av

    width = max(2, images[0].width // 2 * 2)
    height = max(2, images[0].height // 2 * 2)
    out = io.BytesIO()
    with av.open(out, mode="w", format="mp4") as container:
        stream = container.add_stream(
            "libx264", rate=fractions.Fraction(fps).limit_denominator(1001)
        )
        stream.width = width
        stream.height = height
        stream.pix_fmt = "yuv420p"
        for image in images:
            frame_image = image.convert("RGB")
            if frame_image.size != (width, height):
                frame_image = frame_image.resize((width, height))
            frame = av.VideoFrame.from_image(frame_image)
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return out.getvalue()
