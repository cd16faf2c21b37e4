from __future__ import annotations

from typing import Any
from uuid import UUID

from models import User, Workflow
from services.assets import parse_id
from services.errors import InvalidInput, NotFound
from services.pagination import Ordering, Page, paginate
from services.validation import check_json, check_text

_NEWEST_FIRST = Ordering("CREATED_AT_DESC", None, descending=True)


def _check_graph(graph: Any) -> dict[str, Any]:
    if not isinstance(graph, dict):
        raise InvalidInput("`graph` must be an object with `nodes` and `edges`")
    check_json(graph, "`graph`")
    nodes, edges = graph.get("nodes", []), graph.get("edges", [])
    if not isinstance(nodes, list) or not isinstance(edges, list):
        raise InvalidInput("`graph.nodes` and `graph.edges` must be lists")
    return {**graph, "nodes": nodes, "edges": edges}


def _check_name(name: str) -> str:
    name = name.strip()
    if not name or len(name) > 255:
        raise InvalidInput("A workflow name is 1 to 255 characters")
    check_text(name, "The workflow name")
    return name


class WorkflowService:
    async def get(self, *, owner: User, workflow_id: str | UUID) -> Workflow:
        row = await Workflow.filter(
            id=parse_id(workflow_id, what="workflow"), owner_id=owner.id
        ).first()
        if row is None:
            raise NotFound(f"No workflow with id '{workflow_id}'")
        return row

    async def list_workflows(
        self, *, owner: User, first: int | None, after: str | None
    ) -> Page[Workflow]:
        return await paginate(
            Workflow.filter(owner_id=owner.id),
            _NEWEST_FIRST,
            first=first,
            after=after,
            last=None,
            before=None,
        )

    async def create(self, *, owner: User, name: str, graph: Any) -> Workflow:
        return await Workflow.create(
            owner_id=owner.id, name=_check_name(name), graph=_check_graph(graph)
        )

    async def update(self, *, owner: User, workflow_id: str, name: str, graph: Any) -> Workflow:
        row = await self.get(owner=owner, workflow_id=workflow_id)
        row.name = _check_name(name)
        row.graph = _check_graph(graph)
        await row.save()
        return row

    async def delete(self, *, owner: User, workflow_id: str) -> bool:
        row = await self.get(owner=owner, workflow_id=workflow_id)
        await row.delete()
        return True
