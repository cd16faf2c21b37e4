"""Video nodes (PyAV, with the FFmpeg its wheels ship): H.264 MP4 out, with AAC sound when
the source has any. Frames are decoded, changed and encoded one at a time in a worker
thread, so a long clip never sits in memory as images."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Iterator
from fractions import Fraction
from typing import Annotated, Literal

import numpy as np
from PIL import Image, ImageColor, ImageDraw, ImageEnhance, ImageFont
from pydantic import BaseModel, Field, model_validator

from execution import media
from execution.context import ProcessingContext
from execution.media import Audio, VideoInfo
from execution.node import BaseNode
from execution.nodes.image import MAX_SIDE, Color, Side
from execution.refs import AudioRef, ImageRef, VideoRef

Fps = Annotated[float, Field(gt=0, le=120)]
Offset = Annotated[float, Field(ge=0, le=24 * 3600)]
Frames = Iterator[tuple[float, Image.Image]]


class FromImages(BaseNode):
    """An H.264 MP4 showing `frames` in order, sized like the first frame."""

    _auto_save_asset = True
    _title = "Video From Images"

    frames: Annotated[list[ImageRef], Field(min_length=1, max_length=10_000)]
    fps: Fps = 8.0

    async def process(self, context: ProcessingContext) -> VideoRef:
        images = [await context.image_from_ref(ref) for ref in self.frames]
        data = await asyncio.to_thread(media.mp4_from_images, images, fps=self.fps)
        return VideoRef(data=data)


def _encode(frames: Iterator[Image.Image], *, fps: float | Fraction, audio: Audio | None) -> bytes:
    return media.mp4_from_images(frames, fps=fps, audio=audio)


class VideoTransform(BaseNode):
    """One video in, one out: subclasses change the frames and, if need be, the sound."""

    _abstract = True
    _auto_save_asset = True
    _namespace = "video"

    video: VideoRef

    def frames(self, frames: Frames, info: VideoInfo) -> Iterator[Image.Image]:
        raise NotImplementedError

    def sound(self, audio: Audio, info: VideoInfo) -> Audio | None:
        return audio

    def fps(self, info: VideoInfo) -> float | Fraction:
        return info.fps

    def run(self, data: bytes) -> bytes:
        info = media.video_info(data)
        audio = media.video_audio(data) if info.has_audio else None
        if audio is not None:
            audio = self.sound(audio, info)
        frames = self.frames(media.video_frames(data), info)
        return _encode(frames, fps=self.fps(info), audio=audio)

    async def process(self, context: ProcessingContext) -> VideoRef:
        data = await context.asset_bytes(self.video)
        return VideoRef(data=await asyncio.to_thread(self.run, data))


class Trim(VideoTransform):
    """Keep from `start` to `end` seconds (without `end`: to the end), sound included."""

    _title = "Trim Video"

    start: Offset = 0.0
    end: Offset | None = None

    @model_validator(mode="after")
    def _ordered(self) -> Trim:
        if self.end is not None and self.end <= self.start:
            raise ValueError("end must be after start")
        return self

    def _inside(self, time: float) -> bool:
        # Half a millisecond of slack: frame times are rounded to the stream's time base.
        return time >= self.start - 5e-4 and (self.end is None or time < self.end - 5e-4)

    def frames(self, frames: Frames, info: VideoInfo) -> Iterator[Image.Image]:
        kept = 0
        for time, image in frames:
            if self.end is not None and time >= self.end - 5e-4:
                break
            if self._inside(time):
                kept += 1
                yield image
        if kept == 0:
            raise ValueError(f"no frame between {self.start} s and {self.end or 'the end'}")

    def sound(self, audio: Audio, info: VideoInfo) -> Audio:
        first = round(self.start * audio.rate)
        last = audio.frames if self.end is None else round(self.end * audio.rate)
        return Audio(audio.samples[first:last], audio.rate)


def _retimed(frames: Frames, fps: float | Fraction, end: float) -> Iterator[Image.Image]:
    """Frames at a new rate until `end` seconds: each output frame shows the source frame
    on screen at its time."""
    step = 1 / float(fps)
    index = 0
    previous: Image.Image | None = None
    for time, image in frames:
        while previous is not None and index * step < time - 5e-4:
            yield previous
            index += 1
        previous = image
    while previous is not None and (index == 0 or index * step < end - 5e-4):
        yield previous
        index += 1


class ChangeFPS(VideoTransform):
    """Re-time to `fps` frames per second, dropping or repeating frames; the duration stays."""

    _title = "Change FPS"

    target_fps: Fps = 12.0

    def fps(self, info: VideoInfo) -> float:
        return self.target_fps

    def frames(self, frames: Frames, info: VideoInfo) -> Iterator[Image.Image]:
        return _retimed(frames, self.target_fps, info.duration)


class Resize(VideoTransform):
    """Scale every frame to `width` x `height` (rounded down to even numbers for H.264)."""

    _title = "Resize Video"

    width: Side = 640
    height: Side = 360

    def frames(self, frames: Frames, info: VideoInfo) -> Iterator[Image.Image]:
        size = (max(2, self.width // 2 * 2), max(2, self.height // 2 * 2))
        for _, image in frames:
            yield image.resize(size, Image.Resampling.LANCZOS)


class ColorBalance(VideoTransform):
    """Grade every frame: red, green and blue gains, then `brightness`, `contrast` and
    `saturation` factors (1 leaves each unchanged)."""

    red: Annotated[float, Field(ge=0, le=4)] = 1.0
    green: Annotated[float, Field(ge=0, le=4)] = 1.0
    blue: Annotated[float, Field(ge=0, le=4)] = 1.0
    brightness: Annotated[float, Field(ge=0, le=4)] = 1.0
    contrast: Annotated[float, Field(ge=0, le=4)] = 1.0
    saturation: Annotated[float, Field(ge=0, le=4)] = 1.0

    def frames(self, frames: Frames, info: VideoInfo) -> Iterator[Image.Image]:
        gains = np.array([self.red, self.green, self.blue], dtype=np.float32)
        for _, image in frames:
            if not np.all(gains == 1):
                pixels = np.asarray(image, dtype=np.float32) * gains
                image = Image.fromarray(np.clip(np.round(pixels), 0, 255).astype(np.uint8))
            for enhancer, factor in (
                (ImageEnhance.Brightness, self.brightness),
                (ImageEnhance.Contrast, self.contrast),
                (ImageEnhance.Color, self.saturation),
            ):
                if factor != 1:
                    image = enhancer(image).enhance(factor)
            yield image


class SubtitleCue(BaseModel):
    start: Annotated[float, Field(ge=0)]
    end: Annotated[float, Field(gt=0)]
    text: str


_SRT_TIME = re.compile(
    r"(\d+):(\d{2}):(\d{2})[,.](\d{1,3})\s*-->\s*(\d+):(\d{2}):(\d{2})[,.](\d{1,3})"
)


def parse_srt(text: str) -> list[SubtitleCue]:
    """The cues of a SubRip (.srt) file."""
    cues: list[SubtitleCue] = []
    for block in re.split(r"\r?\n\s*\r?\n", text.strip()):
        lines = block.strip().splitlines()
        for i, line in enumerate(lines):
            found = _SRT_TIME.search(line)
            if found:
                h1, m1, s1, ms1, h2, m2, s2, ms2 = found.groups()
                start = int(h1) * 3600 + int(m1) * 60 + int(s1) + int(ms1.ljust(3, "0")) / 1000
                end = int(h2) * 3600 + int(m2) * 60 + int(s2) + int(ms2.ljust(3, "0")) / 1000
                cues.append(SubtitleCue(start=start, end=end, text="\n".join(lines[i + 1 :])))
                break
        else:
            if block.strip():
                raise ValueError(f"not an SRT cue (no 'start --> end' line): {block[:60]!r}")
    return cues


class AddSubtitles(VideoTransform):
    """Burn subtitles into the frames: each cue's text shows from its `start` to its `end`
    second, centred near the bottom, white (`color`) with a dark outline.

    Give `cues` as a list of {start, end, text}, or `srt` as the text of a SubRip file
    (which replaces the sample cue shown by default).
    """

    cues: Annotated[list[SubtitleCue], Field(max_length=10_000)] = [
        SubtitleCue(start=0, end=5, text="Subtitle")
    ]
    srt: str = ""
    font_size: Annotated[int, Field(ge=6, le=400)] = 24
    color: Color = "#ffffff"
    outline: Color = "#000000"
    margin: Annotated[int, Field(ge=0, le=2000)] = 16

    @model_validator(mode="after")
    def _some_cues(self) -> AddSubtitles:
        if self.srt:
            given = self.cues if "cues" in self.model_fields_set else []
            self.cues = [*given, *parse_srt(self.srt)]
        if not self.cues:
            raise ValueError("give subtitle `cues` or `srt` text")
        return self

    def frames(self, frames: Frames, info: VideoInfo) -> Iterator[Image.Image]:
        font = ImageFont.load_default(size=self.font_size)
        stroke = max(1, self.font_size // 12)
        for time, image in frames:
            showing = [cue.text for cue in self.cues if cue.start <= time + 5e-4 < cue.end]
            if showing:
                image = image.convert("RGB")
                draw = ImageDraw.Draw(image)
                text = "\n".join(showing)
                box = draw.multiline_textbbox(
                    (0, 0), text, font=font, align="center", stroke_width=stroke
                )
                x = (image.width - (box[2] - box[0])) / 2 - box[0]
                y = image.height - self.margin - box[3]
                draw.multiline_text(
                    (x, y),
                    text,
                    font=font,
                    fill=self.color,
                    align="center",
                    stroke_width=stroke,
                    stroke_fill=self.outline,
                )
            yield image


class Overlay(BaseNode):
    """Picture in picture: `overlay` scaled to `scale` of the main video's width, placed in a
    corner (`position`) `margin` pixels in, for as long as it lasts. The sound is the main
    video's."""

    _auto_save_asset = True
    _title = "Overlay Video"

    video: VideoRef
    overlay: VideoRef
    scale: Annotated[float, Field(gt=0, le=1)] = 0.3
    position: Literal["top-left", "top-right", "bottom-left", "bottom-right", "center"] = (
        "bottom-right"
    )
    margin: Annotated[int, Field(ge=0, le=MAX_SIDE)] = 8

    async def process(self, context: ProcessingContext) -> VideoRef:
        main = await context.asset_bytes(self.video)
        small = await context.asset_bytes(self.overlay)
        return VideoRef(data=await asyncio.to_thread(self._run, main, small))

    def _place(self, size: tuple[int, int], inner: tuple[int, int]) -> tuple[int, int]:
        (w, h), (iw, ih), m = size, inner, self.margin
        if self.position == "center":
            return (w - iw) // 2, (h - ih) // 2
        x = m if self.position.endswith("left") else w - iw - m
        y = m if self.position.startswith("top") else h - ih - m
        return x, y

    def _run(self, main: bytes, small: bytes) -> bytes:
        info = media.video_info(main)
        audio = media.video_audio(main) if info.has_audio else None
        inner = media.video_frames(small)

        inner_end = media.video_info(small).duration

        def frames() -> Iterator[Image.Image]:
            current, upcoming = None, next(inner, None)
            for time, image in media.video_frames(main):
                while upcoming is not None and upcoming[0] <= time + 5e-4:
                    current, upcoming = upcoming, next(inner, None)
                if current is not None and time < inner_end - 5e-4:
                    picture = current[1]
                    width = max(1, round(image.width * self.scale))
                    height = max(1, round(picture.height * width / picture.width))
                    picture = picture.resize((width, height), Image.Resampling.LANCZOS)
                    image = image.convert("RGB")
                    image.paste(picture, self._place(image.size, picture.size))
                yield image

        return _encode(frames(), fps=info.fps, audio=audio)


