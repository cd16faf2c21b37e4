"""Thumbnail renderers beyond pictures: a waveform for audio, the first page of a PDF.

They plug into ThumbnailService's renderer list (services/thumbnails.py), which caches,
bounds concurrency and remembers failures for them as for images and video.
"""

from __future__ import annotations

import asyncio
import itertools
from pathlib import Path

import av
import numpy as np
import pypdfium2 as pdfium
from PIL import Image, ImageDraw

from models import Asset
from services.thumbnails import (
    MAX_SOURCE_BYTES,
    THUMBNAIL_SIZE,
    CannotPreview,
    Source,
    _check_budget,
    _to_webp,
)

WAVEFORM_HEIGHT = 96
WAVEFORM_COLOR = (37, 99, 235)
WAVEFORM_BACKGROUND = (248, 250, 252)
# A preview need not listen to a whole concert: at most this much audio is decoded.
MAX_WAVEFORM_SECONDS = 600
PDF_TYPES = frozenset({"application/pdf"})


def waveform_peaks(path: Path, buckets: int = THUMBNAIL_SIZE) -> np.ndarray:
    """Peak amplitude (0..1) per time bucket of the first audio stream, mono."""
    with av.open(str(path)) as container:
        if not container.streams.audio:
            raise CannotPreview("This file has no audio to draw")
        stream = container.streams.audio[0]
        # Mono float at a low rate: enough for a 256-pixel picture, little memory.
        resampler = av.AudioResampler(format="flt", layout="mono", rate=8000)
        chunks: list[np.ndarray] = []
        total = 0
        for frame in container.decode(stream):
            for out in resampler.resample(frame):
                samples = out.to_ndarray().reshape(-1)
                chunks.append(np.abs(samples))
                total += samples.size
            if total >= 8000 * MAX_WAVEFORM_SECONDS:
                break
    if not total:
        raise CannotPreview("This audio has no samples")
    samples = np.concatenate(chunks)
    edges = np.linspace(0, samples.size, buckets + 1).astype(int)
    peaks = np.array([samples[a:b].max() if b > a else 0.0 for a, b in itertools.pairwise(edges)])
    top = float(peaks.max())
    return peaks / top if top > 0 else peaks


def _render_waveform(path: Path) -> bytes:
    try:
        peaks = waveform_peaks(path)
    except (av.FFmpegError, OSError, ValueError) as error:
        raise CannotPreview("This audio cannot be previewed") from error
    image = Image.new("RGB", (THUMBNAIL_SIZE, WAVEFORM_HEIGHT), WAVEFORM_BACKGROUND)
    draw = ImageDraw.Draw(image)
    middle = WAVEFORM_HEIGHT / 2
    for x, peak in enumerate(peaks):
        half = max(1.0, float(peak) * (middle - 4))
        draw.line([(x, middle - half), (x, middle + half)], fill=WAVEFORM_COLOR)
    return _to_webp(image)


def _render_pdf(source: Path | bytes, max_pixels: int) -> bytes:
    try:
        document = pdfium.PdfDocument(str(source) if isinstance(source, Path) else source)
    except (pdfium.PdfiumError, OSError, ValueError) as error:
        raise CannotPreview("This PDF cannot be previewed") from error
    try:
        if len(document) == 0:
            raise CannotPreview("This PDF has no pages")
        page = document[0]
        try:
            width, height = page.get_size()  # points
            if width <= 0 or height <= 0:
                raise CannotPreview("This PDF's first page has no area")
            # Render straight at preview size: scale so the longer side is 2x the thumbnail.
            scale = min(2 * THUMBNAIL_SIZE / max(width, height), 4.0)
            _check_budget(int(width * scale), int(height * scale), max_pixels, "PDF page")
            bitmap = page.render(scale=scale)
            try:
                return _to_webp(bitmap.to_pil())
            finally:
                bitmap.close()
        finally:
            page.close()
    except pdfium.PdfiumError as error:
        raise CannotPreview("This PDF cannot be previewed") from error
    finally:
        document.close()


class WaveformRenderer:
    """Audio: the waveform of (at most the first ten minutes of) the sound."""

    def accepts(self, content_type: str) -> bool:
        return content_type.startswith("audio/")

    async def render(self, asset: Asset, source: Source) -> bytes:
        # Decoding needs a seekable file (registered only for stores that have one).
        assert source.path is not None
        return await asyncio.to_thread(_render_waveform, source.path)


class PdfRenderer:
    """PDF: the first page."""

    def __init__(self, max_pixels: int) -> None:
        self.max_pixels = max_pixels

    def accepts(self, content_type: str) -> bool:
        return content_type in PDF_TYPES

    async def render(self, asset: Asset, source: Source) -> bytes:
        if source.path is not None:
            return await asyncio.to_thread(_render_pdf, source.path, self.max_pixels)
        if asset.size > MAX_SOURCE_BYTES:
            raise CannotPreview("This PDF is too large to preview")
        return await asyncio.to_thread(_render_pdf, await source.read(), self.max_pixels)
