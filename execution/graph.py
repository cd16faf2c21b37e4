"""A workflow graph, checked completely before anything runs.

`{nodes: [{id, type, data}], edges: [{source, sourceHandle, target, targetHandle}]}`. An
edge's `sourceHandle` may be omitted for a node with one output. Its `targetHandle` names an
input; several edges may feed one list input (their values are collected in edge order), and
`field.key` sets one key of a dict input.
"""

from __future__ import annotations

import heapq
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from execution.node import (
    BaseNode,
    InputNode,
    OutputNode,
    is_mapping_type,
    list_item_type,
    refs_compatible,
    type_name,
)
from execution.registry import NodeRegistry
from services.errors import InvalidInput

MAX_NODE_ID_LENGTH = 255
# Every node of a job gets a task; this keeps one request from asking for millions.
MAX_NODES = 2000
MAX_REPORTED_PROBLEMS = 10


@dataclass(frozen=True)
class Edge:
    source: str
    source_handle: str
    target: str
    target_handle: str

    @property
    def target_field(self) -> str:
        return self.target_handle.split(".", 1)[0]

    @property
    def target_key(self) -> str | None:
        parts = self.target_handle.split(".", 1)
        return parts[1] if len(parts) == 2 else None


@dataclass(frozen=True)
class GraphNode:
    id: str
    node_type: str
    data: dict[str, Any]
    node_class: type[BaseNode]

    @property
    def name(self) -> str:
        """What params and job outputs call an input or output node."""
        name = self.data.get("name")
        return name if isinstance(name, str) and name else self.id


@dataclass
class Graph:
    nodes: dict[str, GraphNode]
    edges: list[Edge]
    # Every node after all the nodes it depends on.
    order: list[str]
    incoming: dict[str, list[Edge]] = field(default_factory=dict)

    def upstream(self, node_id: str) -> set[str]:
        return {edge.source for edge in self.incoming.get(node_id, [])}

    def input_nodes(self) -> list[GraphNode]:
        return [n for n in self.nodes.values() if issubclass(n.node_class, InputNode)]

    def output_nodes(self) -> list[GraphNode]:
        return [n for n in self.nodes.values() if issubclass(n.node_class, OutputNode)]


class _Problems:
    def __init__(self) -> None:
        self.items: list[str] = []

    def add(self, message: str) -> None:
        self.items.append(message)

    def raise_if_any(self) -> None:
        if not self.items:
            return
        shown = self.items[:MAX_REPORTED_PROBLEMS]
        more = len(self.items) - len(shown)
        suffix = f"; and {more} more" if more else ""
        raise InvalidInput("Invalid workflow: " + "; ".join(shown) + suffix)


def parse_graph(raw: Any, registry: NodeRegistry) -> Graph:
    """The graph, or InvalidInput listing what is wrong with it."""
    if not isinstance(raw, dict):
        raise InvalidInput("Invalid workflow: the graph must be an object with `nodes` and `edges`")
    raw_nodes, raw_edges = raw.get("nodes"), raw.get("edges", [])
    if not isinstance(raw_nodes, list) or not isinstance(raw_edges, list):
        raise InvalidInput("Invalid workflow: `nodes` and `edges` must be lists")
    problems = _Problems()
    nodes = _parse_nodes(raw_nodes, registry, problems)
    # Inputs that a broken edge meant to feed: already reported, not "missing" as well.
    aimed: set[tuple[str, str]] = set()
    edges = _parse_edges(raw_edges, nodes, problems, aimed)
    # Values are checked on whatever parsed, so one answer lists every problem at once.
    incoming: dict[str, list[Edge]] = defaultdict(list)
    for edge in edges:
        incoming[edge.target].append(edge)
    _check_inputs(nodes, incoming, problems, aimed)
    _check_names(nodes, problems)
    order = _topological_order(nodes, edges, problems)
    problems.raise_if_any()
    return Graph(nodes=nodes, edges=edges, order=order, incoming=dict(incoming))


def _parse_nodes(
    raw_nodes: list[Any], registry: NodeRegistry, problems: _Problems
) -> dict[str, GraphNode]:
    nodes: dict[str, GraphNode] = {}
    if not raw_nodes:
        problems.add("the graph has no nodes")
    if len(raw_nodes) > MAX_NODES:
        problems.add(f"the graph has {len(raw_nodes)} nodes; at most {MAX_NODES} can run")
        return nodes
    for position, raw in enumerate(raw_nodes):
        if not isinstance(raw, dict):
            problems.add(f"nodes[{position}] is not an object")
            continue
        node_id, node_type, data = raw.get("id"), raw.get("type"), raw.get("data", {})
        if not isinstance(node_id, str) or not node_id or len(node_id) > MAX_NODE_ID_LENGTH:
            problems.add(f"nodes[{position}] needs an `id` of 1 to {MAX_NODE_ID_LENGTH} characters")
            continue
        if node_id in nodes:
            problems.add(f"node id '{node_id}' is used twice")
            continue
        if data is None:
            data = {}
        if not isinstance(data, dict):
            problems.add(f"node '{node_id}': `data` must be an object")
            continue
        node_class = registry.get(node_type) if isinstance(node_type, str) else None
        if node_class is None or not isinstance(node_type, str):
            problems.add(f"node '{node_id}': unknown node type {node_type!r}")
            continue
        nodes[node_id] = GraphNode(
            id=node_id, node_type=node_type, data=data, node_class=node_class
        )
    return nodes


def _handle(raw: dict[str, Any], camel: str, snake: str) -> Any:
    return raw[camel] if camel in raw else raw.get(snake)


