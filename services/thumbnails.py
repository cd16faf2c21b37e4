"""Small WebP previews, made once per distinct content and cached on disk.

Each kind of content has a renderer (images, video; add one to RENDERERS for more). Every
render is bounded: the picture's size is read from its header and refused over a pixel
budget before anything is decoded, JPEGs decode at reduced scale (`draft`) and other
formats shrink through `reduce`, at most `max_concurrent` renders run at once (the same
content is rendered once however many ask), and a failure is remembered beside the cache,
so a broken or hostile file costs one attempt, not one per request.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import tempfile
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import av
from PIL import Image, ImageOps, UnidentifiedImageError

from models import Asset
from services.errors import NotFound, UnsupportedMediaType
from storage import BlobStorage, LocalBlobStorage

THUMBNAIL_SIZE = 256
# Larger images are not worth reading for a preview when the store cannot hand out a file.
MAX_SOURCE_BYTES = 64 * 1024 * 1024
DEFAULT_MAX_PIXELS = 50_000_000
DEFAULT_MAX_CONCURRENT = 2
# Pillow's own bomb check is a backstop; the pixel budget below refuses far earlier.
Image.MAX_IMAGE_PIXELS = 200_000_000
# A video held elsewhere (S3) is decoded from a temporary copy of its first bytes: enough
# for the first frame of a streamable file (index at the front, as web video is written).
VIDEO_HEAD_BYTES = 64 * 1024 * 1024

# Formats Pillow cannot rasterise (vector images) get no preview.
UNPREVIEWABLE_IMAGES = frozenset({"image/svg+xml"})


class CannotPreview(UnsupportedMediaType):
    """This content gets no thumbnail (remembered: asking again costs nothing)."""


@dataclass(frozen=True)
class Source:
    """Where a renderer reads the content: a local file when the store has one, else bytes."""

    path: Path | None
    read: Callable[[], Awaitable[bytes]]
    # A temporary local file with the first N bytes, for decoders that need to seek.
    head_file: Callable[[int], contextlib.AbstractAsyncContextManager[Path]]


class Renderer(Protocol):
    def accepts(self, content_type: str) -> bool: ...

    async def render(self, asset: Asset, source: Source) -> bytes:
        """The WebP preview, or CannotPreview."""
        ...


def _check_budget(width: int, height: int, max_pixels: int, what: str) -> None:
    if width * height > max_pixels:
        raise CannotPreview(
            f"This {what} is {width}x{height} ({width * height / 1e6:.0f} megapixels), over "
            f"the preview budget of {max_pixels / 1e6:g} megapixels "
            "(TROVE_THUMBNAIL_MAX_PIXELS)"
        )


def _to_webp(image: Image.Image) -> bytes:
    # reducing_gap: shrink by whole factors with Image.reduce first (cheap), then resample.
    image.thumbnail((THUMBNAIL_SIZE, THUMBNAIL_SIZE), reducing_gap=2.0)
    if image.mode not in ("RGB", "RGBA"):
        image = image.convert("RGBA" if "A" in image.getbands() else "RGB")
    out = io.BytesIO()
    image.save(out, "WEBP", quality=80)
    return out.getvalue()


def _render_image(source: Path | bytes, max_pixels: int) -> bytes:
    try:
        with Image.open(source if isinstance(source, Path) else io.BytesIO(source)) as opened:
            # Only the header has been read so far.
            _check_budget(*opened.size, max_pixels, "image")
            opened.draft("RGB", (THUMBNAIL_SIZE, THUMBNAIL_SIZE))
            return _to_webp(ImageOps.exif_transpose(opened))
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError, ValueError) as error:
        raise CannotPreview("This image cannot be previewed") from error


def _render_video(path: Path, max_pixels: int) -> bytes:
    """The first decodable frame; the file is read as far as that frame, not whole."""
    try:
        with av.open(str(path)) as container:
            if not container.streams.video:
                raise CannotPreview("This video has no picture to preview")
            stream = container.streams.video[0]
            codec = stream.codec_context
            _check_budget(codec.width, codec.height, max_pixels, "video")
            for frame in container.decode(stream):
                return _to_webp(frame.to_image())
    except (av.FFmpegError, OSError, ValueError) as error:
        raise CannotPreview("This video cannot be previewed") from error
    raise CannotPreview("This video has no frames")


class ImageRenderer:
    def __init__(self, max_pixels: int) -> None:
        self.max_pixels = max_pixels

    def accepts(self, content_type: str) -> bool:
        return content_type.startswith("image/") and content_type not in UNPREVIEWABLE_IMAGES

    async def render(self, asset: Asset, source: Source) -> bytes:
        if source.path is not None:
            # Pillow reads the header from the file and decodes nothing over the budget.
            return await asyncio.to_thread(_render_image, source.path, self.max_pixels)
        if asset.size > MAX_SOURCE_BYTES:
            raise CannotPreview("This image is too large to preview")
        return await asyncio.to_thread(_render_image, await source.read(), self.max_pixels)


class VideoRenderer:
    def __init__(self, max_pixels: int) -> None:
        self.max_pixels = max_pixels

    def accepts(self, content_type: str) -> bool:
        return content_type.startswith("video/")

    async def render(self, asset: Asset, source: Source) -> bytes:
        # Decoding a video needs a seekable file: the blob itself, or a ranged copy.
        if source.path is not None:
            return await asyncio.to_thread(_render_video, source.path, self.max_pixels)
        async with source.head_file(VIDEO_HEAD_BYTES) as path:
            return await asyncio.to_thread(_render_video, path, self.max_pixels)


class ThumbnailService:
    def __init__(
        self,
        *,
        storage: BlobStorage,
        cache_dir: Path,
        max_pixels: int = DEFAULT_MAX_PIXELS,
        max_concurrent: int = DEFAULT_MAX_CONCURRENT,
    ) -> None:
        self.storage = storage
        self.cache_dir = cache_dir
        self.max_pixels = max_pixels
        # Audio waveforms and PDF pages (services/previews.py builds on this module).
        from services.previews import PdfRenderer, WaveformRenderer

        self.renderers: list[Renderer] = [
            ImageRenderer(max_pixels),
            VideoRenderer(max_pixels),
            PdfRenderer(max_pixels),
        ]
        if isinstance(storage, LocalBlobStorage):
            self.renderers.append(WaveformRenderer())  # decodes from the stored file
        self._slots = asyncio.Semaphore(max_concurrent)
        self._in_flight: dict[str, asyncio.Task[bytes]] = {}

    def _renderer(self, content_type: str) -> Renderer | None:
        return next((r for r in self.renderers if r.accepts(content_type)), None)

    def previewable(self, content_type: str) -> bool:
        return self._renderer(content_type) is not None

    def _failure_marker(self, sha256: str) -> Path:
        # The budget is part of the name: raising it gives refused images another chance.
        return self.cache_dir / f"{sha256}.{self.max_pixels}.failed"

    async def thumbnail(self, asset: Asset) -> bytes:
        renderer = self._renderer(asset.content_type)
        if renderer is None:
            raise NotFound("Only images, video, audio and PDF have thumbnails")
        cached = self.cache_dir / f"{asset.sha256}.webp"
        if cached.is_file():
            return cached.read_bytes()
        failed = self._failure_marker(asset.sha256)
        if failed.is_file():
            raise CannotPreview(failed.read_text(encoding="utf-8"))
        task = self._in_flight.get(asset.sha256)
        if task is None:
            task = asyncio.ensure_future(self._render(renderer, asset, cached))
            self._in_flight[asset.sha256] = task
            task.add_done_callback(lambda done: self._settle(asset.sha256, done))
        # Shielded: a client that goes away does not waste the work others wait for.
        return await asyncio.shield(task)

    def _settle(self, sha256: str, task: asyncio.Task[bytes]) -> None:
        self._in_flight.pop(sha256, None)
        if not task.cancelled():
            task.exception()  # retrieved here, so a failure nobody awaits is not logged

    async def _render(self, renderer: Renderer, asset: Asset, cached: Path) -> bytes:
        local = self.storage if isinstance(self.storage, LocalBlobStorage) else None

        async def read() -> bytes:
            return b"".join([chunk async for chunk in self.storage.read(asset.sha256)])

        @contextlib.asynccontextmanager
        async def head_file(limit: int) -> AsyncIterator[Path]:
            self.cache_dir.mkdir(parents=True, exist_ok=True)
            with tempfile.NamedTemporaryFile(dir=self.cache_dir, suffix=".part") as handle:
                async for chunk in self.storage.read(asset.sha256, 0, min(asset.size, limit)):
                    await asyncio.to_thread(handle.write, chunk)
                handle.flush()
                yield Path(handle.name)

        source = Source(
            path=local.path_of(asset.sha256) if local else None, read=read, head_file=head_file
        )
        async with self._slots:
            try:
                rendered = await renderer.render(asset, source)
            except CannotPreview as error:
                self._remember(self._failure_marker(asset.sha256), error.message.encode())
                raise
        self._remember(cached, rendered)
        return rendered

    def _remember(self, target: Path, content: bytes) -> None:
        self.cache_dir.mkdir(parents=True, exist_ok=True)
        partial = target.with_suffix(f".{uuid.uuid4().hex}.tmp")
        partial.write_bytes(content)
        partial.replace(target)
