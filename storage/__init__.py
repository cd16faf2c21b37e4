from pathlib import Path

from storage.base import BlobStorage, BlobTooLarge, StagedBlob
from storage.local import LocalBlobStorage

__all__ = ["BlobStorage", "BlobTooLarge", "LocalBlobStorage", "StagedBlob", "open_storage"]


def open_storage(
    url: str,
    *,
    local_root: Path,
    s3: dict[str, str | None],
    s3_timeout_seconds: float | None = None,
    reserve: Path | None = None,
) -> BlobStorage:
    """The blob store a URL names: s3://bucket/prefix, else local files under `local_root`."""
    if url.startswith("s3://"):
        # Imported here: the embedded default never loads the S3 client.
        from storage.s3 import DEFAULT_TIMEOUT_SECONDS, S3BlobStorage, S3Config, S3Location

        config = S3Config(
            endpoint_url=s3.get("endpoint_url"),
            region=s3.get("region"),
            access_key_id=s3.get("access_key_id"),
            secret_access_key=s3.get("secret_access_key"),
            timeout_seconds=s3_timeout_seconds or DEFAULT_TIMEOUT_SECONDS,
        )
        return S3BlobStorage(S3Location.parse(url), config)
    # `reserve`: space kept for deletes on a full disk (LocalBlobStorage.release_reserve).
    return LocalBlobStorage(local_root, reserve=reserve)