class Concat(BaseNode):
    """`a` then `b`, at the size and frame rate of `a` (`b` is scaled and re-timed to match);
    sound joined too, with silence for a part that has none."""

    _auto_save_asset = True
    _title = "Concat Video"

    a: VideoRef
    b: VideoRef

    async def process(self, context: ProcessingContext) -> VideoRef:
        first = await context.asset_bytes(self.a)
        second = await context.asset_bytes(self.b)
        return VideoRef(data=await asyncio.to_thread(self._run, first, second))

    def _run(self, first: bytes, second: bytes) -> bytes:
        info_a, info_b = media.video_info(first), media.video_info(second)
        audio = None
        if info_a.has_audio or info_b.has_audio:
            parts = [
                _sound_or_silence(data, info) for data, info in ((first, info_a), (second, info_b))
            ]
            audio = media.concatenated(parts)

        def frames() -> Iterator[Image.Image]:
            yield from (image for _, image in media.video_frames(first))
            yield from _retimed(media.video_frames(second), info_a.fps, info_b.duration)

        return _encode(frames(), fps=info_a.fps, audio=audio)


def _sound_or_silence(data: bytes, info: VideoInfo) -> Audio:
    found = media.video_audio(data) if info.has_audio else None
    if found is None:
        return media.silence(duration=info.duration, rate=44100)
    return Audio(media.fit_length(found.samples, round(info.duration * found.rate)), found.rate)


