"""Nodes that read and write stored assets explicitly (so they are not auto-saving)."""

from __future__ import annotations

from execution.autosave import consumed_asset_ids, content_type_of
from execution.context import ProcessingContext
from execution.node import BaseNode
from execution.refs import AssetRef
from services import content_types


class Load(BaseNode):
    """A stored asset, as the kind of reference that fits it (image, audio, ...)."""

    asset_id: str

    async def process(self, context: ProcessingContext) -> AssetRef:
        return await context.ref_for_asset(self.asset_id)


class Save(BaseNode):
    """Store `asset` under `name`, in the folder `parent_id` if given; returns the new asset."""

    asset: AssetRef
    name: str = ""
    parent_id: str | None = None

    async def process(self, context: ProcessingContext) -> AssetRef:
        data = await context.asset_bytes(self.asset)
        content_type = content_type_of(self.asset, data)
        name = self.name or f"{self.asset.kind}{content_types.extension_for(content_type)}"
        asset = await context.create_asset(
            name,
            content_type,
            data,
            node_id=self.id,
            parent_id=self.parent_id or None,
            metadata=self.asset.metadata,
            derived_from=consumed_asset_ids(self.asset),
        )
        return type(self.asset)(
            asset_id=str(asset.id), content_type=asset.content_type, metadata=asset.metadata
        )
