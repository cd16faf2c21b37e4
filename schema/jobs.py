import contextlib
from collections.abc import AsyncGenerator, Iterator
from datetime import datetime
from typing import Any
from uuid import UUID

import strawberry
from strawberry.scalars import JSON

import models
from schema.assets import Asset, asset_connection
from schema.context import Context, Info
from schema.nodes import Node
from schema.pagination import Connection
from services import assets as asset_service
from services.errors import NotFound
from services.jobs import NodeTypeInfo

strawberry.enum(models.JobStatus, name="JobStatus")
strawberry.enum(
    models.AutoSaveMode,
    name="AutoSaveMode",
    description="How much of a run's output auto-save stores.",
)


@strawberry.type(name="Job")
class Job(Node):
    id: strawberry.ID
    workflow_id: str | None
    status: models.JobStatus
    error: str | None = strawberry.field(
        description="Human-readable failure, with the id of the node that failed."
    )
    failed_node_id: str | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    attempts: int = strawberry.field(
        description="Runs started, the first included: more than 1 when the process running "
        "it was lost and the run asked for `retries`."
    )
    retries: int = strawberry.field(
        description="How many times it may run again after losing the process running it."
    )
    _outputs: strawberry.Private[Any]

    @classmethod
    def from_model(cls, row: models.Job) -> "Job":
        return cls(
            id=strawberry.ID(row.public_id),
            workflow_id=row.workflow_id,
            status=row.status,
            error=row.error,
            failed_node_id=row.failed_node_id,
            created_at=row.created_at,
            started_at=row.started_at,
            finished_at=row.finished_at,
            attempts=row.attempts,
            retries=row.retries,
            _outputs=row.outputs,
        )

    @strawberry.field(
        description="Final outputs of the workflow's output nodes, with assets as {id, url, "
        "contentType}."
    )
    async def outputs(self, info: Info) -> JSON | None:
        return JSON(await _with_links(self._outputs, info.context))

    @strawberry.field
    async def assets(
        self,
        info: Info,
        node_id: str | None = None,
        first: int | None = None,
        after: str | None = None,
    ) -> Connection[Asset]:
        page = await info.context.services.assets.list_records(
            owner=info.context.user,
            where=asset_service.AssetFilter(job_id=str(self.id), node_id=node_id),
            first=first,
            after=after,
        )
        return asset_connection(page)


# Job outputs store each asset as {type, id, contentType} (execution/outputs.py); older rows
# also carried a url. Any other dict is the workflow's own data and is returned untouched.
_ASSET_REF_KEYS = frozenset({"type", "id", "contentType", "url", "size"})


def _is_asset_ref(value: dict[str, Any]) -> bool:
    return (
        isinstance(value.get("type"), str)
        and "id" in value
        and "contentType" in value
        and value.keys() <= _ASSET_REF_KEYS
    )


def _asset_refs(value: Any) -> Iterator[dict[str, Any]]:
    if isinstance(value, list):
        for item in value:
            yield from _asset_refs(item)
    elif isinstance(value, dict):
        if _is_asset_ref(value):
            yield value
        else:
            for item in value.values():
                yield from _asset_refs(item)


async def _with_links(outputs: Any, context: Context) -> Any:
    """The outputs with a fresh link for each asset the caller owns, and `url: null` for any
    other id: a graph may name any id, and a signed link would hand out its bytes."""
    ids: set[UUID] = set()
    for ref in _asset_refs(outputs):
        with contextlib.suppress(TypeError, ValueError, AttributeError):
            ids.add(UUID(ref["id"]))
    owned: dict[str, models.Asset] = {}
    if ids:
        rows = await context.loaders.asset_by_id.load_many(list(ids))
        owned = {str(row.id): row for row in rows if row is not None}

    def render(value: Any) -> Any:
        if isinstance(value, list):
            return [render(item) for item in value]
        if not isinstance(value, dict):
            return value
        if not _is_asset_ref(value):
            return {key: render(item) for key, item in value.items()}
        row = owned.get(str(value["id"]))
        rendered = {**value, "url": None}
        if row is not None:
            rendered["contentType"] = row.content_type
            if not row.is_folder:
                rendered["url"] = context.asset_url(row.id)
        return rendered

    return render(outputs)


def job_connection(page: object) -> Connection[Job]:
    return Connection[Job].from_page(page, Job.from_model)  # type: ignore[arg-type]


