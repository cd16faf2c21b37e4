from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from models import User, Workflow
from services.assets import parse_id
from services.errors import InvalidInput, NotFound
from services.pagination import Ordering, Page, paginate
from services.validation import check_json, check_text

_NEWEST_FIRST = Ordering("CREATED_AT_DESC", None, descending=True)


@dataclass(frozen=True)
class GraphLimits:
    """How big a workflow graph may be, stored or run (TROVE_MAX_GRAPH_*)."""

    max_nodes: int = 2000
    max_edges: int = 10000
    max_bytes: int = 1 << 20

    def check(self, graph: Any) -> dict[str, Any]:
        """The graph, or InvalidInput saying which limit it passes."""
        if not isinstance(graph, dict):
            raise InvalidInput("`graph` must be an object with `nodes` and `edges`")
        nodes, edges = graph.get("nodes", []), graph.get("edges", [])
        if not isinstance(nodes, list) or not isinstance(edges, list):
            raise InvalidInput("`graph.nodes` and `graph.edges` must be lists")
        if len(nodes) > self.max_nodes:
            raise InvalidInput(f"The graph has {len(nodes)} nodes; the limit is {self.max_nodes}")
        if len(edges) > self.max_edges:
            raise InvalidInput(f"The graph has {len(edges)} edges; the limit is {self.max_edges}")
        check_json(graph, "`graph`")
        size = len(json.dumps(graph, separators=(",", ":"), ensure_ascii=False).encode())
        if size > self.max_bytes:
            raise InvalidInput(f"The graph is {size} bytes as JSON; the limit is {self.max_bytes}")
        return graph


def _check_name(name: str) -> str:
    name = name.strip()
    if not name or len(name) > 255:
        raise InvalidInput("A workflow name is 1 to 255 characters")
    check_text(name, "The workflow name")
    return name


class WorkflowService:
    def __init__(self, *, limits: GraphLimits | None = None) -> None:
        self.limits = limits or GraphLimits()

    def check_graph(self, graph: Any) -> dict[str, Any]:
        graph = self.limits.check(graph)
        return {**graph, "nodes": graph.get("nodes", []), "edges": graph.get("edges", [])}

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
            owner_id=owner.id, name=_check_name(name), graph=self.check_graph(graph)
        )

    async def update(self, *, owner: User, workflow_id: str, name: str, graph: Any) -> Workflow:
        row = await self.get(owner=owner, workflow_id=workflow_id)
        row.name = _check_name(name)
        row.graph = self.check_graph(graph)
        await row.save()
        return row

    async def delete(self, *, owner: User, workflow_id: str) -> bool:
        row = await self.get(owner=owner, workflow_id=workflow_id)
        await row.delete()
        return True