class AddAudio(BaseNode):
    """Give the video `audio` as its sound (replacing any), scaled by `volume`, cut or padded
    with silence to the video's length."""

    _auto_save_asset = True

    video: VideoRef
    audio: AudioRef
    volume: Annotated[float, Field(ge=0, le=8)] = 1.0

    async def process(self, context: ProcessingContext) -> VideoRef:
        data = await context.asset_bytes(self.video)
        sound = await context.audio_from_ref(self.audio)

        def run() -> bytes:
            info = media.video_info(data)
            samples = media.fit_length(sound.samples, round(info.duration * sound.rate))
            audio = Audio(np.clip(samples * np.float32(self.volume), -1, 1), sound.rate)
            frames = (image for _, image in media.video_frames(data))
            return _encode(frames, fps=info.fps, audio=audio)

        return VideoRef(data=await asyncio.to_thread(run))


class ExtractAudio(BaseNode):
    """The video's sound as a WAV file (fails when it has none)."""

    _auto_save_asset = True

    video: VideoRef

    async def process(self, context: ProcessingContext) -> AudioRef:
        data = await context.asset_bytes(self.video)
        audio = await asyncio.to_thread(media.video_audio, data)
        if audio is None:
            raise ValueError("the video has no sound")
        return await context.audio_to_ref(audio)


