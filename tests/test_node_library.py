"""The node library, each node run through the real runner (one job per family) on small
generated inputs, its output checked by content: pixels, samples, frames and durations."""

from __future__ import annotations

import array
import io
import itertools
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import av
import numpy as np
import pytest
from PIL import Image

from execution import media
from execution.registry import NodeRegistry
from tests import node_samples as samples
from tests.conftest import TroveClient
from tests.make_golden import RENDERS
from tests.test_execution_support import download, edge, graph, node, run_job

GOLDEN = Path(__file__).parent / "golden"
# Node types whose content tests live in tests/test_nodes.py.
TESTED_ELSEWHERE = {
    "image.Create",
    "image.Resize",
    "image.Crop",
    "image.Blur",
    "image.Grayscale",
    "image.Paste",
    "image.Grid",
    "image.RenderText",
    "image.Frames",
    "audio.Tone",
    "audio.Silence",
    "audio.Concat",
    "audio.Normalize",
    "text.Format",
    "text.ToDocument",
    "data.ToJSON",
    "asset.Load",
    "asset.Save",
    "input.Text",
    "input.Number",
    "input.Image",
    "control.Delay",
    "control.Output",
    # Its own tests below: it needs espeak-ng, and checks the message without it.
    "audio.TextToSpeech",
}


@dataclass
class Output:
    content_type: str
    data: bytes

    @property
    def image(self) -> Image.Image:
        image = Image.open(io.BytesIO(self.data))
        image.load()
        return image

    def rgb(self, x: int, y: int) -> tuple[int, ...]:
        return tuple(self.image.convert("RGB").getpixel((x, y)))  # type: ignore[arg-type]

    def pixels(self) -> np.ndarray:
        return np.asarray(self.image.convert("RGB"), dtype=np.int16)

    @property
    def audio(self) -> media.Audio:
        return media.audio_from_bytes(self.data)

    @property
    def frames(self) -> list[Image.Image]:
        with av.open(io.BytesIO(self.data), mode="r") as container:
            return [frame.to_image() for frame in container.decode(video=0)]

    @property
    def has_audio(self) -> bool:
        with av.open(io.BytesIO(self.data)) as container:
            return bool(container.streams.audio)


Check = Callable[[Any], None]


@dataclass
class Case:
    type: str
    check: Check
    data: dict[str, Any] = field(default_factory=dict)
    # input name -> sample name (a node of the family graph) or list of sample names
    inputs: dict[str, str | list[str]] = field(default_factory=lambda: {"image": "pattern"})
    name: str = ""

    @property
    def id(self) -> str:
        return self.name or self.type.split(".", 1)[1]


def near(actual: Any, expected: Any, tolerance: float = 2) -> bool:
    return bool(
        np.all(np.abs(np.asarray(actual, float) - np.asarray(expected, float)) <= tolerance)
    )


def check(condition: bool, message: str = "") -> None:
    assert condition, message


P = samples.pattern_pixel
PATTERN = np.asarray(samples.pattern(), dtype=np.int16)


def rises(signal: np.ndarray) -> int:
    """Upward zero crossings: a sine of f Hz has f per second."""
    return int(np.sum((signal[:-1] < 0) & (signal[1:] >= 0)))


def grey_value(out: Output) -> int:
    return round(float(out.pixels()[..., 0].mean()))


def _distinct(out: Output) -> set[int]:
    return set(np.unique(out.pixels()).tolist())


