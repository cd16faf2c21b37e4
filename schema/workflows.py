from datetime import datetime

import strawberry
from strawberry.scalars import JSON

import models
from schema.assets import Asset, asset_connection
from schema.context import Info
from schema.jobs import Job, job_connection
from schema.nodes import Node
from schema.pagination import Connection
from services import assets as asset_service
from services.errors import NotFound


@strawberry.type(name="Workflow")
class Workflow(Node):
    id: strawberry.ID
    name: str
    graph: JSON = strawberry.field(
        description="The graph: {nodes: [{id, type, data}], edges: [{source, sourceHandle, "
        "target, targetHandle}]}."
    )
    created_at: datetime
    updated_at: datetime

    @classmethod
    def from_model(cls, row: models.Workflow) -> "Workflow":
        return cls(
            id=strawberry.ID(str(row.id)),
            name=row.name,
            graph=JSON(row.graph),
            created_at=row.created_at,
            updated_at=row.updated_at,
        )

    @strawberry.field
    async def jobs(
        self, info: Info, first: int | None = None, after: str | None = None
    ) -> Connection[Job]:
        page = await info.context.services.jobs.list_jobs(
            owner=info.context.user, workflow_id=str(self.id), first=first, after=after
        )
        return job_connection(page)

    @strawberry.field
    async def assets(
        self, info: Info, first: int | None = None, after: str | None = None
    ) -> Connection[Asset]:
        page = await info.context.services.assets.list_records(
            owner=info.context.user,
            where=asset_service.AssetFilter(workflow_id=str(self.id)),
            first=first,
            after=after,
        )
        return asset_connection(page)


@strawberry.input
class WorkflowInput:
    name: str
    graph: JSON


@strawberry.type
class WorkflowQueries:
    @strawberry.field
    async def workflow(self, info: Info, id: strawberry.ID) -> Workflow | None:
        try:
            row = await info.context.services.workflows.get(owner=info.context.user, workflow_id=id)
        except NotFound:
            return None
        return Workflow.from_model(row)

    @strawberry.field
    async def workflows(
        self, info: Info, first: int | None = None, after: str | None = None
    ) -> Connection[Workflow]:
        page = await info.context.services.workflows.list_workflows(
            owner=info.context.user, first=first, after=after
        )
        return Connection[Workflow].from_page(page, Workflow.from_model)


@strawberry.type
class WorkflowMutations:
    @strawberry.mutation
    async def create_workflow(self, info: Info, input: WorkflowInput) -> Workflow:
        row = await info.context.services.workflows.create(
            owner=info.context.user, name=input.name, graph=input.graph
        )
        return Workflow.from_model(row)

    @strawberry.mutation
    async def update_workflow(
        self, info: Info, id: strawberry.ID, input: WorkflowInput
    ) -> Workflow:
        row = await info.context.services.workflows.update(
            owner=info.context.user, workflow_id=id, name=input.name, graph=input.graph
        )
        return Workflow.from_model(row)

    @strawberry.mutation
    async def delete_workflow(self, info: Info, id: strawberry.ID) -> bool:
        return await info.context.services.workflows.delete(owner=info.context.user, workflow_id=id)
