"""Files of a GraphQL multipart request, as the resolvers receive them."""

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from services.errors import InvalidInput
from storage import StagedBlob

CHUNK = 1 << 20


@dataclass(frozen=True)
class StagedUpload:
    """A file part the server already streamed into storage while the request arrived."""

    blob: StagedBlob
    filename: str | None
    content_type: str | None


def upload_content(upload: Any) -> AsyncIterator[bytes] | StagedBlob:
    if isinstance(upload, StagedUpload):
        return upload.blob
    if hasattr(upload, "read"):
        return _chunks(upload)
    raise InvalidInput("`file` must be a file part of a multipart request")


async def _chunks(upload: Any) -> AsyncIterator[bytes]:
    while chunk := await upload.read(CHUNK):
        yield chunk


def upload_filename(upload: Any) -> str | None:
    return getattr(upload, "filename", None) or None


def upload_content_type(upload: Any) -> str | None:
    return getattr(upload, "content_type", None) or None
