from typing import Any

from tortoise import fields
from tortoise.indexes import Index
from tortoise.models import Model

from models.ids import new_id
from models.json_value import JSONValueField, KeepsJSONValues
from models.user import User

FOLDER_CONTENT_TYPE = "folder"


class Asset(KeepsJSONValues, Model):
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
    metadata: JSONValueField[Any] = JSONValueField(null=True)
    # Display copy of the tags, sorted; AssetTag rows are what queries filter on.
    tags: fields.JSONField[list[str] | None] = fields.JSONField(null=True)
    # Facts read from the bytes when they were stored (see services/media.py).
    media: fields.JSONField[dict[str, Any] | None] = fields.JSONField(null=True)
    # Retention deletes the asset after this moment; null keeps it.
    expires_at = fields.DatetimeField(null=True)
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
            Index(fields=("expires_at",), name="ix_assets_expires_at"),
        )
        # PostgreSQL also has a GIN index on metadata (jsonb_path_ops) for `@>` searches,
        # written by hand in its migration chain: the models cannot express a GIN index
        # that SQLite lacks.

    @property
    def is_folder(self) -> bool:
        return self.content_type == FOLDER_CONTENT_TYPE

    @property
    def id_text(self) -> str:
        """The id as responses write it (services/records.AssetRecord has the same)."""
        return str(self.id)


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


class AssetTag(Model):
    """One tag on one asset; `key`, the case-folded tag, is what queries compare."""

    # "The owner's assets tagged K, newest first" is one range of (owner, key, asset).

    id = fields.UUIDField(primary_key=True, default=new_id)
    owner: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="asset_tags", on_delete=fields.CASCADE
    )
    asset: fields.ForeignKeyRelation[Asset] = fields.ForeignKeyField(
        "models.Asset", related_name="tag_rows", on_delete=fields.CASCADE
    )
    tag = fields.CharField(max_length=64)
    key = fields.CharField(max_length=255)

    class Meta:
        table = "asset_tags"
        unique_together = (("asset", "key"),)
        indexes = (Index(fields=("owner_id", "key", "asset_id"), name="ix_asset_tags_owner_key"),)
