"""Audio nodes (numpy, PyAV): made, cut, mixed and re-encoded as whole arrays.

Inputs may be any audio PyAV can decode (WAV, MP3, Ogg, FLAC, M4A, ...); outputs are 16-bit
PCM WAV unless the node converts the format. Work runs in a worker thread.
"""

from __future__ import annotations

import asyncio
import re
import shutil
from typing import Annotated, Literal

import numpy as np
from pydantic import AfterValidator, Field, model_validator

from execution import media
from execution.context import ProcessingContext
from execution.media import Audio
from execution.node import BaseNode
from execution.refs import AudioRef
from services.errors import InvalidInput

Seconds = Annotated[float, Field(gt=0, le=600)]
Offset = Annotated[float, Field(ge=0, le=3 * 3600)]
SampleRate = Annotated[int, Field(ge=8000, le=192000)]
GainFactor = Annotated[float, Field(ge=0, le=8, description="1 keeps the level, 0 silences")]


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


class Mix(BaseNode):
    """`b` laid over `a` (starting `offset` seconds in), each scaled by its gain; as long as
    the longer of the two, in the sample rate and channels of `a`, clipped to full scale."""

    _auto_save_asset = True
    _title = "Mix Audio"

    a: AudioRef
    b: AudioRef
    gain_a: GainFactor = 1.0
    gain_b: GainFactor = 1.0
    offset: Offset = 0.0

    async def process(self, context: ProcessingContext) -> AudioRef:
        first = await context.audio_from_ref(self.a)
        second = await context.audio_from_ref(self.b)
        mixed = await asyncio.to_thread(
            media.mixed, [first, second], [self.gain_a, self.gain_b], [0.0, self.offset]
        )
        return await context.audio_to_ref(mixed)


class AudioTransform(BaseNode):
    """One audio in, one audio out: subclasses implement `change` (run in a thread)."""

    _abstract = True
    _auto_save_asset = True
    _namespace = "audio"

    audio: AudioRef

    def change(self, audio: Audio) -> Audio:
        raise NotImplementedError

    async def process(self, context: ProcessingContext) -> AudioRef:
        source = await context.audio_from_ref(self.audio)
        return await context.audio_to_ref(await asyncio.to_thread(self.change, source))


class Normalize(AudioTransform):
    """Scale so the loudest sample reaches `peak` (1.0 is full scale)."""

    peak: Annotated[float, Field(gt=0, le=1)] = 0.9

    def change(self, audio: Audio) -> Audio:
        return media.normalized(audio, self.peak)


class Gain(AudioTransform):
    """Louder or quieter by `decibels` (+6 dB doubles the amplitude), clipped to full scale."""

    _title = "Audio Gain"

    decibels: Annotated[float, Field(ge=-96, le=48)] = 6.0

    def change(self, audio: Audio) -> Audio:
        return media.gained(audio, self.decibels)


class Trim(AudioTransform):
    """Keep from `start` to `end` seconds (without `end`: to the end)."""

    _title = "Trim Audio"

    start: Offset = 0.0
    end: Offset | None = None

    @model_validator(mode="after")
    def _ordered(self) -> Trim:
        if self.end is not None and self.end <= self.start:
            raise ValueError("end must be after start")
        return self

    def change(self, audio: Audio) -> Audio:
        first = min(round(self.start * audio.rate), audio.frames)
        last = audio.frames if self.end is None else min(round(self.end * audio.rate), audio.frames)
        if first >= audio.frames:
            raise ValueError(f"start {self.start} s is past the end ({audio.duration:.3f} s)")
        return Audio(audio.samples[first:last], audio.rate)


class FadeIn(AudioTransform):
    """Rise from silence over the first `duration` seconds (an equal-power curve)."""

    duration: Seconds = 1.0

    def change(self, audio: Audio) -> Audio:
        count = min(round(self.duration * audio.rate), audio.frames)
        ramp = np.sin(np.linspace(0, np.pi / 2, count, dtype=np.float32)) ** 2
        samples = audio.samples.copy()
        samples[:count] *= ramp[:, None]
        return Audio(samples, audio.rate)


