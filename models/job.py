from enum import StrEnum
from typing import Any

from tortoise import fields
from tortoise.indexes import Index
from tortoise.models import Model

from models.ids import new_id
from models.user import User


class JobStatus(StrEnum):
    QUEUED = "QUEUED"
    RUNNING = "RUNNING"
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"
    CANCELLED = "CANCELLED"


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


class Job(Model):
    # Callers may choose a job id, so it is a string; generated ones are UUIDv7 text.
    id = fields.CharField(max_length=255, primary_key=True)
    owner: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="jobs", on_delete=fields.CASCADE
    )
    workflow_id = fields.CharField(max_length=255, null=True)
    status = fields.CharEnumField(JobStatus, max_length=16, default=JobStatus.QUEUED)
    graph: fields.JSONField[dict[str, Any]] = fields.JSONField()
    params: fields.JSONField[dict[str, Any] | None] = fields.JSONField(null=True)
    outputs: fields.JSONField[Any] = fields.JSONField(null=True)
    error = fields.TextField(null=True)
    failed_node_id = fields.CharField(max_length=255, null=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    started_at = fields.DatetimeField(null=True)
    finished_at = fields.DatetimeField(null=True)
    # The process that holds the job (host:pid:nonce) and when it last said it is alive: a
    # job whose holder is gone (no heartbeat within TROVE_JOB_LEASE_SECONDS) is failed.
    worker_id = fields.CharField(max_length=255, null=True)
    heartbeat_at = fields.DatetimeField(null=True)

    class Meta:
        table = "jobs"
        indexes = (
            Index(fields=("owner_id", "created_at", "id"), name="ix_jobs_owner_created"),
            Index(fields=("owner_id", "workflow_id", "created_at", "id"), name="ix_jobs_owner_wf"),
            Index(fields=("status",), name="ix_jobs_status"),
        )
