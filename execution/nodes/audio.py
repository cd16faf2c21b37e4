"""Audio nodes: 16-bit PCM WAV, made and changed with the standard library."""

from __future__ import annotations

import asyncio
from typing import Annotated

from pydantic import Field

from execution import media
from execution.context import ProcessingContext
from execution.node import BaseNode
from execution.refs import AudioRef

Seconds = Annotated[float, Field(gt=0, le=600)]
SampleRate = Annotated[int, Field(ge=8000, le=192000)]


class Tone(BaseNode):
    """A sine wave."""

    _auto_save_asset = True

    frequency: Annotated[float, Field(gt=0, le=20000)] = 440.0
    duration: Seconds = 1.0
    sample_rate: SampleRate = 44100
    amplitude: Annotated[float, Field(ge=0, le=1)] = 0.5

    async def process(self, context: ProcessingContext) -> AudioRef:
        audio = await asyncio.to_thread(
            media.tone,
            frequency=self.frequency,
            duration=self.duration,
            rate=self.sample_rate,
            amplitude=self.amplitude,
        )
        return await context.audio_to_ref(audio)


class Silence(BaseNode):
    """Nothing, for `duration` seconds."""

    _auto_save_asset = True

    duration: Seconds = 1.0
    sample_rate: SampleRate = 44100

    async def process(self, context: ProcessingContext) -> AudioRef:
        return await context.audio_to_ref(
            media.silence(duration=self.duration, rate=self.sample_rate)
        )


class Concat(BaseNode):
    """`a` then `b`, in the sample rate and channel count of `a`."""

    _auto_save_asset = True

    a: AudioRef
    b: AudioRef

    async def process(self, context: ProcessingContext) -> AudioRef:
        first = await context.audio_from_ref(self.a)
        second = await context.audio_from_ref(self.b)
        joined = await asyncio.to_thread(media.concatenated, [first, second])
        return await context.audio_to_ref(joined)


class Normalize(BaseNode):
    """Scale so the loudest sample reaches `peak` (1.0 is full scale)."""

    _auto_save_asset = True

    audio: AudioRef
    peak: Annotated[float, Field(gt=0, le=1)] = 0.9

    async def process(self, context: ProcessingContext) -> AudioRef:
        source = await context.audio_from_ref(self.audio)
        louder = await asyncio.to_thread(media.normalized, source, self.peak)
        return await context.audio_to_ref(louder)