def _parse_edges(
    raw_edges: list[Any],
    nodes: dict[str, GraphNode],
    problems: _Problems,
    aimed: set[tuple[str, str]],
) -> list[Edge]:
    edges: list[Edge] = []
    for position, raw in enumerate(raw_edges):
        if not isinstance(raw, dict):
            problems.add(f"edges[{position}] is not an object")
            continue
        source, target = raw.get("source"), raw.get("target")
        source_handle = _handle(raw, "sourceHandle", "source_handle")
        target_handle = _handle(raw, "targetHandle", "target_handle")
        if isinstance(target, str) and isinstance(target_handle, str):
            aimed.add((target, target_handle.split(".", 1)[0]))
        where = f"edge {source!r} -> {target!r}"
        source_node = nodes.get(source) if isinstance(source, str) else None
        target_node = nodes.get(target) if isinstance(target, str) else None
        if source_node is None or target_node is None:
            missing = source if source_node is None else target
            problems.add(f"{where}: there is no node {missing!r}")
            continue
        source_type_name, target_type_name = source_node.node_type, target_node.node_type
        source_spec = source_node.node_class.spec()
        if source_handle is None and len(source_spec.outputs) == 1:
            source_handle = next(iter(source_spec.outputs))
        if not isinstance(source_handle, str) or source_handle not in source_spec.outputs:
            outputs = ", ".join(source_spec.outputs) or "none"
            problems.add(
                f"{where}: {source_type_name} has no output {source_handle!r} (outputs: {outputs})"
            )
            continue
        if not isinstance(target_handle, str):
            problems.add(f"{where}: `targetHandle` must name an input of {target_type_name}")
            continue
        edge = Edge(source_node.id, source_handle, target_node.id, target_handle)
        fields = target_node.node_class.model_fields
        target_field = fields.get(edge.target_field)
        if target_field is None or (
            edge.target_key is not None and not is_mapping_type(target_field.annotation)
        ):
            inputs = ", ".join(fields) or "none"
            problems.add(
                f"{where}: {target_type_name} has no input {target_handle!r} (inputs: {inputs})"
            )
            continue
        source_type = source_spec.output_type(source_handle)
        if edge.target_key is None and not refs_compatible(source_type, target_field.annotation):
            problems.add(
                f"{where}: output {source_handle!r} ({type_name(source_type)}) cannot feed input "
                f"{target_handle!r} ({type_name(target_field.annotation)})"
            )
            continue
        edges.append(edge)
    return edges


def _check_inputs(
    nodes: dict[str, GraphNode],
    incoming: dict[str, list[Edge]],
    problems: _Problems,
    aimed: set[tuple[str, str]],
) -> None:
    for node in nodes.values():
        fields = node.node_class.model_fields
        connected: dict[str, int] = defaultdict(int)
        for edge in incoming.get(node.id, []):
            if edge.target_key is None:
                connected[edge.target_field] += 1
        for name, count in connected.items():
            if count > 1 and list_item_type(fields[name].annotation) is None:
                problems.add(f"node '{node.id}': input '{name}' has {count} incoming edges")
        keyed = {e.target_handle for e in incoming.get(node.id, []) if e.target_key is not None}
        given = {
            key: value for key, value in node.data.items() if key in fields and key not in connected
        }
        try:
            node.node_class.model_validate(given)
        except ValidationError as error:
            for detail in error.errors():
                location = detail["loc"][0] if detail["loc"] else None
                if not isinstance(location, str):
                    continue
                if location in connected:
                    continue
                if detail["type"] == "missing":
                    if (node.id, location) in aimed:
                        continue
                    if any(h.startswith(location + ".") for h in keyed):
                        continue
                    problems.add(
                        f"node '{node.id}' ({node.node_type}): required input '{location}' is "
                        "neither set nor connected"
                    )
                else:
                    problems.add(
                        f"node '{node.id}' ({node.node_type}): input '{location}': {detail['msg']}"
                    )


def _check_names(nodes: dict[str, GraphNode], problems: _Problems) -> None:
    for kind, base in (("input", InputNode), ("output", OutputNode)):
        seen: dict[str, str] = {}
        for node in nodes.values():
            if not issubclass(node.node_class, base):
                continue
            if node.name in seen:
                problems.add(
                    f"{kind} nodes '{seen[node.name]}' and '{node.id}' share the name '{node.name}'"
                )
            seen[node.name] = node.id


def _topological_order(
    nodes: dict[str, GraphNode], edges: list[Edge], problems: _Problems
) -> list[str]:
    position = {node_id: i for i, node_id in enumerate(nodes)}
    waiting = {node_id: 0 for node_id in nodes}
    downstream: dict[str, set[str]] = defaultdict(set)
    for edge in edges:
        if edge.target not in downstream[edge.source]:
            downstream[edge.source].add(edge.target)
            waiting[edge.target] += 1
    # Ties are broken by the order nodes appear in the graph, so runs are reproducible.
    ready = [(position[n], n) for n, count in waiting.items() if count == 0]
    heapq.heapify(ready)
    order: list[str] = []
    while ready:
        _, node_id = heapq.heappop(ready)
        order.append(node_id)
        for after in downstream[node_id]:
            waiting[after] -= 1
            if waiting[after] == 0:
                heapq.heappush(ready, (position[after], after))
    if len(order) < len(nodes):
        stuck = sorted((n for n in nodes if n not in order), key=position.__getitem__)
        names = ", ".join(f"'{n}'" for n in stuck)
        problems.add(f"the graph has a cycle (nodes that could never run: {names})")
    return order
