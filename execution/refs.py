"""Asset references: how nodes hand media to each other.

A reference carries either fresh bytes (`data`, not yet stored) or the id of a stored asset
(`asset_id`), or both once auto-save has stored the bytes. Graph data and run parameters may
give a reference as a bare asset id string.
"""

from __future__ import annotations

from typing import Any, ClassVar
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, model_validator


class AssetRef(BaseModel):
    model_config = ConfigDict(extra="ignore")

    kind: ClassVar[str] = "asset"
    # Content types a stored asset needs to be read as this kind of reference.
    accepts: ClassVar[tuple[str, ...]] = ()
    # Used only when the bytes themselves say nothing more specific than "text" or "binary".
    default_content_type: ClassVar[str | None] = None

    asset_id: str | None = None
    data: bytes | None = Field(default=None, repr=False)
    content_type: str | None = None
    metadata: dict[str, Any] | None = None

    @model_validator(mode="before")
    @classmethod
    def _from_asset_id(cls, value: Any) -> Any:
        if isinstance(value, str | UUID):
            return {"asset_id": str(value)}
        return value

    @property
    def is_saved(self) -> bool:
        return self.asset_id is not None

    @classmethod
    def accepts_type(cls, content_type: str) -> bool:
        return not cls.accepts or content_type.startswith(cls.accepts)


class ImageRef(AssetRef):
    kind = "image"
    accepts = ("image/",)


class AudioRef(AssetRef):
    kind = "audio"
    accepts = ("audio/",)


class VideoRef(AssetRef):
    kind = "video"
    accepts = ("video/",)


class TextRef(AssetRef):
    kind = "text"
    accepts = ("text/",)
    default_content_type = "text/plain"


class DocumentRef(AssetRef):
    kind = "document"
    accepts = ("text/", "application/pdf", "application/vnd.", "application/msword")
    default_content_type = "text/plain"


class JSONRef(AssetRef):
    kind = "json"
    accepts = ("application/json", "text/")
    default_content_type = "application/json"


REF_TYPES: tuple[type[AssetRef], ...] = (
    ImageRef,
    AudioRef,
    VideoRef,
    JSONRef,
    TextRef,
    DocumentRef,
    AssetRef,
)


def ref_class_for(content_type: str) -> type[AssetRef]:
    """The most specific reference type for stored content of this type."""
    if content_type == "application/json":
        return JSONRef
    if content_type == "text/plain":
        return TextRef
    if content_type.startswith("text/") or content_type == "application/pdf":
        return DocumentRef
    for ref_type in (ImageRef, AudioRef, VideoRef):
        if ref_type.accepts_type(content_type):
            return ref_type
    return AssetRef
