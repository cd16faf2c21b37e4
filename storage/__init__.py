from pathlib import Path

from storage.base import BlobStorage, BlobTooLarge, StagedBlob
from storage.local import LocalBlobStorage

__all__ = ["BlobStorage", "BlobTooLarge", "LocalBlobStorage", "StagedBlob", "open_storage"]


def open_storage(url: str, *, local_root: Path, s3: dict[str, str | None]) -> BlobStorage:
    """The blob store a URL names: s3://bucket/prefix, else local files under `local_root`."""
    if url.startswith("s3://"):
        # Imported here: the embedded default never loads the S3 client.
        from storage.s3 import S3BlobStorage, S3Config, S3Location

        return S3BlobStorage(S3Location.parse(url), S3Config(**s3))
    return LocalBlobStorage(local_root)