IMAGE_CASES = [
    Case("image.Scale", lambda o: check(o.image.size == (8, 6)), {"factor": 0.5}),
    Case("image.Fit", lambda o: check(o.image.size == (8, 6)), {"width": 8, "height": 8}),
    Case(
        "image.Fit",
        lambda o: check(o.image.size == (8, 8) and near(o.rgb(4, 4), P(8, 6), 20)),
        {"width": 8, "height": 8, "mode": "cover"},
        name="Fit-cover",
    ),
    Case(
        "image.Fit",
        lambda o: check(o.image.size == (8, 8) and o.rgb(4, 0) == (255, 0, 0)),
        {"width": 8, "height": 8, "mode": "pad", "color": "red"},
        name="Fit-pad",
    ),
    Case(
        "image.Rotate",
        lambda o: check(o.image.size == (12, 16) and o.rgb(0, 0) == P(15, 0)),
        {"angle": 90},
    ),
    Case(
        "image.Rotate",
        lambda o: check(
            o.image.size == (16, 12)
            and o.image.mode == "RGBA"
            and o.image.getpixel((0, 0))[3] == 0
            and near(o.rgb(8, 6), P(8, 6), 12)
        ),
        {"angle": 30, "expand": False},
        name="Rotate-30",
    ),
    Case("image.Flip", lambda o: check(o.rgb(0, 0) == P(15, 0))),
    Case(
        "image.Flip",
        lambda o: check(o.rgb(0, 0) == P(0, 11)),
        {"direction": "vertical"},
        name="Flip-vertical",
    ),
    Case(
        "image.Pad",
        lambda o: check(
            o.image.size == (32, 28) and o.rgb(0, 0) == (0, 0, 0) and o.rgb(8, 8) == P(0, 0)
        ),
    ),
    Case(
        "image.Composite",
        lambda o: check(
            near(o.rgb(1, 1), [round(c * 128 / 255) for c in P(1, 1)], 1)
            and o.rgb(12, 2) == P(12, 2)
        ),
        {"mode": "multiply"},
        {"image": "pattern", "overlay": "grey"},
    ),
    Case(
        "image.Composite",
        lambda o: check(o.rgb(1, 1) == (128, 128, 128) and o.rgb(6, 1) == P(6, 1)),
        {},
        {"image": "pattern", "overlay": "grey", "mask": "mask"},
        name="Composite-mask",
    ),
    Case(
        "image.Composite",
        lambda o: check(near(o.rgb(1, 1), [(c + 128) / 2 for c in P(1, 1)], 1)),
        {"opacity": 0.5},
        {"image": "pattern", "overlay": "grey"},
        name="Composite-opacity",
    ),
    Case(
        "image.MaskFromColor",
        lambda o: check(
            o.image.mode == "L"
            and int(np.sum(np.asarray(o.image) == 255)) == 1
            and o.image.getpixel((3, 3)) == 255
        ),
        {"color": "#{:02x}{:02x}{:02x}".format(*P(3, 3)), "tolerance": 0},
    ),
    Case(
        "image.MaskFromAlpha",
        lambda o: check(o.image.getpixel((1, 1)) == 255 and o.image.getpixel((6, 1)) == 0),
        inputs={"image": "alpha"},
    ),
    Case(
        "image.Pixelate",
        lambda o: check(
            o.rgb(0, 0) == o.rgb(3, 3) and o.rgb(0, 0) != o.rgb(4, 0) and o.image.size == (16, 12)
        ),
        {"block": 4},
    ),
    Case(
        "image.ConvertFormat",
        lambda o: check(o.content_type == "image/jpeg" and near(o.rgb(8, 6), P(8, 6), 12)),
        {"format": "jpeg", "quality": 95},
    ),
    Case(
        "image.ConvertFormat",
        lambda o: check(o.content_type == "image/webp" and o.rgb(8, 6) == P(8, 6)),
        {"format": "webp", "lossless": True},
        name="ConvertFormat-webp",
    ),
    Case("image.Brightness", lambda o: check(grey_value(o) == 192), inputs={"image": "grey"}),
    Case(
        "image.Contrast",
        lambda o: check(len({tuple(p) for p in o.pixels().reshape(-1, 3)}) == 1),
        {"factor": 0},
    ),
    Case(
        "image.Sharpness",
        lambda o: check(o.rgb(4, 4)[0] > 192 and o.rgb(8, 8) == (192, 192, 192)),
        inputs={"image": "square"},
    ),
    Case(
        "image.Saturation",
        lambda o: check(bool(np.all(np.ptp(o.pixels(), axis=2) <= 1))),
        {"factor": 0},
    ),
    Case(
        "image.AutoContrast",
        lambda o: check(o.rgb(0, 0) == (0, 0, 0) and o.rgb(8, 8) == (255, 255, 255)),
        inputs={"image": "square"},
    ),
    Case(
        "image.Equalize",
        lambda o: check(
            o.pixels()[..., 0].min() == 0
            and o.pixels()[..., 0].max() > 220
            and bool(np.all(np.diff(o.pixels()[0, :48:4, 0]) > 8))
        ),
        inputs={"image": "dark"},
    ),
    Case("image.Posterize", lambda o: check(_distinct(o) <= {0, 128}), {"bits": 1}),
    Case(
        "image.Solarize",
        lambda o: check(o.rgb(0, 0) == P(0, 0) and o.rgb(15, 0) == (255 - 248, 10, 100)),
    ),
    Case("image.Invert", lambda o: check(bool(np.all(o.pixels() == 255 - PATTERN)))),
    Case("image.Exposure", lambda o: check(174 <= grey_value(o) <= 178), inputs={"image": "grey"}),
    Case("image.Gamma", lambda o: check(grey_value(o) == 181), {"gamma": 2.0}, {"image": "grey"}),
    Case(
        "image.Levels",
        lambda o: check(o.rgb(0, 0) == (0, 0, 0) and o.rgb(8, 8) == (255, 255, 255)),
        {"in_black": 64, "in_white": 192},
        {"image": "square"},
    ),
    Case(
        "image.Curves",
        lambda o: check(grey_value(o) == 255),
        {"points": [[0, 0], [128, 255], [255, 255]]},
        {"image": "grey"},
    ),
    Case(
        "image.Curves",
        lambda o: check(o.rgb(8, 8) == (192, 192, 255) and o.rgb(0, 0) == (64, 64, 0)),
        {"points": [[0, 0], [64, 0], [192, 255], [255, 255]], "channel": "blue"},
        {"image": "square"},
        name="Curves-blue",
    ),
    Case(
        "image.LiftGammaGain",
        lambda o: check(grey_value(o) == 64),
        {"gain": 0.5},
        {"image": "grey"},
    ),
    Case(
        "image.HueShift",
        lambda o: check(near(o.rgb(1, 1), (0, 255, 0), 8)),
        {"degrees": 120},
        {"image": "red"},
    ),
    Case(
        "image.WhiteBalance",
        lambda o: check(near(o.rgb(1, 1), [96, 96, 96], 2)),
        inputs={"image": "cast"},
    ),
    Case(
        "image.Vignette",
        lambda o: check(o.rgb(8, 8)[0] >= 250 and o.rgb(0, 0)[0] <= 10),
        {"strength": 1, "radius": 0},
        {"image": "white"},
    ),
    Case(
        "image.FilmGrain",
        lambda o: check(abs(o.pixels().mean() - 128) < 6 and 15 < o.pixels().std() < 35),
        {"amount": 0.1},
        {"image": "grey"},
    ),
    Case(
        "image.Tint",
        lambda o: check(o.rgb(1, 1)[0] > 200 and o.rgb(1, 1)[1] < 90 and o.rgb(1, 1)[2] < 90),
        {"color": "#ff0000", "amount": 1},
        {"image": "grey"},
    ),
    Case(
        "image.Sepia",
        lambda o: check(near(o.rgb(1, 1), (173, 154, 120), 2)),
        inputs={"image": "grey"},
    ),
    Case(
        "image.Threshold",
        lambda o: check(
            _distinct(o) == {0, 255}
            and o.rgb(0, 0) == (0, 0, 0)
            and o.rgb(15, 11) == (255, 255, 255)
        ),
    ),
    Case(
        "image.Dither",
        lambda o: check(_distinct(o) == {0, 255} and 0.4 < float((o.pixels() == 255).mean()) < 0.6),
        inputs={"image": "grey"},
    ),
    Case(
        "image.Dither",
        lambda o: check(len({tuple(p) for p in o.pixels().reshape(-1, 3)}) <= 4),
        {"colors": 4},
        name="Dither-4",
    ),
    Case(
        "image.ApplyLUT",
        lambda o: check(near(o.pixels(), 255 - PATTERN, 2)),
        inputs={"image": "pattern", "lut": "cube"},
    ),
]

