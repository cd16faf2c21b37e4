"""Reading the files of a GraphQL multipart request without holding them in memory."""

from collections.abc import AsyncIterator
from typing import Any

from services.errors import InvalidInput

CHUNK = 1 << 20


def _require_file(upload: Any) -> Any:
    if not hasattr(upload, "read"):
        raise InvalidInput("`file` must be a file part of a multipart request")
    return upload


async def upload_chunks(upload: Any) -> AsyncIterator[bytes]:
    upload = _require_file(upload)
    while chunk := await upload.read(CHUNK):
        yield chunk


def upload_filename(upload: Any) -> str | None:
    return getattr(_require_file(upload), "filename", None) or None


def upload_content_type(upload: Any) -> str | None:
    return getattr(_require_file(upload), "content_type", None) or None
