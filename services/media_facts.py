"""Facts read from stored bytes when an asset is saved: dimensions, duration, frame rate,
sample rate, channels, page count (GraphQL `Asset.media`).

Reading is best effort within a time budget: an odd, truncated or hostile file gets no
facts (null), never a failed save. Pillow reads only an image's header; PyAV reads a
container's headers (it needs a file, so only stores that hand one out get audio and video
facts); pypdfium2 counts a PDF's pages.
"""

from __future__ import annotations

import asyncio
import io
import logging
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import pypdfium2 as pdfium
from PIL import Image

from models import Asset
from storage import BlobStorage, LocalBlobStorage

logger = logging.getLogger(__name__)

DEFAULT_BUDGET_SECONDS = 2.0
# Without a local file, bytes are read into memory: only for content this small.
MAX_IN_MEMORY_BYTES = 32 * 1024 * 1024
PDF_TYPES = frozenset({"application/pdf"})


def wants_facts(content_type: str) -> bool:
    return content_type.startswith(("image/", "video/", "audio/")) or content_type in PDF_TYPES


def _number(value: Any) -> float | None:
    if value is None:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError, ZeroDivisionError):
        return None
    return round(number, 6) if number > 0 else None


def _image_facts(source: Path | bytes) -> dict[str, Any]:
    with Image.open(source if isinstance(source, Path) else io.BytesIO(source)) as image:
        width, height = image.size  # header only: nothing is decoded
        facts: dict[str, Any] = {"width": width, "height": height}
        frames = getattr(image, "n_frames", 1)
        if frames > 1:
            facts["duration_seconds"] = _number(image.info.get("duration", 0) * frames / 1000)
        return facts


def _av_facts(path: Path) -> dict[str, Any]:
    facts: dict[str, Any] = {}
    with av.open(str(path)) as container:
        if container.duration:
            facts["duration_seconds"] = _number(Fraction(container.duration, av.time_base))
        if container.streams.video:
            video = container.streams.video[0]
            codec = video.codec_context
            facts["width"], facts["height"] = codec.width or None, codec.height or None
            facts["frame_rate"] = _number(video.average_rate or video.guessed_rate)
            if "duration_seconds" not in facts and video.duration and video.time_base:
                facts["duration_seconds"] = _number(video.duration * video.time_base)
        if container.streams.audio:
            audio = container.streams.audio[0]
            codec_context = audio.codec_context
            facts["sample_rate"] = codec_context.sample_rate or None
            layout = getattr(codec_context, "layout", None)
            channels = getattr(layout, "nb_channels", None) or getattr(
                codec_context, "channels", None
            )
            facts["channels"] = channels or None
            if "duration_seconds" not in facts and audio.duration and audio.time_base:
                facts["duration_seconds"] = _number(audio.duration * audio.time_base)
    return facts


def _pdf_facts(source: Path | bytes) -> dict[str, Any]:
    document = pdfium.PdfDocument(str(source) if isinstance(source, Path) else source)
    try:
        return {"page_count": len(document)}
    finally:
        document.close()


def read_facts(content_type: str, source: Path | bytes) -> dict[str, Any] | None:
    """The facts of one content, or None when they cannot be read."""
    try:
        if content_type.startswith("image/") and content_type != "image/svg+xml":
            facts = _image_facts(source)
        elif content_type.startswith(("video/", "audio/")):
            if not isinstance(source, Path):
                return None
            facts = _av_facts(source)
        elif content_type in PDF_TYPES:
            facts = _pdf_facts(source)
        else:
            return None
    except Exception as error:  # any decoder error means "no facts", never a failed save
        logger.debug("no media facts for %s content: %s", content_type, error)
        return None
    cleaned = {key: value for key, value in facts.items() if value is not None}
    return cleaned or None


class MediaFacts:
    """Reads an asset's facts from the store, within a time budget."""

    def __init__(
        self, *, storage: BlobStorage, budget_seconds: float = DEFAULT_BUDGET_SECONDS
    ) -> None:
        self.storage = storage
        self.budget_seconds = budget_seconds

    async def read(self, asset: Asset) -> dict[str, Any] | None:
        if asset.is_folder or not wants_facts(asset.content_type):
            return None
        try:
            return await asyncio.wait_for(self._read(asset), timeout=self.budget_seconds)
        except TimeoutError:
            logger.info(
                "media facts of asset %s took longer than %.1f s: skipped",
                asset.id,
                self.budget_seconds,
            )
        except Exception:
            logger.warning("reading media facts of asset %s failed", asset.id, exc_info=True)
        return None

    async def _read(self, asset: Asset) -> dict[str, Any] | None:
        source: Path | bytes
        if isinstance(self.storage, LocalBlobStorage):
            source = self.storage.path_of(asset.sha256)
        elif asset.size <= MAX_IN_MEMORY_BYTES:
            source = b"".join([chunk async for chunk in self.storage.read(asset.sha256)])
        else:
            return None
        # In a thread: decoders block. A timed-out read finishes there and is dropped.
        return await asyncio.to_thread(read_facts, asset.content_type, source)
