from enum import StrEnum
from typing import Any
from uuid import UUID

from tortoise import fields
from tortoise.indexes import Index
from tortoise.models import Model

from models.ids import new_id
from models.json_value import JSONValueField, KeepsJSONValues
from models.user import User


def scoped_prefix(owner_id: object) -> str:
    return f"{owner_id}/"


def scoped_job_id(owner_id: object, chosen: str) -> str:
    """Where a caller-chosen job id is stored: inside its owner's namespace."""
    return scoped_prefix(owner_id) + chosen


class JobStatus(StrEnum):
    QUEUED = "QUEUED"
    RUNNING = "RUNNING"
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"
    CANCELLED = "CANCELLED"


class AutoSaveMode(StrEnum):
    """How much of a run's output auto-save stores."""

    ALL = "ALL"
    OUTPUTS = "OUTPUTS"
    NONE = "NONE"


FINAL_JOB_STATUSES = frozenset({JobStatus.COMPLETED, JobStatus.FAILED, JobStatus.CANCELLED})


class Workflow(Model):
    id = fields.UUIDField(primary_key=True, default=new_id)
    owner: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="workflows", on_delete=fields.CASCADE
    )
    name = fields.CharField(max_length=255)
    graph: fields.JSONField[dict[str, Any]] = fields.JSONField()
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "workflows"
        indexes = (Index(fields=("owner_id", "id"), name="ix_workflows_owner_id"),)


class Job(KeepsJSONValues, Model):
    # Generated ids are UUIDv7 text, stored as they are. An id the caller chose is stored
    # under its owner ("<owner uuid>/<chosen id>"), so each user has their own namespace:
    # choosing an id can neither find nor block another user's job. `public_id` is the id
    # the API shows.
    id = fields.CharField(max_length=255, primary_key=True)
    owner: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="jobs", on_delete=fields.CASCADE
    )
    owner_id: UUID
    workflow_id = fields.CharField(max_length=255, null=True)
    status = fields.CharEnumField(JobStatus, max_length=16, default=JobStatus.QUEUED)
    graph: fields.JSONField[dict[str, Any]] = fields.JSONField()
    params: JSONValueField[dict[str, Any] | None] = JSONValueField(null=True)
    outputs: JSONValueField[Any] = JSONValueField(null=True)
    error = fields.TextField(null=True)
    failed_node_id = fields.CharField(max_length=255, null=True)
    auto_save = fields.CharEnumField(AutoSaveMode, max_length=16, default=AutoSaveMode.ALL)
    # Retention for what the run auto-saves: expires_at = the job's finish time + this.
    keep_for_seconds = fields.BigIntField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    started_at = fields.DatetimeField(null=True)
    finished_at = fields.DatetimeField(null=True)
    # The process that holds the job (host:pid:nonce) and when it last said it is alive: a
    # job whose holder is gone (no heartbeat within TROVE_JOB_LEASE_SECONDS) is failed.
    worker_id = fields.CharField(max_length=255, null=True)
    heartbeat_at = fields.DatetimeField(null=True)
    # Runs again after its holder is lost, at most this many times (the run's `retries`);
    # `attempts` counts the runs started, the first included.
    retries = fields.IntField(default=0)
    attempts = fields.IntField(default=1)

    @property
    def public_id(self) -> str:
        return self.id.removeprefix(scoped_prefix(self.owner_id))

    class Meta:
        table = "jobs"
        indexes = (
            Index(fields=("owner_id", "created_at", "id"), name="ix_jobs_owner_created"),
            Index(fields=("owner_id", "workflow_id", "created_at", "id"), name="ix_jobs_owner_wf"),
            Index(fields=("status",), name="ix_jobs_status"),
        )
