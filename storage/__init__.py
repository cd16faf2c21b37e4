from storage.base import BlobStorage, BlobTooLarge, StagedBlob
from storage.local import LocalBlobStorage

__all__ = ["BlobStorage", "BlobTooLarge", "LocalBlobStorage", "StagedBlob"]
