import strawberry
from graphql.error import GraphQLError
from strawberry.extensions import AddValidationRules, QueryDepthLimiter, ValidationCache
from strawberry.schema.config import StrawberryConfig
from strawberry.types.execution import ExecutionContext

from schema.assets import Asset, AssetMutations, AssetQueries, AssetSubscriptions, resolve_asset
from schema.context import Info
from schema.errors import ErrorCodes, ParserCache, error_code
from schema.execution import FastExecutionContext
from schema.jobs import Job, JobMutations, JobQueries, JobSubscriptions
from schema.nodes import Node
from schema.scalars import SCALAR_OVERRIDES
from schema.workflows import Workflow, WorkflowMutations, WorkflowQueries
from services.errors import NotFound


@strawberry.type
class Query(AssetQueries, JobQueries, WorkflowQueries):
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
class Mutation(AssetMutations, WorkflowMutations, JobMutations):
    pass


@strawberry.type
class Subscription(AssetSubscriptions, JobSubscriptions):
    pass


class TroveSchema(strawberry.Schema):
    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        # Expected errors are the client's business, and ErrorCodes logs unexpected ones
        # with the request id; strawberry's default would log every one with a traceback.
        for error in errors:
            if error_code(error) is None:
                super().process_errors([error], execution_context)


def build_schema(*, max_depth: int = 12, fast_execution: bool = True) -> strawberry.Schema:
    # One limiter for the schema's lifetime: its rule class is part of the validation
    # cache key, and a fresh limiter per request would make every lookup a miss.
    depth_rules = QueryDepthLimiter(max_depth=max_depth).validation_rules
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
            ErrorCodes,
            lambda: AddValidationRules(depth_rules),
            lambda: ParserCache(maxsize=256),
            lambda: ValidationCache(maxsize=256),
        ],
    )
