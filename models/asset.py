from typing import Any

from tortoise import fields
from tortoise.indexes import Index
from tortoise.models import Model

from models.ids import new_id
from models.user import User

FOLDER_CONTENT_TYPE = "folder"


class Asset(Model):
    id = fields.UUIDField(primary_key=True, default=new_id)
    owner: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="assets", on_delete=fields.CASCADE
    )
    name = fields.CharField(max_length=255)
    content_type = fields.CharField(max_length=255)
    size = fields.BigIntField(default=0)
    sha256 = fields.CharField(max_length=64)
    node_id = fields.CharField(max_length=255, null=True)
    job_id = fields.CharField(max_length=255, null=True)
    workflow_id = fields.CharField(max_length=255, null=True)
    parent: fields.ForeignKeyNullableRelation["Asset"] = fields.ForeignKeyField(
        "models.Asset", related_name="children", null=True, on_delete=fields.CASCADE
    )
    metadata: fields.JSONField[Any] = fields.JSONField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "assets"
        # Every list query is scoped to an owner and ordered by a sort key with id as the
        # tie-breaker, so each filter gets an index shaped exactly like its keyset query.
        indexes = (
            Index(fields=("owner_id", "id"), name="ix_assets_owner_id"),
            Index(fields=("owner_id", "node_id", "id"), name="ix_assets_owner_node"),
            Index(fields=("owner_id", "job_id", "id"), name="ix_assets_owner_job"),
            Index(fields=("owner_id", "workflow_id", "id"), name="ix_assets_owner_workflow"),
            Index(fields=("owner_id", "parent_id", "id"), name="ix_assets_owner_parent"),
            Index(fields=("owner_id", "content_type", "id"), name="ix_assets_owner_type"),
            Index(fields=("owner_id", "name", "id"), name="ix_assets_owner_name"),
            Index(fields=("owner_id", "size", "id"), name="ix_assets_owner_size"),
            Index(fields=("sha256",), name="ix_assets_sha256"),
        )

    @property
    def is_folder(self) -> bool:
        return self.content_type == FOLDER_CONTENT_TYPE


class AssetLineage(Model):
    """One edge of provenance: `derived` was produced by a node run that consumed `source`."""

    id = fields.UUIDField(primary_key=True, default=new_id)
    source: fields.ForeignKeyRelation[Asset] = fields.ForeignKeyField(
        "models.Asset", related_name="derivative_links", on_delete=fields.CASCADE
    )
    derived: fields.ForeignKeyRelation[Asset] = fields.ForeignKeyField(
        "models.Asset", related_name="source_links", on_delete=fields.CASCADE
    )

    class Meta:
        table = "asset_lineage"
        unique_together = (("source", "derived"),)
        indexes = (Index(fields=("derived_id",), name="ix_lineage_derived"),)
