"""The node API: a node is a pydantic model whose fields are its inputs.

A field's value comes from an incoming edge when one targets it, else from the node's `data`
in the graph, else from its default. Outputs are read from the return annotation of
`process`: a single value is the output `output`; a TypedDict names several outputs. A
`process` written as an async generator streams: each item it yields is handled (and, for
auto-saving nodes, stored) as soon as it is yielded, and downstream nodes receive the list of
everything it emitted on each output.
"""

from __future__ import annotations

import inspect
import re
import sys
import types
import typing
from collections.abc import AsyncGenerator, AsyncIterable, AsyncIterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Literal, Union, get_args, get_origin

from pydantic import BaseModel, ConfigDict, PrivateAttr
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined, to_jsonable_python

from execution.refs import AssetRef
from services.jobs import NodeProperty, NodeTypeInfo

if TYPE_CHECKING:
    from execution.context import ProcessingContext

OUTPUT = "output"
_STREAM_ORIGINS = (AsyncIterator, AsyncIterable, AsyncGenerator)
_CAMEL_WORDS = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")


@dataclass(frozen=True)
class NodeSpec:
    """What the runner and the registry need to know about a node class, computed once."""

    type: str
    title: str
    description: str | None
    auto_save_asset: bool
    streaming: bool
    # Name -> annotation, as declared (for a streaming node: the type of one emitted item).
    outputs: dict[str, Any]
    # True when `process` returns/yields a mapping of output names to values.
    named_outputs: bool

    def output_type(self, name: str) -> Any:
        """The type downstream nodes receive on an output."""
        declared = self.outputs[name]
        return list[declared] if self.streaming else declared  # type: ignore[valid-type]


class BaseNode(BaseModel):
    """Subclass this, declare inputs as fields and implement `process`.

    Class variables a node may set: `_auto_save_asset = True` (asset references in its outputs
    are stored automatically), `_namespace` (first part of the type name; defaults to the last
    part of the module name) and `_title`.
    """

    model_config = ConfigDict(extra="ignore", arbitrary_types_allowed=True)

    _auto_save_asset: ClassVar[bool] = False
    _namespace: ClassVar[str | None] = None
    _title: ClassVar[str | None] = None
    # Helper base classes set this in their own body so registries skip them.
    _abstract: ClassVar[bool] = False
    _specs: ClassVar[dict[type[BaseNode], NodeSpec]] = {}

    _id: str = PrivateAttr(default="")

    @classmethod
    def auto_save_asset(cls) -> bool:
        return cls._auto_save_asset

    @classmethod
    def node_type(cls) -> str:
        namespace = cls._namespace or cls.__module__.rsplit(".", 1)[-1]
        return f"{namespace}.{cls.__name__}"

    @classmethod
    def node_title(cls) -> str:
        return cls._title or _CAMEL_WORDS.sub(" ", cls.__name__)

    @classmethod
    def is_abstract(cls) -> bool:
        return bool(cls.__dict__.get("_abstract", False)) or cls.process is BaseNode.process

    @classmethod
    def spec(cls) -> NodeSpec:
        spec = BaseNode._specs.get(cls)
        if spec is None:
            spec = BaseNode._specs[cls] = _build_spec(cls)
        return spec

    @classmethod
    def info(cls) -> NodeTypeInfo:
        spec = cls.spec()
        inputs = [
            NodeProperty(
                name=name,
                type=type_name(field.annotation),
                required=field.is_required(),
                default=_json_default(field),
                description=_described(field),
            )
            for name, field in cls.model_fields.items()
        ]
        outputs = [
            NodeProperty(
                name=name,
                type=type_name(spec.output_type(name)),
                required=False,
                description="one item per emission, in order" if spec.streaming else None,
            )
            for name in spec.outputs
        ]
        return NodeTypeInfo(
            type=spec.type,
            title=spec.title,
            description=spec.description,
            auto_save_asset=spec.auto_save_asset,
            inputs=inputs,
            outputs=outputs,
        )

    @property
    def id(self) -> str:
        """The id of this node in the graph being run."""
        return self._id

    def process(self, context: ProcessingContext) -> Any:
        """Do the work: `async def` returning the outputs, or an async generator yielding them."""
        raise NotImplementedError


class InputNode(BaseNode):
    """A value supplied when the workflow is run: runWorkflow `params`, by `name` or node id."""

    _abstract = True
    _namespace = "input"

    name: str = ""


class OutputNode(BaseNode):
    """Its `value` becomes one of the job's outputs, under `name` (or the node id)."""

    _abstract = True
    _namespace = "control"

    name: str = ""
    value: Any = None

    async def process(self, context: ProcessingContext) -> Any:
        return self.value


def _build_spec(cls: type[BaseNode]) -> NodeSpec:
    if "id" in cls.model_fields:
        raise TypeError(f"{cls.__qualname__}: a node cannot have an input named 'id'")
    streaming = inspect.isasyncgenfunction(cls.process)
    if not streaming and not inspect.iscoroutinefunction(cls.process):
        raise TypeError(f"{cls.__qualname__}.process must be `async def`")
    returned = _return_annotation(cls)
    if streaming:
        origin = get_origin(returned)
        if origin in _STREAM_ORIGINS:
            returned = get_args(returned)[0] if get_args(returned) else Any
    named = typing.is_typeddict(returned)
    if named:
        outputs = typing.get_type_hints(returned)
    elif returned is None or returned is type(None):
        outputs = {}
    else:
        outputs = {OUTPUT: returned}
    return NodeSpec(
        type=cls.node_type(),
        title=cls.node_title(),
        # Only the class's own docstring: an inherited one describes the base class.
        description=inspect.cleandoc(cls.__doc__) if cls.__doc__ else None,
        auto_save_asset=cls.auto_save_asset(),
        streaming=streaming,
        outputs=outputs,
        named_outputs=named,
    )


