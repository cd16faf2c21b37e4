"""Small WebP previews of images and videos, made once per distinct content, cached on disk."""

import asyncio
import contextlib
import io
import tempfile
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import av
from PIL import Image, ImageOps, UnidentifiedImageError

from models import Asset
from services.errors import NotFound, UnsupportedMediaType
from storage import BlobStorage, LocalBlobStorage

THUMBNAIL_SIZE = 256
# Larger images are not worth decoding for a preview (and bound the memory a request takes).
MAX_SOURCE_BYTES = 64 * 1024 * 1024
Image.MAX_IMAGE_PIXELS = 100_000_000
# A video held elsewhere (S3) is decoded from a temporary copy of its first bytes: enough
# for the first frame of a streamable file (index at the front, as web video is written).
VIDEO_HEAD_BYTES = 64 * 1024 * 1024


# Formats Pillow cannot rasterise (vector images) get no preview.
UNPREVIEWABLE_IMAGES = frozenset({"image/svg+xml"})


def _to_webp(image: Image.Image) -> bytes:
    image.thumbnail((THUMBNAIL_SIZE, THUMBNAIL_SIZE))
    if image.mode not in ("RGB", "RGBA"):
        image = image.convert("RGBA" if "A" in image.getbands() else "RGB")
    out = io.BytesIO()
    image.save(out, "WEBP", quality=80)
    return out.getvalue()


def _render_image(source: bytes) -> bytes:
    try:
        with Image.open(io.BytesIO(source)) as opened:
            opened.draft("RGB", (THUMBNAIL_SIZE * 2, THUMBNAIL_SIZE * 2))
            return _to_webp(ImageOps.exif_transpose(opened))
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError, ValueError) as error:
        raise UnsupportedMediaType("This image cannot be previewed") from error


def _render_video(path: Path) -> bytes:
    """The first decodable frame; the file is read as far as that frame, not whole."""
    try:
        with av.open(str(path)) as container:
            if not container.streams.video:
                raise UnsupportedMediaType("This video has no picture to preview")
            stream = container.streams.video[0]
            for frame in container.decode(stream):
                return _to_webp(frame.to_image())
    except (av.FFmpegError, OSError, ValueError) as error:
        raise UnsupportedMediaType("This video cannot be previewed") from error
    raise UnsupportedMediaType("This video has no frames")


class ThumbnailService:
    def __init__(self, *, storage: BlobStorage, cache_dir: Path) -> None:
        self.storage = storage
        self.cache_dir = cache_dir

    def previewable(self, content_type: str) -> bool:
        if content_type.startswith("image/"):
            return content_type not in UNPREVIEWABLE_IMAGES
        return content_type.startswith("video/")

    @contextlib.asynccontextmanager
    async def _video_file(self, asset: Asset) -> AsyncIterator[Path]:
        """A seekable file for the decoder: the blob itself on local disk, else a ranged copy."""
        if isinstance(self.storage, LocalBlobStorage):
            yield self.storage.path_of(asset.sha256)
            return
        self.cache_dir.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=self.cache_dir, suffix=".video") as handle:
            async for chunk in self.storage.read(
                asset.sha256, 0, min(asset.size, VIDEO_HEAD_BYTES)
            ):
                await asyncio.to_thread(handle.write, chunk)
            handle.flush()
            yield Path(handle.name)

    async def thumbnail(self, asset: Asset) -> bytes:
        if not self.previewable(asset.content_type):
            raise NotFound("Only images and videos have thumbnails")
        cached = self.cache_dir / f"{asset.sha256}.webp"
        if cached.is_file():
            return cached.read_bytes()
        if asset.content_type.startswith("video/"):
            async with self._video_file(asset) as path:
                rendered = await asyncio.to_thread(_render_video, path)
        else:
            if asset.size > MAX_SOURCE_BYTES:
                raise UnsupportedMediaType("This image is too large to preview")
            source = b"".join([chunk async for chunk in self.storage.read(asset.sha256)])
            rendered = await asyncio.to_thread(_render_image, source)
        self.cache_dir.mkdir(parents=True, exist_ok=True)
        partial = cached.with_suffix(f".{uuid.uuid4().hex}.tmp")
        partial.write_bytes(rendered)
        partial.replace(cached)
        return rendered