class ImageToVideo(BaseNode):
    """A still brought to life (the "Ken Burns" effect): a `duration`-second clip that zooms
    from `zoom_start` to `zoom_end` while its centre moves from (`x_start`, `y_start`) to
    (`x_end`, `y_end`), given as fractions of the image (0.5, 0.5 is the middle).

    The clip is `width` x `height` (default: the image's size).
    """

    _auto_save_asset = True

    image: ImageRef
    duration: Annotated[float, Field(gt=0, le=600)] = 3.0
    fps: Fps = 24.0
    zoom_start: Annotated[float, Field(ge=1, le=10)] = 1.0
    zoom_end: Annotated[float, Field(ge=1, le=10)] = 1.3
    x_start: Annotated[float, Field(ge=0, le=1)] = 0.5
    y_start: Annotated[float, Field(ge=0, le=1)] = 0.5
    x_end: Annotated[float, Field(ge=0, le=1)] = 0.5
    y_end: Annotated[float, Field(ge=0, le=1)] = 0.5
    width: Side | None = None
    height: Side | None = None

    async def process(self, context: ProcessingContext) -> VideoRef:
        still = (await context.image_from_ref(self.image)).convert("RGB")
        count = max(1, round(self.duration * self.fps))
        if count > media.MAX_VIDEO_FRAMES:
            raise ValueError(f"that is more than {media.MAX_VIDEO_FRAMES} frames")
        size = (self.width or still.width, self.height or still.height)

        def frames() -> Iterator[Image.Image]:
            aspect = size[0] / size[1]
            for i in range(count):
                t = i / (count - 1) if count > 1 else 0.0
                zoom = self.zoom_start + (self.zoom_end - self.zoom_start) * t
                # The largest box of the output's aspect that fits the still, shrunk by zoom.
                box_w = min(still.width, still.height * aspect) / zoom
                box_h = box_w / aspect
                cx = (self.x_start + (self.x_end - self.x_start) * t) * still.width
                cy = (self.y_start + (self.y_end - self.y_start) * t) * still.height
                left = min(max(cx - box_w / 2, 0), still.width - box_w)
                top = min(max(cy - box_h / 2, 0), still.height - box_h)
                yield still.resize(
                    size, Image.Resampling.BICUBIC, box=(left, top, left + box_w, top + box_h)
                )

        data = await asyncio.to_thread(_encode, frames(), fps=self.fps, audio=None)
        return VideoRef(data=data)