FILTER_CASES = [
    Case(
        "image.BoxBlur",
        lambda o: check(
            64 < o.rgb(4, 4)[0] < 192 and o.rgb(0, 0)[0] == 64 and o.rgb(8, 8)[0] == 192
        ),
        {"radius": 1},
        {"image": "square"},
    ),
    Case(
        "image.MedianFilter",
        lambda o: check(o.rgb(4, 4) == (100, 100, 100)),
        inputs={"image": "speckle"},
    ),
    Case(
        "image.ModeFilter",
        lambda o: check(o.rgb(4, 4) == (100, 100, 100)),
        inputs={"image": "speckle"},
    ),
    Case(
        "image.MinFilter",
        lambda o: check(o.rgb(4, 4)[0] == 64 and o.rgb(5, 5)[0] == 192),
        inputs={"image": "square"},
    ),
    Case(
        "image.MaxFilter",
        lambda o: check(o.rgb(3, 3)[0] == 192 and o.rgb(2, 2)[0] == 64),
        inputs={"image": "square"},
    ),
    Case(
        "image.UnsharpMask",
        lambda o: check(o.rgb(4, 4)[0] > 192 and o.rgb(3, 3)[0] < 64),
        inputs={"image": "square"},
    ),
    Case("image.Sharpen", lambda o: check(o.rgb(4, 4)[0] > 192), inputs={"image": "square"}),
    Case(
        "image.Emboss",
        lambda o: check(o.rgb(8, 8)[0] == 128 and o.pixels().max() > 150),
        inputs={"image": "square"},
    ),
    Case(
        "image.Contour",
        lambda o: check(o.rgb(8, 8)[0] == 255 and o.pixels().min() < 200),
        inputs={"image": "square"},
    ),
    Case(
        "image.FindEdges",
        lambda o: check(o.rgb(8, 8)[0] == 0 and o.rgb(4, 8)[0] > 100),
        inputs={"image": "square"},
    ),
    Case(
        "image.Detail",
        lambda o: check(o.rgb(8, 8)[0] == 192 and o.rgb(4, 4)[0] > 192),
        inputs={"image": "square"},
    ),
    Case(
        "image.EdgeEnhance",
        lambda o: check(o.rgb(8, 8)[0] == 192 and o.rgb(4, 4)[0] > 192),
        {"strong": True},
        {"image": "square"},
    ),
    Case(
        "image.Smooth",
        lambda o: check(o.rgb(8, 8)[0] == 192 and o.rgb(4, 4)[0] < 192),
        inputs={"image": "square"},
    ),
]


def audio_of(o: Output) -> media.Audio:
    return o.audio


def _peak(samples: np.ndarray) -> float:
    return float(np.abs(samples).max(initial=0.0))


def check_mix(o: Output) -> None:
    a = o.audio
    check(a.frames == 8000 and a.channels == 2, f"{a.frames} frames, {a.channels} channels")
    # The 1000 Hz tone (0.5 s at 0.25, doubled) starts at 0.5 s, in the silent middle.
    check(_peak(a.samples[4000:6000]) == pytest.approx(0.5, abs=0.01))
    check(_peak(a.samples[2000:4000]) == 0)
    check(rises(a.samples[4000:6000, 0]) in range(248, 252))


def check_remove_silence(o: Output) -> None:
    a = o.audio
    # 0.25 s + 0.05 s padding + 0.05 s padding + 0.25 s
    check(abs(a.frames - 4800) <= 80, f"{a.frames} frames")
    check(_peak(a.samples[-100:]) > 0.1)