@strawberry.type
class NodeProperty:
    name: str
    type: str
    required: bool
    default: JSON | None
    description: str | None


@strawberry.type(description="A kind of node the execution module can run.")
class NodeType:
    type: str = strawberry.field(
        description="Fully qualified name used in workflow graphs, e.g. 'image.Resize'."
    )
    title: str
    description: str | None
    auto_save_asset: bool = strawberry.field(
        description="True when the node's asset outputs are saved automatically."
    )
    inputs: list[NodeProperty]
    outputs: list[NodeProperty]

    @classmethod
    def from_info(cls, node: NodeTypeInfo) -> "NodeType":
        def props(items: list) -> list[NodeProperty]:
            return [
                NodeProperty(
                    name=p.name,
                    type=p.type,
                    required=p.required,
                    default=p.default,
                    description=p.description,
                )
                for p in items
            ]

        return cls(
            type=node.type,
            title=node.title,
            description=node.description,
            auto_save_asset=node.auto_save_asset,
            inputs=props(node.inputs),
            outputs=props(node.outputs),
        )


@strawberry.input
class RunWorkflowInput:
    workflow_id: strawberry.ID | None = strawberry.field(
        default=None, description="Run a stored workflow ..."
    )
    graph: JSON | None = strawberry.field(
        default=None,
        description="... or an inline graph (then the job has no workflowId unless given).",
    )
    params: JSON | None = strawberry.field(
        default=None, description="Values for the workflow's input nodes, by node name or id."
    )
    job_id: str | None = strawberry.field(
        default=None, description="Optional caller-chosen job id (unique); generated when absent."
    )
    auto_save: models.AutoSaveMode | None = strawberry.field(
        default=models.AutoSaveMode.ALL, description="What auto-save stores for this run."
    )
    keep_for_seconds: int | None = strawberry.field(
        default=None,
        description="Retention for what this run auto-saves: expiresAt = the job's finish time "
        "+ this many seconds.",
    )
    retries: int = strawberry.field(
        default=0,
        description="Run again, at most this many times (0 to 10), when the process running "
        "the job is lost (killed, or silent past the lease); a job that fails is not retried.",
    )


@strawberry.type
class JobQueries:
    @strawberry.field
    async def job(self, info: Info, id: strawberry.ID) -> Job | None:
        try:
            row = await info.context.services.jobs.get(owner=info.context.user, job_id=id)
        except NotFound:
            return None
        return Job.from_model(row)

    @strawberry.field
    async def jobs(
        self,
        info: Info,
        workflow_id: str | None = None,
        status: models.JobStatus | None = None,
        first: int | None = None,
        after: str | None = None,
    ) -> Connection[Job]:
        page = await info.context.services.jobs.list_jobs(
            owner=info.context.user,
            workflow_id=workflow_id,
            status=status,
            first=first,
            after=after,
        )
        return job_connection(page)

    @strawberry.field
    def node_types(self, info: Info) -> list[NodeType]:
        return [NodeType.from_info(n) for n in info.context.services.jobs.node_types()]


@strawberry.type
class JobMutations:
    @strawberry.mutation(
        description="Start a job; it runs in the background. Poll job(id) or subscribe to "
        "jobUpdated."
    )
    async def run_workflow(self, info: Info, input: RunWorkflowInput) -> Job:
        row = await info.context.services.jobs.run(
            owner=info.context.user,
            workflow_id=input.workflow_id,
            graph=input.graph,
            params=input.params,
            job_id=input.job_id,
            auto_save=input.auto_save or models.AutoSaveMode.ALL,
            keep_for_seconds=input.keep_for_seconds,
            retries=input.retries,
        )
        return Job.from_model(row)

    @strawberry.mutation
    async def cancel_job(self, info: Info, id: strawberry.ID) -> Job:
        row = await info.context.services.jobs.cancel(owner=info.context.user, job_id=id)
        return Job.from_model(row)


@strawberry.type
class JobSubscriptions:
    @strawberry.subscription(
        description="Every status change of one job, ending after a final status."
    )
    async def job_updated(self, info: Info, id: strawberry.ID) -> AsyncGenerator[Job, None]:
        async for row in info.context.services.jobs.updates(owner=info.context.user, job_id=id):
            yield Job.from_model(row)