class FadeOut(AudioTransform):
    """Fall to silence over the last `duration` seconds (an equal-power curve)."""

    duration: Seconds = 1.0

    def change(self, audio: Audio) -> Audio:
        count = min(round(self.duration * audio.rate), audio.frames)
        ramp = np.cos(np.linspace(0, np.pi / 2, count, dtype=np.float32)) ** 2
        samples = audio.samples.copy()
        if count:
            samples[-count:] *= ramp[:, None]
        return Audio(samples, audio.rate)


class RemoveSilence(AudioTransform):
    """Cut every stretch quieter than `threshold_db` (dBFS) that lasts at least `min_silence`
    seconds, leaving `padding` seconds of it on each side so words are not clipped."""

    threshold_db: Annotated[float, Field(ge=-100, le=0)] = -40.0
    min_silence: Annotated[float, Field(ge=0.01, le=60)] = 0.3
    padding: Annotated[float, Field(ge=0, le=5)] = 0.05

    def change(self, audio: Audio) -> Audio:
        window = max(1, round(audio.rate * 0.01))  # judge loudness 10 ms at a time
        loud_frame = np.abs(audio.samples).max(axis=1) > 10 ** (self.threshold_db / 20)
        blocks = -(-audio.frames // window)
        padded = np.zeros(blocks * window, dtype=bool)
        padded[: audio.frames] = loud_frame
        loud = padded.reshape(blocks, window).any(axis=1)
        keep = np.ones(blocks, dtype=bool)
        min_blocks = max(1, round(self.min_silence * audio.rate / window))
        pad_blocks = round(self.padding * audio.rate / window)
        # Runs of quiet blocks: where `loud` changes, plus both ends.
        edges = np.flatnonzero(np.diff(np.concatenate([[1], loud.astype(np.int8), [1]])))
        for start, stop in zip(edges[::2], edges[1::2], strict=True):
            if stop - start >= min_blocks:
                cut_from = start + (pad_blocks if start > 0 else 0)
                cut_to = stop - (pad_blocks if stop < blocks else 0)
                if cut_to > cut_from:
                    keep[cut_from:cut_to] = False
        frame_keep = np.repeat(keep, window)[: audio.frames]
        return Audio(audio.samples[frame_keep], audio.rate)


class ChangeSpeed(AudioTransform):
    """Play `factor` times faster (2: half as long). With `keep_pitch` the pitch stays
    (FFmpeg's atempo time-stretch); without it, the pitch moves with the speed, like tape."""

    factor: Annotated[float, Field(ge=0.25, le=4)] = 1.5
    keep_pitch: bool = True

    def change(self, audio: Audio) -> Audio:
        if self.keep_pitch:
            return media.tempo_changed(audio, self.factor)
        # Resample to a rate `factor` times lower, then label it with the old rate.
        slower = media.resampled(audio, max(1, round(audio.rate / self.factor)))
        return Audio(slower.samples, audio.rate)


class Resample(AudioTransform):
    """Convert to `sample_rate` Hz (FFmpeg's band-limited resampler); the sound is unchanged."""

    sample_rate: SampleRate = 48000

    def change(self, audio: Audio) -> Audio:
        return media.resampled(audio, self.sample_rate)


class Reverse(AudioTransform):
    """Played backwards."""

    _title = "Reverse Audio"

    def change(self, audio: Audio) -> Audio:
        return Audio(audio.samples[::-1].copy(), audio.rate)


class Repeat(AudioTransform):
    """The clip `times` times in a row."""

    times: Annotated[int, Field(ge=1, le=1000)] = 2

    def change(self, audio: Audio) -> Audio:
        media.check_audio_size(audio.frames * self.times, audio.channels)
        return Audio(np.tile(audio.samples, (self.times, 1)), audio.rate)


class Pan(AudioTransform):
    """Stereo, placed between left (-1) and right (1) with a constant-power law; stereo input
    is mixed to mono first."""

    position: Annotated[float, Field(ge=-1, le=1)] = 0.0

    def change(self, audio: Audio) -> Audio:
        mono = media.with_channels(audio, 1).samples[:, 0]
        angle = (self.position + 1) * np.pi / 4
        gains = np.array([np.cos(angle), np.sin(angle)], dtype=np.float32)
        return Audio(mono[:, None] * gains[None, :], audio.rate)


class ToMono(AudioTransform):
    """One channel: the average of all of them."""

    _title = "To Mono"

    def change(self, audio: Audio) -> Audio:
        return media.with_channels(audio, 1)


class ToStereo(AudioTransform):
    """Two channels: mono is copied to both; more than two are averaged first."""

    _title = "To Stereo"

    def change(self, audio: Audio) -> Audio:
        return media.with_channels(audio, 2)


class ConvertFormat(BaseNode):
    """Re-encode as WAV (16-bit PCM), MP3, Ogg Opus or FLAC (through PyAV's FFmpeg).

    `bitrate` (kbit/s) applies to MP3 and Ogg; MP3 and Opus take only some sample rates, so
    the audio is resampled to the nearest one when needed.
    """

    _auto_save_asset = True
    _title = "Convert Audio Format"

    audio: AudioRef
    format: Literal["wav", "mp3", "ogg", "flac"] = "mp3"
    bitrate: Annotated[int, Field(ge=32, le=320)] = 192

    async def process(self, context: ProcessingContext) -> AudioRef:
        source = await context.audio_from_ref(self.audio)
        data = await asyncio.to_thread(
            media.encode_audio, source, self.format, bitrate=self.bitrate * 1000
        )
        content_type = "audio/wav" if self.format == "wav" else media.AUDIO_FORMATS[self.format][3]
        return AudioRef(data=data, content_type=content_type)


ESPEAK = "espeak-ng"
MAX_SPEECH_CHARS = 20_000
SPEECH_TIMEOUT = 120.0


def _check_voice(value: str) -> str:
    if not re.fullmatch(r"[A-Za-z0-9_+-]{1,40}", value):
        raise ValueError(f"'{value}' is not a voice name (try 'en', 'en-us', 'de' or 'fr')")
    return value


class TextToSpeech(BaseNode):
    """Speech from text, offline, with espeak-ng (Debian/Ubuntu: `apt-get install espeak-ng`).

    `voice` is an espeak-ng voice or language ('en', 'en-us', 'de', 'fr+f3', ...), `speed`
    in words per minute and `pitch` from 0 to 99. Fails with a clear message when espeak-ng
    is not installed on the server.
    """

    _auto_save_asset = True

    text: Annotated[str, Field(min_length=1, max_length=MAX_SPEECH_CHARS)] = "Hello from Trove."
    voice: Annotated[str, AfterValidator(_check_voice)] = "en"
    speed: Annotated[int, Field(ge=80, le=450)] = 175
    pitch: Annotated[int, Field(ge=0, le=99)] = 50

    async def process(self, context: ProcessingContext) -> AudioRef:
        program = shutil.which(ESPEAK)
        if program is None:
            raise InvalidInput(
                "text-to-speech needs espeak-ng, which is not installed on this server "
                "(Debian/Ubuntu: apt-get install espeak-ng)"
            )
        process = await asyncio.create_subprocess_exec(
            program,
            "-v",
            self.voice,
            "-s",
            str(self.speed),
            "-p",
            str(self.pitch),
            "--stdout",
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        try:
            out, err = await asyncio.wait_for(
                process.communicate(self.text.encode("utf-8")), SPEECH_TIMEOUT
            )
        except TimeoutError:
            process.kill()
            await process.wait()
            raise InvalidInput(f"espeak-ng took longer than {SPEECH_TIMEOUT:.0f} s") from None
        message = err.decode("utf-8", "replace").strip()
        if process.returncode != 0 or not out:
            raise InvalidInput(f"espeak-ng failed: {message or 'no audio produced'}")
        # espeak-ng streams WAV with unknown-length headers; read it and write it cleanly.
        audio = await asyncio.to_thread(media.audio_from_bytes, _fix_streamed_wav(out))
        return await context.audio_to_ref(audio)


def _fix_streamed_wav(data: bytes) -> bytes:
    """espeak-ng writes 0x7fffffff sizes when writing to a pipe; put the real ones in."""
    if data[:4] != b"RIFF" or len(data) < 44:
        return data
    fixed = bytearray(data)
    fixed[4:8] = (len(data) - 8).to_bytes(4, "little")
    index = fixed.find(b"data", 12)
    if index >= 0:
        fixed[index + 4 : index + 8] = (len(data) - index - 8).to_bytes(4, "little")
    return bytes(fixed)
