from typing import Any

from tortoise import fields
from tortoise.models import Model

from models.ids import new_id
from models.json_value import JSONValueField, KeepsJSONValues
from models.user import User


class DirectUpload(KeepsJSONValues, Model):
    """An upload whose parts the client sends straight to storage; an asset on completion.

    The declared fields become the asset's; rows past `expires_at` are swept with their parts.
    """

    id = fields.UUIDField(primary_key=True, default=new_id)
    owner: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="direct_uploads", on_delete=fields.CASCADE
    )
    name = fields.CharField(max_length=255)
    size = fields.BigIntField()
    sha256 = fields.CharField(max_length=64, null=True)
    content_type = fields.CharField(max_length=255, null=True)
    node_id = fields.CharField(max_length=255, null=True)
    job_id = fields.CharField(max_length=255, null=True)
    workflow_id = fields.CharField(max_length=255, null=True)
    parent_id = fields.UUIDField(null=True)
    metadata: JSONValueField[Any] = JSONValueField(null=True)
    part_size = fields.BigIntField()
    part_count = fields.IntField()
    # The storage's handle for the parts (an S3 multipart upload id, or a local directory).
    handle = fields.CharField(max_length=1024)
    created_at = fields.DatetimeField(auto_now_add=True)
    expires_at = fields.DatetimeField(db_index=True)

    class Meta:
        table = "direct_uploads"