def check_pan(o: Output) -> None:
    a = o.audio
    check(a.channels == 2 and _peak(a.samples[:, 1]) < 1e-3 and _peak(a.samples[:, 0]) > 0.3)


AUDIO_CASES = [
    Case("audio.Mix", check_mix, {"gain_b": 2.0, "offset": 0.5}, {"a": "speech", "b": "tone"}),
    Case(
        "audio.Gain",
        lambda o: check(
            _peak(o.audio.samples[:, 0]) == pytest.approx(0.5 * 10 ** (6 / 20), abs=0.01)
        ),
        {"decibels": 6},
        {"audio": "speech"},
    ),
    Case(
        "audio.Trim",
        lambda o: check(o.audio.frames == 2000 and _peak(o.audio.samples) > 0.45),
        {"start": 0.75, "end": 1.0},
        {"audio": "speech"},
    ),
    Case(
        "audio.FadeIn",
        lambda o: check(
            _peak(o.audio.samples[:50]) < 0.01 and _peak(o.audio.samples[1900:2000, 0]) > 0.45
        ),
        {"duration": 0.25},
        {"audio": "speech"},
    ),
    Case(
        "audio.FadeOut",
        lambda o: check(
            _peak(o.audio.samples[-50:]) < 0.01 and _peak(o.audio.samples[6000:6100, 0]) > 0.45
        ),
        {"duration": 0.25},
        {"audio": "speech"},
    ),
    Case("audio.RemoveSilence", check_remove_silence, inputs={"audio": "speech"}),
    Case(
        "audio.ChangeSpeed",
        lambda o: check(
            o.audio.frames == 4000
            and o.audio.rate == 8000
            and rises(o.audio.samples[:1000, 0]) in range(99, 102)
        ),
        {"factor": 2, "keep_pitch": False},
        {"audio": "speech"},
    ),
    Case(
        "audio.ChangeSpeed",
        # Half as long, the 400 Hz tone still 400 Hz: 50 rises in its first 0.125 s.
        lambda o: check(
            o.audio.frames == 4000
            and rises(o.audio.samples[:1000, 0]) in range(47, 53)
            and _peak(o.audio.samples[:1000]) > 0.4
        ),
        {"factor": 2},
        {"audio": "speech"},
        name="ChangeSpeed-keep-pitch",
    ),
    Case(
        "audio.Resample",
        lambda o: check(
            o.audio.rate == 16000
            and o.audio.frames == 16000
            and rises(o.audio.samples[:4000, 0]) in range(99, 102)
        ),
        {"sample_rate": 16000},
        {"audio": "speech"},
    ),
    Case(
        "audio.Reverse",
        lambda o: check(near(o.audio.samples, samples.speech_like().samples[::-1], 1 / 16000)),
        inputs={"audio": "speech"},
    ),
    Case(
        "audio.Repeat",
        lambda o: check(
            o.audio.frames == 24000
            and near(o.audio.samples[8000:16000], samples.speech_like().samples, 1e-4)
        ),
        {"times": 3},
        {"audio": "speech"},
    ),
    Case("audio.Pan", check_pan, {"position": -1}, {"audio": "speech"}),
    Case(
        "audio.ToMono",
        lambda o: check(
            o.audio.channels == 1 and _peak(o.audio.samples) == pytest.approx(0.375, abs=0.01)
        ),
        inputs={"audio": "speech"},
    ),
    Case(
        "audio.ToStereo",
        lambda o: check(
            o.audio.channels == 2 and bool(np.all(o.audio.samples[:, 0] == o.audio.samples[:, 1]))
        ),
        inputs={"audio": "tone"},
    ),
    Case(
        "audio.ConvertFormat",
        lambda o: check(
            o.content_type == "audio/mpeg"
            and abs(o.audio.duration - 1.0) < 0.06
            and _peak(o.audio.samples) > 0.4
        ),
        inputs={"audio": "speech"},
    ),
    Case(
        "audio.ConvertFormat",
        lambda o: check(
            o.content_type == "audio/ogg"
            and o.audio.rate == 48000
            and abs(o.audio.duration - 1.0) < 0.06
        ),
        {"format": "ogg"},
        {"audio": "speech"},
        name="ConvertFormat-ogg",
    ),
    Case(
        "audio.ConvertFormat",
        lambda o: check(
            o.content_type == "audio/flac"
            and near(o.audio.samples, samples.speech_like().samples, 1.5 / 32768)
        ),
        {"format": "flac"},
        {"audio": "speech"},
        name="ConvertFormat-flac",
    ),
]


