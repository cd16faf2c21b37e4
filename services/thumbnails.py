"""Small WebP previews of images, made once per distinct content and cached on disk."""

import asyncio
import io
import uuid
from pathlib import Path

from PIL import Image, ImageOps, UnidentifiedImageError

from models import Asset
from services.errors import NotFound, UnsupportedMediaType
from storage import BlobStorage

THUMBNAIL_SIZE = 256
# Larger images are not worth decoding for a preview (and bound the memory a request takes).
MAX_SOURCE_BYTES = 64 * 1024 * 1024
Image.MAX_IMAGE_PIXELS = 100_000_000


def _render(source: bytes) -> bytes:
    try:
        with Image.open(io.BytesIO(source)) as opened:
            opened.draft("RGB", (THUMBNAIL_SIZE * 2, THUMBNAIL_SIZE * 2))
            image = ImageOps.exif_transpose(opened)
            image.thumbnail((THUMBNAIL_SIZE, THUMBNAIL_SIZE))
            if image.mode not in ("RGB", "RGBA"):
                image = image.convert("RGBA" if "A" in image.getbands() else "RGB")
            out = io.BytesIO()
            image.save(out, "WEBP", quality=80)
            return out.getvalue()
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError, ValueError) as error:
        raise UnsupportedMediaType("This image cannot be previewed") from error


class ThumbnailService:
    def __init__(self, *, storage: BlobStorage, cache_dir: Path) -> None:
        self.storage = storage
        self.cache_dir = cache_dir

    async def thumbnail(self, asset: Asset) -> bytes:
        if not asset.content_type.startswith("image/"):
            raise NotFound("Only images have thumbnails")
        cached = self.cache_dir / f"{asset.sha256}.webp"
        if cached.is_file():
            return cached.read_bytes()
        if asset.size > MAX_SOURCE_BYTES:
            raise UnsupportedMediaType("This image is too large to preview")
        source = b"".join([chunk async for chunk in self.storage.read(asset.sha256)])
        rendered = await asyncio.to_thread(_render, source)
        self.cache_dir.mkdir(parents=True, exist_ok=True)
        partial = cached.with_suffix(f".{uuid.uuid4().hex}.tmp")
        partial.write_bytes(rendered)
        partial.replace(cached)
        return rendered
