from collections.abc import Callable, Sequence

import strawberry
from graphql.error import GraphQLError
from strawberry.extensions import SchemaExtension
from strawberry.schema.config import StrawberryConfig
from strawberry.types.execution import ExecutionContext

from schema.assets import Asset, AssetMutations, AssetQueries, AssetSubscriptions, resolve_asset
from schema.context import Info
from schema.direct_uploads import DirectUploadMutations
from schema.execution import FastExecutionContext
from schema.jobs import Job, JobMutations, JobQueries, JobSubscriptions
from schema.nodes import Node
from schema.scalars import SCALAR_OVERRIDES
from schema.users import UserQueries
from schema.validation import LimitedValidation, ParserCache, QueryLimits
from schema.workflows import Workflow, WorkflowMutations, WorkflowQueries
from services.errors import NotFound


@strawberry.type
class Query(AssetQueries, JobQueries, WorkflowQueries, UserQueries):
    @strawberry.field
    async def node(self, info: Info, id: strawberry.ID) -> Node | None:
        # Asset, workflow and job ids never collide, so trying each in turn is unambiguous.
        asset = await resolve_asset(info, id)
        if asset is not None:
            return asset
        context = info.context
        try:
            workflow = await context.services.workflows.get(owner=context.user, workflow_id=id)
            return Workflow.from_model(workflow)
        except NotFound:
            pass
        try:
            return Job.from_model(await context.services.jobs.get(owner=context.user, job_id=id))
        except NotFound:
            return None


@strawberry.type
class Mutation(AssetMutations, WorkflowMutations, JobMutations, DirectUploadMutations):
    pass


@strawberry.type
class Subscription(AssetSubscriptions, JobSubscriptions):
    pass


DEFAULT_LIMITS = QueryLimits()


class TroveSchema(strawberry.Schema):
    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        # Expected errors are the client's business; the server's edge (server/edge.py)
        # logs unexpected ones with the request id. Strawberry's default would log every
        # error with a traceback.
        return


def build_schema(
    *,
    limits: QueryLimits = DEFAULT_LIMITS,
    extensions: Sequence[type[SchemaExtension] | Callable[[], SchemaExtension]] = (),
    fast_execution: bool = True,
) -> strawberry.Schema:
    """The schema; `extensions` come first (the server passes its error edge there)."""
    return TroveSchema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        types=[Asset, Job, Workflow],
        scalar_overrides=SCALAR_OVERRIDES,
        config=StrawberryConfig(auto_camel_case=True),
        # Plain fields in one tight loop, everything else as graphql-core does it
        # (schema/execution.py); off only to compare the two.
        execution_context_class=FastExecutionContext if fast_execution else None,
        extensions=[
            *extensions,
            lambda: LimitedValidation(limits),
            lambda: ParserCache(maxsize=256),
        ],
    )
