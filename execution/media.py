"""Byte-level media helpers shared by nodes: images through Pillow, audio as numpy arrays (WAV
read and written directly, other formats and resampling through PyAV), video through PyAV.
All of them are synchronous and CPU-bound; nodes call them in a worker thread so the server
keeps answering while they run."""

from __future__ import annotations

import io
import math
import wave
from collections.abc import Generator, Iterable, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np
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
        image = flatten(image)
    out = io.BytesIO()
    try:
        image.save(out, format=format)
    except (OSError, ValueError):
        # A mode the format cannot hold (CMYK or float pixels as PNG, say): save it as RGB(A).
        out = io.BytesIO()
        flatten_mode = "RGBA" if "A" in image.getbands() and format != "JPEG" else "RGB"
        if image.mode in ("F", "I", "I;16"):
            image = image.convert("L")
        image.convert(flatten_mode).save(out, format=format)
    return out.getvalue()


def flatten(image: Image.Image) -> Image.Image:
    if "A" in image.getbands() or image.mode == "P":
        rgba = image.convert("RGBA")
        background = Image.new("RGB", rgba.size, (255, 255, 255))
        background.paste(rgba, mask=rgba.getchannel("A"))
        return background
    return image.convert("RGB")


@dataclass
class Audio:
    """PCM audio: float32 samples in [-1, 1], shaped (frames, channels).

    Stored as 16-bit WAV by `audio_to_wav`; every change in between runs on whole numpy
    arrays (or PyAV's resampler), never sample by sample in Python.
    """

    samples: np.ndarray
    rate: int

    def __post_init__(self) -> None:
        samples = np.asarray(self.samples, dtype=np.float32)
        if samples.ndim == 1:
            samples = samples[:, None]
        if samples.ndim != 2 or samples.shape[1] < 1:
            raise MediaError(f"audio samples must be (frames, channels), not {samples.shape}")
        self.samples = samples

    @property
    def channels(self) -> int:
        return int(self.samples.shape[1])

    @property
    def frames(self) -> int:
        return int(self.samples.shape[0])

    @property
    def duration(self) -> float:
        return self.frames / self.rate

    def int16(self) -> np.ndarray:
        """The samples as 16-bit integers, clipped to full scale: what a WAV file holds."""
        return np.round(np.clip(self.samples, -1.0, 1.0) * 32767.0).astype("<i2")


# Samples handed to PyAV's resampler per frame: big enough to amortise the call, small
# enough to stay in cache (one frame of a minute of stereo is several times slower).
RESAMPLE_CHUNK = 65536
# Samples (frames x channels) one clip may hold: 512 MB as float32, about 22 minutes of
# 48 kHz stereo or 4 hours of 8 kHz mono. Checked before anything that size is allocated.
MAX_AUDIO_SAMPLES = 128_000_000


def check_audio_size(frames: int, channels: int) -> None:
    if frames * channels > MAX_AUDIO_SAMPLES:
        raise MediaError(
            f"the audio would hold {frames * channels:,} samples, more than the "
            f"{MAX_AUDIO_SAMPLES:,} allowed (about 22 minutes of 48 kHz stereo)"
        )


def audio_from_bytes(data: bytes) -> Audio:
    """WAV through numpy; anything else (MP3, OGG, FLAC, M4A, a video's sound) through PyAV."""
    if data[:4] == b"RIFF" and data[8:12] == b"WAVE":
        try:
            return audio_from_wav(data)
        except MediaError:
            pass  # e.g. a float or compressed WAV: PyAV reads those
    return _decode_audio(data)


