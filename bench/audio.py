"""Audio processing: execution/media.py (numpy, PyAV's resampler) against the pure-Python
loops it replaced, on the same audio in the same run.

The work is what audio nodes do to a clip: mix stereo down to mono, resample 44.1 kHz to
48 kHz, normalise, and mix it with a second track. The pure-Python side is the code
media.py used to have, kept here verbatim as the baseline.
"""

from __future__ import annotations

import array
import math
import time
from collections.abc import Callable

import numpy as np

from execution import media

RATE = 44100
TARGET_RATE = 48000


# The former pure-Python implementation (16-bit samples in an array.array) ------------------


def _legacy_mono(samples: array.array[int], channels: int) -> array.array[int]:
    frames = len(samples) // channels
    return array.array(
        "h",
        (
            round(sum(samples[f * channels + c] for c in range(channels)) / channels)
            for f in range(frames)
        ),
    )


def _legacy_resampled(samples: array.array[int], rate: int, target: int) -> array.array[int]:
    frames = len(samples)
    count = max(1, round(frames * target / rate))
    ratio = rate / target
    last = frames - 1
    out = array.array("h")
    for i in range(count):
        position = i * ratio
        left = min(int(position), last)
        right = min(left + 1, last)
        fraction = position - left
        a, b = samples[left], samples[right]
        out.append(round(a + (b - a) * fraction))
    return out


def _legacy_normalized(samples: array.array[int], peak: float) -> array.array[int]:
    loudest = max((abs(s) for s in samples), default=0)
    if loudest == 0:
        return samples
    gain = peak * 32767 / loudest
    return array.array("h", (max(-32768, min(32767, round(s * gain))) for s in samples))


def _legacy_mixed(a: array.array[int], b: array.array[int], gain: float) -> array.array[int]:
    return array.array(
        "h", (max(-32768, min(32767, round(x + y * gain))) for x, y in zip(a, b, strict=False))
    )


def legacy(stereo: array.array[int], other: array.array[int]) -> array.array[int]:
    mono = _legacy_mono(stereo, 2)
    resampled = _legacy_resampled(mono, RATE, TARGET_RATE)
    louder = _legacy_normalized(resampled, 0.9)
    return _legacy_mixed(louder, _legacy_resampled(other, RATE, TARGET_RATE), 0.5)


# The numpy / PyAV path -------------------------------------------------------------------


def current(stereo: media.Audio, other: media.Audio) -> media.Audio:
    mono = media.with_channels(stereo, 1)
    resampled = media.resampled(mono, TARGET_RATE)
    louder = media.normalized(resampled, 0.9)
    return media.mixed([louder, other], [1.0, 0.5], [0.0, 0.0])


def clips(seconds: float) -> tuple[media.Audio, media.Audio]:
    t = np.arange(round(seconds * RATE)) / RATE
    left = 0.4 * np.sin(2 * np.pi * 220 * t)
    right = 0.3 * np.sin(2 * np.pi * 330 * t)
    stereo = media.Audio(np.stack([left, right], axis=1), RATE)
    other = media.tone(frequency=440, duration=seconds, rate=RATE, amplitude=0.5)
    return stereo, other


def _best(run: Callable[[], object], rounds: int) -> float:
    best = math.inf
    for _ in range(rounds):
        started = time.perf_counter()
        run()
        best = min(best, time.perf_counter() - started)
    return best


def measure(seconds: float, legacy_rounds: int, rounds: int) -> tuple[float, float]:
    """Best wall time in seconds of (numpy/PyAV, pure Python) on `seconds` of audio."""
    stereo, other = clips(seconds)
    stereo16 = array.array("h", stereo.int16().ravel().tobytes())
    other16 = array.array("h", other.int16().ravel().tobytes())
    current(stereo, other)  # warm-up: imports, FFmpeg's resampler set-up
    new = _best(lambda: current(stereo, other), rounds)
    old = _best(lambda: legacy(stereo16, other16), legacy_rounds)
    return new, old