def near_color(image: Image.Image, color: tuple[int, ...], tolerance: int = 8) -> bool:
    center = image.convert("RGB").getpixel((image.width // 2, image.height // 2))
    return near(center, color, tolerance)


def sound_of(o: Output) -> media.Audio:
    sound = media.video_audio(o.data)
    assert sound is not None, "the video has no sound"
    return sound


def check_trim(o: Output) -> None:
    frames = o.frames
    check(len(frames) == 4, f"{len(frames)} frames")
    check(near_color(frames[0], samples.clip_color(3)), str(frames[0].getpixel((0, 0))))
    sound = media.video_audio(o.data)
    check(sound is not None and 0.35 < sound.duration < 0.5)


def check_subtitles(o: Output) -> None:
    frames = o.frames
    first = np.asarray(frames[0], dtype=np.int16)
    last = np.asarray(frames[9], dtype=np.int16)
    check(len(frames) == 10)
    check(int((first[24:] > 230).all(axis=2).sum()) > 10, "white text at the bottom")
    check(bool(np.all(np.abs(last - samples.clip_color(9)) <= 8)), "no text after the cue")


def check_overlay(o: Output) -> None:
    frames = o.frames
    check(len(frames) == 10)
    first = frames[0].convert("RGB")
    check(near(first.getpixel((8, 6)), (0, 200, 0), 10), str(first.getpixel((8, 6))))
    check(near(first.getpixel((50, 40)), samples.clip_color(0), 8))
    # The overlay lasts 0.5 s: gone from the last frame.
    check(near(frames[9].convert("RGB").getpixel((8, 6)), samples.clip_color(9), 8))


VIDEO_CASES = [
    Case("video.Trim", check_trim, {"start": 0.3, "end": 0.7}, {"video": "clip"}),
    Case(
        "video.Concat",
        lambda o: check(
            len(o.frames) == 15
            and o.frames[-1].size == (64, 48)
            and near_color(o.frames[-1], (0, 200, 0), 10)
            and o.has_audio
        ),
        inputs={"a": "clip", "b": "green"},
    ),
    Case(
        "video.Overlay",
        check_overlay,
        {"scale": 0.25, "position": "top-left", "margin": 0},
        {"video": "clip", "overlay": "green"},
    ),
    Case(
        "video.ColorBalance",
        lambda o: check(
            all(f.convert("RGB").getpixel((8, 8))[0] < 10 for f in o.frames)
            and near_color(o.frames[5], (0, 100, 50))
        ),
        {"red": 0},
        {"video": "clip"},
    ),
    Case(
        "video.AddSubtitles",
        check_subtitles,
        {"cues": [{"start": 0, "end": 0.5, "text": "HELLO"}], "font_size": 14, "margin": 4},
        {"video": "clip"},
    ),
    Case(
        "video.AddSubtitles",
        lambda o: check(
            int((np.asarray(o.frames[7], np.int16)[24:] > 230).all(axis=2).sum()) > 10
            and int((np.asarray(o.frames[2], np.int16)[24:] > 230).all(axis=2).sum()) == 0
        ),
        {"srt": "1\n00:00:00,650 --> 00:00:00,850\nSRT\n", "font_size": 14, "margin": 4},
        {"video": "clip"},
        name="AddSubtitles-srt",
    ),
    Case(
        "video.ImageToVideo",
        lambda o: check(
            len(o.frames) == 5
            and o.frames[0].size == (16, 12)
            and near(o.frames[0].getpixel((8, 6)), P(8, 6), 12)
            and near(o.frames[4].getpixel((1, 1)), P(4, 3), 40)
        ),
        {"duration": 0.5, "fps": 10, "zoom_start": 1, "zoom_end": 2},
    ),
    Case(
        "video.ExtractFrames",
        lambda o: check(
            len(o) == 4
            and all(near_color(frame.image, samples.clip_color(i * 3)) for i, frame in enumerate(o))
        ),
        {"every": 3},
        {"video": "clip"},
    ),
    Case(
        "video.AddAudio",
        lambda o: check(len(o.frames) == 5 and o.has_audio and 0.45 < sound_of(o).duration < 0.6),
        inputs={"video": "green", "audio": "speech"},
    ),
    Case(
        "video.ChangeFPS",
        lambda o: check(len(o.frames) == 5 and near_color(o.frames[1], samples.clip_color(2))),
        {"target_fps": 5},
        {"video": "clip"},
    ),
    Case(
        "video.ExtractAudio",
        lambda o: check(
            o.audio.rate == 44100
            and 0.95 < o.audio.duration < 1.1
            and rises(o.audio.samples[4410:8820, 0]) in range(43, 46)
        ),
        inputs={"video": "clip"},
    ),
    Case(
        "video.Resize",
        lambda o: check(len(o.frames) == 10 and o.frames[0].size == (16, 12)),
        {"width": 16, "height": 12},
        {"video": "clip"},
    ),
    Case(
        "video.TestPattern",
        lambda o: check(
            len(o.frames) == 5
            and o.frames[0].size == (32, 24)
            and o.has_audio
            and near(o.frames[0].getpixel((20, 12)), (0, 0, 128), 10)
        ),
        {"width": 32, "height": 24, "duration": 0.5, "fps": 10},
        {},
    ),
    Case(
        "video.FromImages",
        lambda o: check(len(o.frames) == 2 and near_color(o.frames[1], (128, 128, 128))),
        {"fps": 2},
        {"frames": ["red", "grey"]},
    ),
]


def check_qr(o: Output) -> None:
    image = o.image.convert("L")
    # Version 1: 21 modules plus a 1-module border each side, 2 pixels a module.
    check(image.size == (46, 46), str(image.size))
    check(image.getpixel((0, 0)) == 255 and image.getpixel((2, 2)) == 0)
    # The finder pattern: dark ring, light ring, dark 3x3 centre.
    check(image.getpixel((4, 4)) == 255 and image.getpixel((8, 8)) == 0)


LIBRARY_CASES = [
    Case(
        "library.SVGToImage",
        lambda o: check(
            o.image.size == (40, 40)
            and near(o.rgb(5, 5), (255, 0, 0), 1)
            and near(o.rgb(30, 30), (0, 0, 255), 1)
        ),
        {"width": 40},
        {"asset": "svg"},
    ),
    Case(
        "library.SVGToImage",
        lambda o: check(o.image.size == (64, 64) and near(o.rgb(32, 32), (0xFB, 0xBF, 0x24), 1)),
        {},
        {},
        name="SVGToImage-text",
    ),
    Case(
        "library.ChartRenderer",
        lambda o: check(
            o.image.size == (320, 240)
            and int(np.sum(np.all(np.abs(o.pixels() - (31, 119, 180)) < 8, axis=2))) > 500
        ),
        {
            "kind": "bar",
            "width": 320,
            "height": 240,
            "x": "m",
            "y": ["v"],
            "data": [{"m": "a", "v": 3}, {"m": "b", "v": 5}],
        },
        {},
    ),
    Case(
        "library.PlotArray",
        lambda o: check(
            o.image.size == (200, 150)
            and int(np.sum(np.all(np.abs(o.pixels() - (253, 231, 37)) < 12, axis=2))) > 100
        ),
        {"values": [[0, 1], [2, 3]], "kind": "heatmap", "width": 200, "height": 150},
        {},
    ),
    Case("library.QRCode", check_qr, {"data": "trove", "scale": 2, "border": 1}, {}),
    Case(
        "library.MarkdownToHTML",
        lambda o: check(
            o.content_type.startswith("text/html")
            and b"<h1>Title</h1>" in o.data
            and b"<strong>b</strong>" in o.data
            and b"&lt;script&gt;" in o.data
            and b"<script>" not in o.data
        ),
        {"text": "# Title\n\n<script>alert(1)</script> **b**"},
        {},
    ),
    Case(
        "library.MarkdownToPDF",
        lambda o: check(
            o.content_type == "application/pdf"
            and o.data.startswith(b"%PDF")
            and o.data.count(b"/Type /Page\n") >= 2
        ),
        {
            "text": "# Report\n\n"
            + "Paragraph with *emphasis* and ünïcödé.\n\n" * 80
            + "| a | b |\n|---|---|\n| 1 | 2 |\n"
        },
        {},
    ),
]

FAMILIES = {
    "image": IMAGE_CASES,
    "filter": FILTER_CASES,
    "audio": AUDIO_CASES,
    "video": VIDEO_CASES,
    "library": LIBRARY_CASES,
}


async def upload(client: TroveClient, data: bytes, filename: str) -> str:
    body = await client.upload(data, filename=filename)
    asset_id: str = body["data"]["createAsset"]["id"]
    return asset_id


async def sample_nodes(client: TroveClient, wanted: set[str]) -> list[dict[str, Any]]:
    """The sample inputs a family needs, as graph nodes: stored assets through asset.Load,
    plain colours through image.Create, a tone through audio.Tone."""
    uploads: dict[str, Callable[[], tuple[bytes, str]]] = {
        "pattern": lambda: (samples.png(samples.pattern()), "pattern.png"),
        "square": lambda: (samples.png(samples.square()), "square.png"),
        "dark": lambda: (samples.png(samples.dark()), "dark.png"),
        "speckle": lambda: (samples.png(samples.speckle()), "speckle.png"),
        "alpha": lambda: (samples.png(samples.half_alpha()), "alpha.png"),
        "mask": lambda: (samples.png(samples.half_mask()), "mask.png"),
        "speech": lambda: (media.audio_to_wav(samples.speech_like()), "speech.wav"),
        "clip": lambda: (samples.clip(), "clip.mp4"),
        "green": lambda: (samples.green_clip(), "green.mp4"),
        "cube": lambda: (samples.invert_cube(), "invert.cube"),
        "svg": lambda: (samples.SVG, "sample.svg"),
    }
    colours = {
        "grey": ("#808080", 8),
        "red": ("#ff0000", 8),
        "white": ("#ffffff", 17),
        "cast": ("#806040", 8),
    }
    nodes = []
    for name in sorted(wanted):
        if name in uploads:
            data, filename = uploads[name]()
            nodes.append(node(name, "asset.Load", asset_id=await upload(client, data, filename)))
        elif name in colours:
            color, side = colours[name]
            nodes.append(node(name, "image.Create", width=side, height=side, color=color))
        elif name == "tone":
            nodes.append(
                node(
                    name,
                    "audio.Tone",
                    frequency=1000,
                    duration=0.5,
                    sample_rate=8000,
                    amplitude=0.25,
                )
            )
        else:
            raise AssertionError(f"no sample named {name}")
    return nodes


async def run_family(client: TroveClient, cases: list[Case]) -> dict[str, Any]:
    wanted: set[str] = set()
    for case in cases:
        for source in case.inputs.values():
            wanted.update([source] if isinstance(source, str) else source)
    nodes = await sample_nodes(client, wanted)
    edges = []
    for case in cases:
        nodes.append(node(case.id, case.type, **case.data))
        nodes.append(node(f"out-{case.id}", "control.Output", name=case.id))
        edges.append(edge(case.id, f"out-{case.id}", "value"))
        for target, sources in case.inputs.items():
            for source in [sources] if isinstance(sources, str) else sources:
                edges.append(edge(source, case.id, target))
    job = await run_job(client, graph=graph(nodes, edges))
    assert job["status"] == "COMPLETED", job
    outputs: dict[str, Any] = job["outputs"]
    return outputs


async def fetch(client: TroveClient, value: Any) -> Any:
    if isinstance(value, list):
        return [await fetch(client, item) for item in value]
    content_type, data = await download(client, value["url"])
    return Output(content_type=content_type.split(";")[0], data=data)


@pytest.mark.parametrize("family", sorted(FAMILIES))
async def test_node_family(sqlite_client: TroveClient, family: str) -> None:
    cases = FAMILIES[family]
    outputs = await run_family(sqlite_client, cases)
    failures = []
    for case in cases:
        result = await fetch(sqlite_client, outputs[case.id])
        try:
            case.check(result)
        except AssertionError as error:
            failures.append(f"{case.id} ({case.type}): {error or 'content check failed'}")
    assert failures == []


def test_every_node_type_has_a_content_test() -> None:
    tested = {case.type for cases in FAMILIES.values() for case in cases} | TESTED_ELSEWHERE
    registered = {node_class.node_type() for node_class in NodeRegistry.discover()}
    assert len(registered) >= 100
    assert registered - tested == set()
    assert tested - registered == set()


async def test_node_types_lists_the_library(sqlite_client: TroveClient) -> None:
    data = await sqlite_client.data(
        "{ nodeTypes { type description autoSaveAsset inputs { name description } } }"
    )
    types = {t["type"]: t for t in data["nodeTypes"]}
    assert len(types) >= 100
    brightness = types["image.Brightness"]
    assert brightness["autoSaveAsset"] is True
    assert brightness["description"].startswith("Brighter")
    assert {"name": "factor", "description": "1 leaves the image unchanged (0 to 10)"} in (
        brightness["inputs"]
    )
    assert types["asset.Load"]["autoSaveAsset"] is False


def test_every_node_is_documented() -> None:
    for node_class in NodeRegistry.discover():
        info = node_class.info()
        assert info.description, info.type
        for prop in info.inputs:
            assert prop.name != "id"


@pytest.mark.parametrize(("name", "render"), sorted(RENDERS.items()))
async def test_golden_images(
    sqlite_client: TroveClient, name: str, render: tuple[str, dict[str, Any]]
) -> None:
    """A few filters against committed reference renders of the 64 x 48 sample photo, with a
    tolerance for codec and library rounding (regenerate with `make golden`)."""
    node_type, data = render
    source = await upload(sqlite_client, samples.png(samples.photo()), "photo.png")
    outputs = await outputs_single(sqlite_client, node_type, data, source)
    result = (await fetch(sqlite_client, outputs)).pixels()
    expected = np.asarray(Image.open(GOLDEN / f"{name}.png").convert("RGB"), dtype=np.int16)
    difference = np.abs(result - expected)
    assert result.shape == expected.shape
    assert float(difference.mean()) <= 1.0 and int(difference.max()) <= 12


async def outputs_single(
    client: TroveClient, node_type: str, data: dict[str, Any], source_id: str
) -> Any:
    nodes = [
        node("in", "asset.Load", asset_id=source_id),
        node("n", node_type, **data),
        node("o", "control.Output", name="result"),
    ]
    job = await run_job(
        client, graph=graph(nodes, [edge("in", "n", "image"), edge("n", "o", "value")])
    )
    assert job["status"] == "COMPLETED", job
    return job["outputs"]["result"]


def _espeak_available() -> bool:
    return shutil.which("espeak-ng") is not None


async def test_text_to_speech(sqlite_client: TroveClient) -> None:
    if not _espeak_available():
        if os.environ.get("CI") == "true":
            pytest.fail("espeak-ng is not installed (.ci/run installs it)")
        pytest.skip("espeak-ng is not installed")
    nodes = [
        node("say", "audio.TextToSpeech", text="Trove stores what your workflows make.", speed=200),
        node("o", "control.Output", name="speech"),
    ]
    job = await run_job(sqlite_client, graph=graph(nodes, [edge("say", "o", "value")]))
    assert job["status"] == "COMPLETED", job
    speech = (await fetch(sqlite_client, job["outputs"]["speech"])).audio
    assert 1.0 < speech.duration < 6.0
    assert float(np.sqrt(np.mean(speech.samples**2))) > 0.01
    # Speech has pauses: some 10 ms windows are far quieter than the loudest.
    windows = speech.samples[: speech.frames // 80 * 80, 0].reshape(-1, 80)
    loudness = np.abs(windows).max(axis=1)
    assert loudness.min() < loudness.max() / 10


async def test_text_to_speech_without_espeak(
    sqlite_client: TroveClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("execution.nodes.audio.ESPEAK", "espeak-ng-not-installed")
    job = await run_job(sqlite_client, graph=graph([node("say", "audio.TextToSpeech")]))
    assert job["status"] == "FAILED"
    assert "needs espeak-ng, which is not installed" in job["error"]


@pytest.mark.parametrize(
    ("node_type", "data", "message"),
    [
        ("image.Levels", {"in_black": 200, "in_white": 100}, "in_black must be below in_white"),
        ("image.Curves", {"points": [[0, 0], [0, 10]]}, "strictly increasing"),
        ("image.MedianFilter", {"size": 4}, "must be odd"),
        ("image.Brightness", {"factor": 11}, "less than or equal to 10"),
        ("audio.Trim", {"start": 2, "end": 1}, "end must be after start"),
        ("audio.TextToSpeech", {"voice": "en; rm -rf /"}, "is not a voice name"),
        ("library.ChartRenderer", {"data": [{"x": 1}], "y": ["y"]}, "has no column 'y'"),
    ],
)
async def test_bad_properties_are_reported(
    sqlite_client: TroveClient, node_type: str, data: dict[str, Any], message: str
) -> None:
    """Out-of-range values are refused before the job starts; rules that tie properties
    together are checked when the node runs, and fail it with the same kind of message."""
    feeders = {
        "image": node("f", "image.Create", width=4, height=4),
        "audio": node("f", "audio.Tone"),
    }
    node_class = NodeRegistry.discover().get(node_type)
    assert node_class is not None
    nodes, edges = [node("n", node_type, **data)], []
    for name in ("image", "audio"):
        if name in node_class.model_fields and node_class.model_fields[name].is_required():
            nodes.append(feeders[name])
            edges.append(edge("f", "n", name))
    body = await sqlite_client.graphql(
        "mutation($input: RunWorkflowInput!) { runWorkflow(input: $input) { id } }",
        {"input": {"graph": graph(nodes, edges)}},
    )
    if body.get("errors"):
        assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT", body
        assert message in body["errors"][0]["message"], body
        return
    job = await run_job(sqlite_client, graph=graph(nodes, edges))
    assert job["status"] == "FAILED" and job["failedNodeId"] == "n", job
    assert message in job["error"], job


async def test_bad_media_fails_the_node_clearly(sqlite_client: TroveClient) -> None:
    text_id = await upload(sqlite_client, b"not a LUT at all\n", "bad.cube")
    svg_id = await upload(
        sqlite_client,
        b'<svg xmlns="http://www.w3.org/2000/svg"><image href="file:///etc/passwd"/></svg>',
        "evil.svg",
    )
    for nodes, edges, message in [
        (
            [
                node("img", "image.Create", width=4, height=4),
                node("lut", "asset.Load", asset_id=text_id),
                node("n", "image.ApplyLUT"),
            ],
            [edge("img", "n", "image"), edge("lut", "n", "lut")],
            "not valid .cube syntax",
        ),
        (
            [node("svg", "asset.Load", asset_id=svg_id), node("n", "library.SVGToImage")],
            [edge("svg", "n", "asset")],
            "refers to external files",
        ),
        (
            # Three hours in at 48 kHz stereo: refused before a 4 GB buffer is allocated.
            [
                node("a", "audio.Tone", duration=0.1, sample_rate=48000),
                node("st", "audio.ToStereo"),
                node("n", "audio.Mix", offset=10800),
            ],
            [edge("a", "st", "audio"), edge("st", "n", "a"), edge("a", "n", "b")],
            "more than the 128,000,000 allowed",
        ),
    ]:
        job = await run_job(sqlite_client, graph=graph(nodes, edges))
        assert job["status"] == "FAILED" and job["failedNodeId"] == "n", job
        assert message in job["error"], job


def test_audio_helpers_keep_lengths_exact() -> None:
    audio = samples.speech_like()
    for rate in (8000, 11025, 22050, 44100, 48000):
        assert media.resampled(audio, rate).frames == round(audio.frames * rate / 8000)
    joined = media.concatenated([audio, media.silence(duration=0.25, rate=16000)])
    assert joined.frames == 8000 + 2000
    wav = media.audio_to_wav(audio)
    assert near(media.audio_from_bytes(wav).samples, audio.samples, 1 / 32767)
    assert list(itertools.islice(media.with_channels(audio, 1).samples[:, 0], 3)) == pytest.approx(
        list((audio.samples[:3, 0] + audio.samples[:3, 1]) / 2)
    )


def test_bench_audio_baseline_does_the_same_work() -> None:
    """The `make bench` audio row compares like with like: the pure-Python baseline and the
    numpy/PyAV path give the same audio (up to interpolation differences)."""
    from bench import audio as bench_audio

    stereo, other = bench_audio.clips(0.2)
    new = bench_audio.current(stereo, other)
    old = bench_audio.legacy(
        array.array("h", stereo.int16().ravel().tobytes()),
        array.array("h", other.int16().ravel().tobytes()),
    )
    assert new.rate == bench_audio.TARGET_RATE and new.channels == 1
    assert new.frames == len(old)
    legacy_samples = np.asarray(old, dtype=np.float32) / 32767
    # Away from the ends (where the resampler's filter starts up), within 2% of full scale.
    assert near(new.samples[200:-200, 0], legacy_samples[200:-200], 0.02)


def test_ogg_audio_is_detected_as_audio() -> None:
    from services import content_types

    ogg = media.encode_audio(samples.speech_like(), "ogg")
    assert content_types.detect(ogg[:4096]) == "audio/ogg"
    assert content_types.detect(b"OggS\x00\x02" + b"\x00" * 22 + b"\x80theora") == "video/ogg"