def _return_annotation(cls: type[BaseNode]) -> Any:
    function = cls.process
    try:
        return typing.get_type_hints(function).get("return", Any)
    except NameError:
        # The parameter annotations may name types imported only for type checking; the
        # return annotation is all that matters here.
        raw = function.__annotations__.get("return", Any)
        if not isinstance(raw, str):
            return raw
        namespace = dict(vars(sys.modules[function.__module__]))
        return eval(raw, namespace)  # an annotation, evaluated as typing would


def bounds_of(field: FieldInfo) -> str | None:
    """The field's constraints in words, such as "0 to 10", "> 0, <= 600" or "1 to 64 items"."""
    found: dict[str, Any] = {}
    for item in field.metadata:
        for attribute in ("ge", "gt", "le", "lt", "min_length", "max_length"):
            value = getattr(item, attribute, None)
            if value is not None:
                found[attribute] = value
    parts: list[str] = []
    if "ge" in found and "le" in found:
        parts.append(f"{found['ge']} to {found['le']}")
    else:
        parts += [f"{symbol} {found[name]}" for name, symbol in _BOUND_SYMBOLS if name in found]
    low, high = found.get("min_length"), found.get("max_length")
    if high is not None:
        parts.append(f"{low or 0} to {high} items")
    elif low is not None:
        parts.append(f"at least {low} items")
    return ", ".join(parts) or None


_BOUND_SYMBOLS = (("ge", ">="), ("gt", ">"), ("le", "<="), ("lt", "<"))


def _described(field: FieldInfo) -> str | None:
    bounds = bounds_of(field)
    if bounds is None:
        return field.description
    return f"{field.description} ({bounds})" if field.description else bounds


def _json_default(field: FieldInfo) -> Any:
    if field.default is not PydanticUndefined:
        value = field.default
    elif field.default_factory is not None:
        value = field.default_factory()  # type: ignore[call-arg]
    else:
        return None
    try:
        return to_jsonable_python(value)
    except Exception:
        return None


def unwrap_optional(annotation: Any) -> Any:
    if get_origin(annotation) in (Union, types.UnionType):
        members = [a for a in get_args(annotation) if a is not type(None)]
        if len(members) == 1:
            return members[0]
    return annotation


def list_item_type(annotation: Any) -> Any | None:
    """The item type when the annotation is a list (possibly optional), else None."""
    annotation = unwrap_optional(annotation)
    if annotation is list:
        return Any
    if get_origin(annotation) in (list, Sequence):
        args = get_args(annotation)
        return args[0] if args else Any
    return None


def is_mapping_type(annotation: Any) -> bool:
    annotation = unwrap_optional(annotation)
    return annotation is dict or get_origin(annotation) in (dict, Mapping)


def ref_type(annotation: Any) -> type[AssetRef] | None:
    annotation = unwrap_optional(annotation)
    if isinstance(annotation, type) and issubclass(annotation, AssetRef):
        return annotation
    return None


def type_name(annotation: Any) -> str:
    """A short, language-neutral name for an input or output type (shown in nodeTypes)."""
    if annotation is Any or annotation is None:
        return "any"
    origin = get_origin(annotation)
    if origin in (Union, types.UnionType):
        members = [a for a in get_args(annotation) if a is not type(None)]
        name = " | ".join(type_name(a) for a in members)
        return f"{name} | None" if len(members) < len(get_args(annotation)) else name
    if origin is Literal:
        return "enum[" + ", ".join(str(a) for a in get_args(annotation)) + "]"
    if origin is typing.Annotated:
        return type_name(get_args(annotation)[0])
    if origin in (list, Sequence):
        args = get_args(annotation)
        return f"list[{type_name(args[0]) if args else 'any'}]"
    if origin is tuple:
        return "tuple[" + ", ".join(type_name(a) for a in get_args(annotation)) + "]"
    if origin in (dict, Mapping) or annotation is dict:
        return "dict"
    if isinstance(annotation, type):
        if issubclass(annotation, AssetRef):
            return annotation.kind
        if annotation is list:
            return "list[any]"
        return {str: "str", int: "int", float: "float", bool: "bool"}.get(
            annotation, annotation.__name__
        )
    return str(annotation)


def refs_compatible(source: Any, target: Any) -> bool:
    """False only for connections that can never work, such as audio into an image input."""
    target_item = list_item_type(target)
    source_item = list_item_type(source)
    if target_item is not None:
        # A list input takes single items too (they are collected).
        target = target_item
        if source_item is not None:
            source = source_item
    elif source_item is not None:
        return ref_type(target) is None
    source_ref, target_ref = ref_type(source), ref_type(target)
    if source_ref is None or target_ref is None:
        return True
    return issubclass(source_ref, target_ref) or issubclass(target_ref, source_ref)