def audio_from_wav(data: bytes) -> Audio:
    try:
        with wave.open(io.BytesIO(data), "rb") as reader:
            width = reader.getsampwidth()
            channels = reader.getnchannels()
            rate = reader.getframerate()
            raw = reader.readframes(reader.getnframes())
    except (wave.Error, EOFError) as error:
        raise MediaError(f"not a readable WAV file ({error})") from error
    check_audio_size(len(raw) // max(width, 1), 1)
    samples = _pcm_to_float(raw, width)
    usable = len(samples) // channels * channels
    return Audio(samples[:usable].reshape(-1, channels), rate)


def _pcm_to_float(raw: bytes, width: int) -> np.ndarray:
    if width == 2:
        return np.frombuffer(raw[: len(raw) // 2 * 2], dtype="<i2").astype(np.float32) / 32768.0
    if width == 1:
        return (np.frombuffer(raw, dtype=np.uint8).astype(np.float32) - 128.0) / 128.0
    if width == 4:
        return np.frombuffer(raw[: len(raw) // 4 * 4], dtype="<i4").astype(np.float32) / 2.0**31
    if width == 3:
        triples = np.frombuffer(raw[: len(raw) // 3 * 3], dtype=np.uint8).reshape(-1, 3)
        wide = np.zeros((len(triples), 4), dtype=np.uint8)
        wide[:, 1:] = triples  # little-endian: the low byte stays zero
        return wide.view("<i4").ravel().astype(np.float32) / 2.0**31
    raise MediaError(f"unsupported WAV sample width of {width} bytes")


def _decode_audio(data: bytes) -> Audio:
    import av

    try:
        with av.open(io.BytesIO(data), mode="r") as container:
            if not container.streams.audio:
                raise MediaError("the file has no audio stream")
            stream = container.streams.audio[0]
            rate = stream.rate or stream.codec_context.sample_rate
            layout = stream.codec_context.layout.name
            resampler = av.AudioResampler(format="fltp", layout=layout, rate=rate)
            parts: list[np.ndarray] = []
            total = 0
            for frame in container.decode(stream):
                for out in resampler.resample(frame):
                    part = out.to_ndarray()
                    parts.append(part)
                    total += part.shape[1]
                check_audio_size(total, stream.codec_context.channels or 1)
            parts.extend(out.to_ndarray() for out in resampler.resample(None))
    except av.FFmpegError as error:
        raise MediaError(f"not readable audio ({error})") from error
    if not parts:
        return Audio(np.zeros((0, len(av.AudioLayout(layout).channels))), rate)
    return Audio(np.concatenate(parts, axis=1).T, rate)


def audio_to_wav(audio: Audio) -> bytes:
    out = io.BytesIO()
    with wave.open(out, "wb") as writer:
        writer.setnchannels(audio.channels)
        writer.setsampwidth(2)
        writer.setframerate(audio.rate)
        writer.writeframes(audio.int16().tobytes())
    return out.getvalue()


# format -> (container, codec, sample rates the codec takes (None: any), content type)
AUDIO_FORMATS: dict[str, tuple[str, str, tuple[int, ...] | None, str]] = {
    "mp3": ("mp3", "libmp3lame", (44100, 48000, 32000, 22050, 24000, 16000), "audio/mpeg"),
    "ogg": ("ogg", "libopus", (48000, 24000, 16000, 12000, 8000), "audio/ogg"),
    "flac": ("flac", "flac", None, "audio/flac"),
}


def encode_audio(audio: Audio, format: str, *, bitrate: int = 192_000) -> bytes:
    """`audio` as WAV, or as MP3, Ogg Opus or FLAC through PyAV (resampled when needed)."""
    if format == "wav":
        return audio_to_wav(audio)
    import av

    container_format, codec, rates, _ = AUDIO_FORMATS[format]
    if audio.channels > 2:
        audio = with_channels(audio, 2)
    if rates is not None and audio.rate not in rates:
        audio = resampled(audio, min(rates, key=lambda r: (r < audio.rate, abs(r - audio.rate))))
    layout = "mono" if audio.channels == 1 else "stereo"
    out = io.BytesIO()
    with av.open(out, mode="w", format=container_format) as container:
        stream: Any = container.add_stream(codec, rate=audio.rate, layout=layout)
        if format != "flac":
            stream.bit_rate = bitrate
        planar = np.ascontiguousarray(audio.int16().T)
        for start in range(0, max(audio.frames, 1), RESAMPLE_CHUNK):
            frame = av.AudioFrame.from_ndarray(
                planar[:, start : start + RESAMPLE_CHUNK], format="s16p", layout=layout
            )
            frame.sample_rate = audio.rate
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    return out.getvalue()


def tone(*, frequency: float, duration: float, rate: int, amplitude: float) -> Audio:
    count = round(duration * rate)
    check_audio_size(count, 1)
    t = np.arange(count, dtype=np.float64)
    return Audio((amplitude * np.sin(2 * np.pi * frequency / rate * t)).astype(np.float32), rate)


def silence(*, duration: float, rate: int, channels: int = 1) -> Audio:
    check_audio_size(round(duration * rate), channels)
    return Audio(np.zeros((round(duration * rate), channels), dtype=np.float32), rate)


def with_channels(audio: Audio, channels: int) -> Audio:
    """Mono is copied to every channel; anything else is averaged to mono first."""
    if audio.channels == channels:
        return audio
    if audio.channels == 1:
        mono = audio.samples
    else:
        # Column by column: numpy's mean over a 2-wide axis is ~50x slower than this.
        total = audio.samples[:, 0].copy()
        for channel in range(1, audio.channels):
            total += audio.samples[:, channel]
        mono = (total * np.float32(1 / audio.channels))[:, None]
    if channels == 1:
        return Audio(mono, audio.rate)
    return Audio(np.repeat(mono, channels, axis=1), audio.rate)


def _layout(channels: int) -> str:
    return {1: "mono", 2: "stereo"}.get(channels, f"{channels}c")


def resampled(audio: Audio, rate: int) -> Audio:
    """PyAV's (FFmpeg's swresample) band-limited resampler, fed in chunks.

    The result has exactly round(frames * rate / old rate) frames, so lengths add up.
    """
    if audio.rate == rate:
        return audio
    count = round(audio.frames * rate / audio.rate)
    check_audio_size(count, audio.channels)
    if audio.frames == 0:
        return Audio(np.zeros((0, audio.channels), np.float32), rate)
    import av

    layout = _layout(audio.channels)
    resampler = av.AudioResampler(format="fltp", layout=layout, rate=rate)
    planar = np.ascontiguousarray(audio.samples.T)
    parts: list[np.ndarray] = []
    for start in range(0, audio.frames, RESAMPLE_CHUNK):
        frame = av.AudioFrame.from_ndarray(
            np.ascontiguousarray(planar[:, start : start + RESAMPLE_CHUNK]),
            format="fltp",
            layout=layout,
        )
        frame.sample_rate = audio.rate
        parts.extend(out.to_ndarray() for out in resampler.resample(frame))
    parts.extend(out.to_ndarray() for out in resampler.resample(None))
    samples = np.concatenate(parts, axis=1).T if parts else np.zeros((0, audio.channels))
    return Audio(fit_length(samples, count), rate)


def tempo_changed(audio: Audio, factor: float) -> Audio:
    """Faster (`factor` > 1) or slower at the same pitch: FFmpeg's atempo filter (WSOLA)."""
    import av

    if factor == 1 or audio.frames == 0:
        return audio
    check_audio_size(round(audio.frames / factor), audio.channels)
    layout = _layout(audio.channels)
    graph = av.filter.Graph()
    previous = graph.add_abuffer(format="fltp", sample_rate=audio.rate, layout=layout)
    # One atempo takes 0.5 to 2 well; beyond that, chain several.
    steps = max(1, math.ceil(abs(math.log2(factor))))
    for _ in range(steps):
        stage = graph.add("atempo", f"{factor ** (1 / steps):.6f}")
        previous.link_to(stage)
        previous = stage
    # atempo may hand back interleaved samples: ask for planar ones, as everywhere else.
    planar_format = graph.add("aformat", "sample_fmts=fltp")
    previous.link_to(planar_format)
    sink = graph.add("abuffersink")
    planar_format.link_to(sink)
    graph.configure()
    planar = np.ascontiguousarray(audio.samples.T)
    parts: list[np.ndarray] = []

    def drain() -> None:
        while True:
            try:
                parts.append(graph.pull().to_ndarray())
            except (av.BlockingIOError, av.EOFError):
                return

    for start in range(0, audio.frames, RESAMPLE_CHUNK):
        frame = av.AudioFrame.from_ndarray(
            np.ascontiguousarray(planar[:, start : start + RESAMPLE_CHUNK]),
            format="fltp",
            layout=layout,
        )
        frame.sample_rate = audio.rate
        frame.pts = start
        frame.time_base = Fraction(1, audio.rate)
        graph.push(frame)
        drain()
    graph.push(None)
    drain()
    samples = np.concatenate(parts, axis=1).T if parts else np.zeros((0, audio.channels))
    return Audio(fit_length(samples, round(audio.frames / factor)), audio.rate)


def fit_length(samples: np.ndarray, frames: int) -> np.ndarray:
    """Cut or pad (with silence) to exactly `frames` frames."""
    if len(samples) >= frames:
        return samples[:frames]
    pad = np.zeros((frames - len(samples), samples.shape[1]), dtype=samples.dtype)
    return np.concatenate([samples, pad])


def matched(audio: Audio, like: Audio) -> Audio:
    """`audio` in the rate and channel count of `like`."""
    return resampled(with_channels(audio, like.channels), like.rate)


def concatenated(clips: Sequence[Audio]) -> Audio:
    """Joined in order, in the rate and channel count of the first clip."""
    first = clips[0]
    return Audio(np.concatenate([matched(clip, first).samples for clip in clips]), first.rate)


def mixed(clips: Sequence[Audio], gains: Sequence[float], offsets: Sequence[float]) -> Audio:
    """Clips summed with their gains, each starting `offset` seconds in; as long as the
    longest, in the rate and channel count of the first. Clipped to full scale."""
    first = clips[0]
    parts = [matched(clip, first) for clip in clips]
    starts = [round(offset * first.rate) for offset in offsets]
    length = max(start + part.frames for start, part in zip(starts, parts, strict=True))
    check_audio_size(length, first.channels)
    out = np.zeros((length, first.channels), dtype=np.float32)
    for part, gain, start in zip(parts, gains, starts, strict=True):
        out[start : start + part.frames] += part.samples * np.float32(gain)
    return Audio(np.clip(out, -1.0, 1.0), first.rate)


def normalized(audio: Audio, peak: float) -> Audio:
    loudest = float(np.abs(audio.samples).max(initial=0.0))
    if loudest == 0:
        return audio
    return Audio(np.clip(audio.samples * np.float32(peak / loudest), -1.0, 1.0), audio.rate)


def gained(audio: Audio, decibels: float) -> Audio:
    factor = np.float32(10 ** (decibels / 20))
    return Audio(np.clip(audio.samples * factor, -1.0, 1.0), audio.rate)


MAX_VIDEO_FRAMES = 100_000


@dataclass(frozen=True)
class VideoInfo:
    width: int
    height: int
    fps: Fraction
    duration: float
    has_audio: bool


def _open_video(data: bytes) -> Any:
    import av

    try:
        container = av.open(io.BytesIO(data), mode="r")
    except av.FFmpegError as error:
        raise MediaError(f"not a readable video ({error})") from error
    if not container.streams.video:
        container.close()
        raise MediaError("the file has no video stream")
    context = container.streams.video[0].codec_context
    if (context.width or 0) * (context.height or 0) > MAX_IMAGE_PIXELS:
        container.close()
        raise MediaError(f"the video's frames are larger than {MAX_IMAGE_PIXELS} pixels")
    return container


def video_info(data: bytes) -> VideoInfo:
    with _open_video(data) as container:
        stream = container.streams.video[0]
        fps = Fraction(stream.average_rate or stream.guessed_rate or 25)
        if stream.duration is not None and stream.time_base is not None:
            duration = float(stream.duration * stream.time_base)
        elif container.duration is not None:
            duration = container.duration / 1_000_000
        else:
            duration = (stream.frames or 0) / float(fps)
        return VideoInfo(
            width=stream.codec_context.width,
            height=stream.codec_context.height,
            fps=fps,
            duration=duration,
            has_audio=bool(container.streams.audio),
        )


def video_frames(data: bytes) -> Generator[tuple[float, Image.Image], None, None]:
    """Each frame as (its time in seconds, an RGB image), decoded one at a time."""
    import av

    with _open_video(data) as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        try:
            for index, frame in enumerate(container.decode(stream)):
                if index >= MAX_VIDEO_FRAMES:
                    raise MediaError(f"the video has more than {MAX_VIDEO_FRAMES} frames")
                time = float(frame.time) if frame.time is not None else 0.0
                yield time, frame.to_image()
        except av.FFmpegError as error:
            raise MediaError(f"the video could not be decoded ({error})") from error


def video_audio(data: bytes) -> Audio | None:
    """The first audio stream of a video, or None when it has none."""
    with _open_video(data) as container:
        if not container.streams.audio:
            return None
    return _decode_audio(data)


class Mp4Writer:
    """H.264 (yuv420p, even sides) in MP4, frames added one by one, with optional AAC audio."""

    def __init__(
        self, *, width: int, height: int, fps: float | Fraction, audio: Audio | None = None
    ) -> None:
        import av

        self.width = max(2, width // 2 * 2)
        self.height = max(2, height // 2 * 2)
        self._out = io.BytesIO()
        self._container = av.open(self._out, mode="w", format="mp4")
        rate = Fraction(fps).limit_denominator(1001)
        self._video = self._container.add_stream("libx264", rate=rate)
        self._video.width = self.width
        self._video.height = self.height
        self._video.pix_fmt = "yuv420p"
        self._video.options = {"preset": "veryfast", "crf": "18"}
        self._audio = audio
        self._audio_stream = None
        if audio is not None and audio.frames:
            layout = "mono" if audio.channels == 1 else "stereo"
            self._audio = with_channels(audio, 1 if audio.channels == 1 else 2)
            self._audio_stream = self._container.add_stream("aac", rate=audio.rate, layout=layout)
        self.count = 0

    def add(self, image: Image.Image) -> None:
        import av

        frame_image = image.convert("RGB")
        if frame_image.size != (self.width, self.height):
            frame_image = frame_image.resize((self.width, self.height), Image.Resampling.LANCZOS)
        for packet in self._video.encode(av.VideoFrame.from_image(frame_image)):
            self._container.mux(packet)
        self.count += 1

    def _write_audio(self) -> None:
        import av

        if self._audio is None or self._audio_stream is None:
            return
        audio, stream = self._audio, self._audio_stream
        layout = "mono" if audio.channels == 1 else "stereo"
        planar = np.ascontiguousarray(audio.samples.T)
        # AAC frames hold 1024 samples: hand it exactly that so timestamps stay exact.
        for start in range(0, audio.frames, 1024):
            frame = av.AudioFrame.from_ndarray(
                np.ascontiguousarray(planar[:, start : start + 1024]), format="fltp", layout=layout
            )
            frame.sample_rate = audio.rate
            frame.pts = start
            for packet in stream.encode(frame):
                self._container.mux(packet)
        for packet in stream.encode(None):
            self._container.mux(packet)

    def finish(self) -> bytes:
        if self.count == 0:
            raise MediaError("a video needs at least one frame")
        for packet in self._video.encode(None):
            self._container.mux(packet)
        self._write_audio()
        self._container.close()
        return self._out.getvalue()


def mp4_from_images(
    images: Iterable[Image.Image], *, fps: float | Fraction, audio: Audio | None = None
) -> bytes:
    """H.264 in MP4, sized to the first frame (rounded down to even, as yuv420p requires)."""
    writer: Mp4Writer | None = None
    for image in images:
        if writer is None:
            writer = Mp4Writer(width=image.width, height=image.height, fps=fps, audio=audio)
        writer.add(image)
    if writer is None:
        raise MediaError("a video needs at least one frame")
    return writer.finish()