class ExtractFrames(BaseNode):
    """Frames of the video as PNG images, streamed: each one is saved as soon as it is
    decoded. Takes every `every`-th frame from `start` seconds, at most `max_frames`."""

    _auto_save_asset = True

    video: VideoRef
    every: Annotated[int, Field(ge=1, le=100_000)] = 1
    start: Offset = 0.0
    max_frames: Annotated[int, Field(ge=1, le=10_000)] = 100

    async def process(self, context: ProcessingContext) -> AsyncIterator[ImageRef]:
        data = await context.asset_bytes(self.video)
        frames = media.video_frames(data)
        seen = emitted = 0

        def next_png() -> bytes | None:
            nonlocal seen
            for time, image in frames:
                if time < self.start - 5e-4:
                    continue
                seen += 1
                if (seen - 1) % self.every == 0:
                    return media.image_to_bytes(image, "PNG")
            return None

        try:
            while emitted < self.max_frames:
                png = await asyncio.to_thread(next_png)
                if png is None:
                    break
                emitted += 1
                yield ImageRef(data=png)
        finally:
            frames.close()  # stop decoding: closes the container


class TestPattern(BaseNode):
    """A generated clip for trying workflows out: a colour that sweeps from `start_color` to
    `end_color` with a white bar moving across, `duration` seconds at `fps`, with a
    `frequency` Hz tone as its sound (0: silent)."""

    _auto_save_asset = True

    width: Side = 320
    height: Side = 240
    duration: Annotated[float, Field(gt=0, le=600)] = 2.0
    fps: Fps = 24.0
    start_color: Color = "#000080"
    end_color: Color = "#800000"
    frequency: Annotated[float, Field(ge=0, le=20000)] = 440.0

    async def process(self, context: ProcessingContext) -> VideoRef:
        count = max(1, round(self.duration * self.fps))
        if count > media.MAX_VIDEO_FRAMES:
            raise ValueError(f"that is more than {media.MAX_VIDEO_FRAMES} frames")
        start = np.array(ImageColor.getrgb(self.start_color)[:3], dtype=np.float32)
        end = np.array(ImageColor.getrgb(self.end_color)[:3], dtype=np.float32)
        size = (max(2, self.width // 2 * 2), max(2, self.height // 2 * 2))
        bar = max(2, size[0] // 16)

        def frames() -> Iterator[Image.Image]:
            for i in range(count):
                t = i / (count - 1) if count > 1 else 0.0
                color = tuple(int(v) for v in np.round(start + (end - start) * t))
                image = Image.new("RGB", size, color)
                x = round(t * (size[0] - bar))
                image.paste((255, 255, 255), (x, 0, x + bar, size[1]))
                yield image

        audio = None
        if self.frequency > 0:
            audio = media.tone(
                frequency=self.frequency, duration=count / self.fps, rate=44100, amplitude=0.5
            )
        data = await asyncio.to_thread(_encode, frames(), fps=self.fps, audio=audio)
        return VideoRef(data=data)
