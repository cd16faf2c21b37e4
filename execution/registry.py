"""Which node types exist: the built-in ones and those of installed packages.

A package adds nodes by declaring an entry point in the `trove.nodes` group whose value is a
module (every concrete node class defined in it is registered) or a single node class:

    [project.entry-points."trove.nodes"]
    example = "trove_example_nodes"
"""

from __future__ import annotations

import importlib
import inspect
import logging
from collections.abc import Iterable, Iterator
from importlib.metadata import EntryPoint, entry_points
from types import ModuleType

from execution.node import BaseNode
from services.jobs import NodeTypeInfo

logger = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "trove.nodes"
BUILTIN_MODULES = (
    "execution.nodes.image",
    "execution.nodes.image_color",
    "execution.nodes.image_filter",
    "execution.nodes.audio",
    "execution.nodes.video",
    "execution.nodes.library",
    "execution.nodes.text",
    "execution.nodes.data",
    "execution.nodes.asset",
    "execution.nodes.input",
    "execution.nodes.control",
)


class NodeRegistry:
    def __init__(self) -> None:
        self._types: dict[str, type[BaseNode]] = {}
        # Plugins that failed to load: reported, not fatal, so one broken package cannot
        # keep the server from starting.
        self.errors: list[str] = []

    @classmethod
    def discover(cls, *, group: str = ENTRY_POINT_GROUP) -> NodeRegistry:
        registry = cls()
        for name in BUILTIN_MODULES:
            registry.register_module(importlib.import_module(name))
        for entry_point in entry_points(group=group):
            registry.load_entry_point(entry_point)
        return registry

    def register(self, node_class: type[BaseNode]) -> None:
        if not (inspect.isclass(node_class) and issubclass(node_class, BaseNode)):
            raise TypeError(f"{node_class!r} is not a node class")
        spec = node_class.spec()
        existing = self._types.get(spec.type)
        if existing is not None and existing is not node_class:
            raise ValueError(
                f"node type '{spec.type}' is already registered by {existing.__module__}"
            )
        self._types[spec.type] = node_class

    def register_module(self, module: ModuleType) -> list[type[BaseNode]]:
        found = [
            value
            for value in vars(module).values()
            if inspect.isclass(value)
            and issubclass(value, BaseNode)
            and value.__module__ == module.__name__
            and not value.is_abstract()
        ]
        for node_class in found:
            self.register(node_class)
        return found

    def load_entry_point(self, entry_point: EntryPoint) -> None:
        source = f"entry point '{entry_point.name}' ({entry_point.value})"
        try:
            loaded = entry_point.load()
            if isinstance(loaded, ModuleType):
                self.register_module(loaded)
            else:
                self.register(loaded)
        except Exception as error:
            logger.exception("could not load the nodes of %s", source)
            self.errors.append(f"{source}: {error}")

    def get(self, node_type: str) -> type[BaseNode] | None:
        return self._types.get(node_type)

    def __contains__(self, node_type: object) -> bool:
        return node_type in self._types

    def __iter__(self) -> Iterator[type[BaseNode]]:
        return iter(self._types.values())

    def __len__(self) -> int:
        return len(self._types)

    def infos(self, types: Iterable[str] | None = None) -> list[NodeTypeInfo]:
        names = sorted(self._types) if types is None else list(types)
        return [self._types[name].info() for name in names]
