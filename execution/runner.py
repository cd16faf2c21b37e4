"""Runs one job: every node as soon as its inputs are ready, a bounded number at a time."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import ValidationError

from execution.autosave import AutoSaveError, consumed_asset_ids, find_refs, save_outputs
from execution.context import ProcessingContext
from execution.graph import Graph, GraphNode
from execution.node import NodeSpec, list_item_type
from execution.outputs import render_outputs
from execution.refs import AssetRef
from models import AutoSaveMode
from services.errors import TroveError

logger = logging.getLogger(__name__)

DEFAULT_MAX_PARALLEL_NODES = 4


@dataclass(frozen=True)
class NodeEvent:
    """Progress of one node, published on `node_topic(job_id)` (the CLI shows these)."""

    job_id: str
    node_id: str
    node_type: str
    status: Literal["running", "emitted", "completed", "failed"]
    asset_ids: tuple[str, ...] = ()
    error: str | None = None


def node_topic(job_id: str) -> str:
    return f"job-nodes:{job_id}"


class JobFailed(Exception):
    """The job cannot go on; `node_id` names the node responsible, when one is."""

    def __init__(self, message: str, node_id: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.node_id = node_id


def _node_failed(node: GraphNode, reason: str) -> JobFailed:
    return JobFailed(f"Node '{node.id}' ({node.node_type}) failed: {reason}", node.id)


def _reason(error: BaseException) -> str:
    if isinstance(error, TroveError):
        return error.message
    if isinstance(error, ValidationError):
        parts = []
        for detail in error.errors():
            where = ".".join(str(p) for p in detail["loc"])
            parts.append(f"input '{where}': {detail['msg']}" if where else detail["msg"])
        return "; ".join(parts)
    text = str(error)
    if isinstance(error, ValueError | AutoSaveError) and text:
        return text
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


class WorkflowRunner:
    def __init__(
        self,
        *,
        graph: Graph,
        context: ProcessingContext,
        params: Mapping[str, Any] | None = None,
        max_parallel_nodes: int = DEFAULT_MAX_PARALLEL_NODES,
        auto_save: AutoSaveMode = AutoSaveMode.ALL,
    ) -> None:
        self.graph = graph
        self.context = context
        self.params = dict(params or {})
        self.auto_save = AutoSaveMode(auto_save)
        # Stored assets each node's outputs came from, through unsaved intermediates too
        # (with OUTPUTS, a stored output's lineage names the stored assets upstream of it).
        self._lineage: dict[str, list[Any]] = {}
        # OUTPUTS: unsaved references a flagged node produced, by identity, until the run
        # ends and those that reached an output node are stored.
        self._deferred: dict[int, tuple[AssetRef, GraphNode, NodeSpec, str, list[Any]]] = {}
        self._slots = asyncio.Semaphore(max_parallel_nodes)
        self._results: dict[str, dict[str, Any]] = {}
        self._ready = {node_id: asyncio.Event() for node_id in graph.nodes}
        self._values_by_input: dict[str, Any] = {}

    @property
    def job_id(self) -> str:
        return self.context.job_id or ""

    async def run(self) -> Any:
        """Run every node; returns the job outputs, or raises JobFailed."""
        self._values_by_input = self._resolve_params()
        tasks = [
            asyncio.create_task(self._run_node(self.graph.nodes[node_id]), name=f"node {node_id}")
            for node_id in self.graph.order
        ]
        try:
            pending: set[asyncio.Task[None]] = set(tasks)
            while pending:
                done, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_EXCEPTION)
                for task in done:
                    error = task.exception()
                    if error is not None:
                        raise error
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
        outputs = {
            node.name: self._results[node.id].get("output") for node in self.graph.output_nodes()
        }
        if self.auto_save is AutoSaveMode.OUTPUTS:
            await self._save_reaching_outputs(outputs)
        return await render_outputs(
            outputs, services=self.context.services, owner=self.context.user
        )

    def _resolve_params(self) -> dict[str, Any]:
        inputs = self.graph.input_nodes()
        by_key = {node.id: node.id for node in inputs}
        by_key.update({node.name: node.id for node in inputs})
        values: dict[str, Any] = {}
        for key, value in self.params.items():
            node_id = by_key.get(key)
            if node_id is None:
                known = ", ".join(sorted({n.name for n in inputs})) or "none"
                raise JobFailed(
                    f"Unknown parameter '{key}': the workflow has no input node with that name "
                    f"or id (inputs: {known})"
                )
            values[node_id] = value
        return values

    async def _publish(self, event: NodeEvent) -> None:
        payload = dataclasses.asdict(event)
        await self.context.services.broker.publish(node_topic(self.job_id), payload)

    async def _run_node(self, node: GraphNode) -> None:
        for source in self.graph.upstream(node.id):
            await self._ready[source].wait()
        async with self._slots:
            await self._publish(NodeEvent(self.job_id, node.id, node.node_type, "running"))
            try:
                saved = await self._process(node)
            except Exception as error:
                failure = (
                    error if isinstance(error, JobFailed) else _node_failed(node, _reason(error))
                )
                if not isinstance(error, JobFailed | TroveError | ValidationError | ValueError):
                    # Most likely a bug in the node: keep the traceback for its author.
                    logger.warning(
                        "node %s (%s) of job %s raised",
                        node.id,
                        node.node_type,
                        self.job_id,
                        exc_info=True,
                    )
                await self._publish(
                    NodeEvent(self.job_id, node.id, node.node_type, "failed", error=failure.message)
                )
                if failure is error:
                    raise
                raise failure from error
            await self._publish(
                NodeEvent(self.job_id, node.id, node.node_type, "completed", asset_ids=tuple(saved))
            )
        self._ready[node.id].set()

    def _input_values(self, node: GraphNode) -> dict[str, Any]:
        fields = node.node_class.model_fields
        values = {key: value for key, value in node.data.items() if key in fields}
        if node.id in self._values_by_input:
            values["value"] = self._values_by_input[node.id]
        collected: dict[str, list[Any]] = {}
        keyed: dict[str, dict[str, Any]] = {}
        for edge in self.graph.incoming.get(node.id, []):
            produced = self._results[edge.source]
            if edge.source_handle not in produced:
                raise ValueError(
                    f"node '{edge.source}' gave no value for its output '{edge.source_handle}'"
                )
            value = produced[edge.source_handle]
            name = edge.target_field
            if edge.target_key is not None:
                base = values.get(name)
                keyed.setdefault(name, dict(base) if isinstance(base, Mapping) else {})
                keyed[name][edge.target_key] = value
            elif list_item_type(fields[name].annotation) is not None:
                items = collected.setdefault(name, [])
                items.extend(value if isinstance(value, list) else [value])
            else:
                values[name] = value
        values.update(collected)
        values.update(keyed)
        return values

    async def _process(self, node: GraphNode) -> list[str]:
        instance = node.node_class.model_validate(self._input_values(node))
        instance._id = node.id
        spec = node.node_class.spec()
        inputs = {name: getattr(instance, name) for name in type(instance).model_fields}
        consumed = consumed_asset_ids(inputs)
        if self.auto_save is not AutoSaveMode.ALL:
            for source in self.graph.upstream(node.id):
                consumed.extend(i for i in self._lineage.get(source, []) if i not in consumed)
        self._lineage[node.id] = consumed
        saved: list[str] = []
        if not spec.streaming:
            outputs = self._named(node, spec, await instance.process(self.context))
            if spec.auto_save_asset:
                saved = await self._save(node, spec, outputs, consumed, None)
            self._results[node.id] = outputs
            return saved
        emitted: dict[str, list[Any]] = {name: [] for name in spec.outputs}
        self._results[node.id] = emitted
        async with contextlib.aclosing(instance.process(self.context)) as stream:
            index = 0
            async for item in stream:
                outputs = self._named(node, spec, item)
                new: list[str] = []
                if spec.auto_save_asset:
                    new = await self._save(node, spec, outputs, consumed, index)
                    saved.extend(new)
                for name, value in outputs.items():
                    emitted[name].append(value)
                await self._publish(
                    NodeEvent(self.job_id, node.id, node.node_type, "emitted", asset_ids=tuple(new))
                )
                index += 1
        return saved

    async def _save_reaching_outputs(self, outputs: Mapping[str, Any]) -> None:
        """OUTPUTS: store the flagged nodes' references that reached an output node; the
        intermediates were only ever in memory."""
        for _, ref in find_refs(outputs):
            deferred = self._deferred.get(id(ref))
            if deferred is None or ref.asset_id is not None:
                continue
            _, node, spec, path, lineage = deferred
            try:
                saved = await save_outputs(
                    self.context,
                    outputs={path: ref},
                    node_id=node.id,
                    title=spec.title,
                    derived_from=lineage,
                )
            except AutoSaveError as error:
                raise _node_failed(node, str(error)) from error
            await self._publish(
                NodeEvent(self.job_id, node.id, node.node_type, "emitted", asset_ids=tuple(saved))
            )

    def _named(self, node: GraphNode, spec: NodeSpec, result: Any) -> dict[str, Any]:
        if not spec.outputs:
            return {}
        if not spec.named_outputs:
            return {next(iter(spec.outputs)): result}
        if not isinstance(result, Mapping):
            raise _node_failed(node, f"process returned {type(result).__name__}, not a mapping")
        unknown = [key for key in result if key not in spec.outputs]
        if unknown:
            raise _node_failed(node, f"process returned unknown output '{unknown[0]}'")
        return dict(result)

    async def _save(
        self,
        node: GraphNode,
        spec: NodeSpec,
        outputs: dict[str, Any],
        consumed: list[Any],
        index: int | None,
    ) -> list[str]:
        if self.auto_save is AutoSaveMode.NONE:
            return []
        if self.auto_save is AutoSaveMode.OUTPUTS:
            for output, value in outputs.items():
                base = output if index is None else f"{output}-{index}"
                for path, ref in find_refs(value, base):
                    if ref.asset_id is None:
                        self._deferred[id(ref)] = (ref, node, spec, path, consumed)
            return []
        try:
            return await save_outputs(
                self.context,
                outputs=outputs,
                node_id=node.id,
                title=spec.title,
                derived_from=consumed,
                index=index,
            )
        except AutoSaveError as error:
            raise _node_failed(node, str(error)) from error
