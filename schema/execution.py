"""A faster executor for the common shape of a query: objects made of plain fields.

graphql-core resolves every field the same general way: a `Path`, a resolve-info object,
argument coercion, the resolver call, awaitable checks and `complete_value`'s type dispatch,
about 5 µs per field. Most fields of a listing are nothing but an attribute read and a
scalar serialisation, so this executor compiles each selection set (once per request) into
a list of steps and runs the plain ones in one tight loop:

- a *plain leaf*: Strawberry's default resolver (an attribute, no arguments, no field
  extensions) of a scalar or enum type: read the attribute, serialise it with the very
  `coerce_output_value` graphql-core would call;
- a *context leaf*: a leaf whose resolver only reads `info.context`, declared with
  `fast_resolver(...)` in the field's metadata: the same function, called without building
  an `Info`;
- `__typename`: the parent type's name;
- a *plain object*: an attribute holding an object-typed value (or a list of them), whose
  sub-selection is executed at once (again through this loop).

Everything else (resolvers with arguments or of our own, abstract types, `@defer`/`@stream`)
goes through graphql-core's `execute_field`. So does any plain field the moment something
is unusual: a null for a non-null field, a value the scalar refuses, an exception from an
attribute. graphql-core then repeats the read and produces its own error, path and null
propagation, so the response is identical byte for byte (tests/test_execution_parity.py
checks that against graphql-core on every document the test suite sends, and on generated
ones). When an extension hooks field resolution (a middleware), the whole operation takes
the normal path.
"""

import weakref
from collections.abc import Awaitable, Callable
from typing import Any, NamedTuple

import strawberry
from graphql import (
    ExecutionResult,
    GraphQLError,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    is_leaf_type,
    is_object_type,
)
from graphql.execution.collect_fields import FieldDetailsList, GroupedFieldSet
from graphql.pyutils import Path, Undefined, gather_with_cancel
from graphql.type.scalars import serialize_boolean, serialize_id, serialize_string
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
from strawberry.schema.schema_converter import GraphQLCoreConverter

FAST_RESOLVER = "trove.fast_resolver"
"""Key of a field's metadata naming `fn(source, context)`, equal to its resolver."""

_DEFINITION = GraphQLCoreConverter.DEFINITION_BACKREF
# Directives that only decide whether a field is collected; any other one (e.g. @stream)
# changes how it executes and sends the field down the normal path.
_COLLECTION_DIRECTIVES = frozenset({"skip", "include"})

_OTHER, _LEAF, _CONTEXT, _TYPENAME, _OBJECT, _OBJECT_LIST = range(6)


def fast_resolver(fn: Callable[[Any, Any], Any]) -> dict[str, Any]:
    """Field metadata that lets the fast path call `fn(source, info.context)` directly.

    The field's own resolver must return exactly `fn(self, info.context)`, and `fn` must be
    free of side effects (after a failure graphql-core calls the resolver again to report
    it). Use: `@strawberry.field(metadata=fast_resolver(fn))`.
    """
    return {FAST_RESOLVER: fn}


def root_field(resolver: Callable[[Any], Any], **options: Any) -> Any:
    """`strawberry.field(resolver=resolver, ...)` for a resolver that reads only its object
    (`resolver(root)`), which the fast path then calls directly."""
    return strawberry.field(
        resolver=resolver,
        metadata=fast_resolver(lambda source, context: resolver(source)),
        **options,
    )


class _Kind(NamedTuple):
    """How to execute one field of one object type: fixed for the schema's lifetime."""

    kind: int
    return_type: GraphQLOutputType | None
    nullable: bool
    # The attribute name, or the context function.
    target: Any
    coerce: Callable[[Any], Any] | None
    object_type: GraphQLObjectType | None
    item_type: GraphQLOutputType | None


_NORMAL = _Kind(_OTHER, None, True, None, None, None, None)
_TYPENAME_KIND = _Kind(_TYPENAME, None, False, None, None, None, None)
# Per object type, per field name; weak, so schemas built and dropped (tests) go away.
_KINDS: "weakref.WeakKeyDictionary[GraphQLObjectType, dict[str, _Kind]]" = (
    weakref.WeakKeyDictionary()
)


def _ignores_info(is_type_of: Callable[..., Any]) -> bool:
    # Strawberry's generated check for types that implement interfaces reads only the value.
    return is_type_of.__qualname__.endswith("_get_is_type_of.<locals>.is_type_of")


def _plain_object_type(type_: Any) -> GraphQLObjectType | None:
    if is_object_type(type_) and (type_.is_type_of is None or _ignores_info(type_.is_type_of)):
        return type_
    return None


def _field_kind(parent_type: GraphQLObjectType, name: str) -> _Kind:
    if name == "__typename":
        return _TYPENAME_KIND
    field_def = parent_type.fields.get(name)
    if field_def is None or field_def.args:
        return _NORMAL
    definition = (field_def.extensions or {}).get(_DEFINITION)
    if definition is None or definition.extensions:
        return _NORMAL
    return_type = field_def.type
    nullable = not isinstance(return_type, GraphQLNonNull)
    inner = return_type if nullable else return_type.of_type
    if getattr(field_def.resolve, "_is_default", False) and definition.default_resolver is getattr:
        attribute = definition.python_name
        if is_leaf_type(inner):
            return _Kind(
                _LEAF, return_type, nullable, attribute, inner.coerce_output_value, None, None
            )
        object_type = _plain_object_type(inner)
        if object_type is not None:
            return _Kind(_OBJECT, return_type, nullable, attribute, None, object_type, None)
        if isinstance(inner, GraphQLList):
            item = inner.of_type
            object_type = _plain_object_type(
                item.of_type if isinstance(item, GraphQLNonNull) else item
            )
            if object_type is not None:
                return _Kind(
                    _OBJECT_LIST, return_type, nullable, attribute, None, object_type, item
                )
        return _NORMAL
    context_fn = (definition.metadata or {}).get(FAST_RESOLVER)
    if context_fn is not None and is_leaf_type(inner) and not definition.is_async:
        return _Kind(
            _CONTEXT, return_type, nullable, context_fn, inner.coerce_output_value, None, None
        )
    return _NORMAL


def _step(
    parent_type: GraphQLObjectType, response_name: str, field_details_list: FieldDetailsList
) -> tuple[_Kind, str, FieldDetailsList]:
    for details in field_details_list:
        if details.defer_usage is not None or details.fragment_variable_values is not None:
            return _NORMAL, response_name, field_details_list
        for directive in details.node.directives or ():
            if directive.name.value not in _COLLECTION_DIRECTIVES:
                return _NORMAL, response_name, field_details_list
    name = field_details_list[0].node.name.value
    kinds = _KINDS.get(parent_type)
    if kinds is None:
        kinds = _KINDS[parent_type] = {}
    kind = kinds.get(name)
    if kind is None:
        kind = kinds[name] = _field_kind(parent_type, name)
    if kind.kind == _TYPENAME:
        kind = kind._replace(target=parent_type.name)
    return kind, response_name, field_details_list


_Step = tuple[_Kind, str, FieldDetailsList]
# A flat selection compiled for `_run_shape`: (response name, kind, attribute or function or
# type name, coerce, nullable, sub-shape, is_type_of, passthrough) per field.
_Shape = tuple[tuple[str, int, Any, Any, bool, Any, Any, type | None], ...]
_NOT_FLAT: _Shape = ()
# Scalars whose coercion returns a value of this exact Python type as it is.
_PASSTHROUGH: dict[Any, type] = {
    serialize_string: str,
    serialize_id: str,
    serialize_boolean: bool,
    int: int,  # BigInt (schema/scalars.py) serializes with int()
}


class _Unusual(Exception):
    """Raised inside `_run_shape` when a value needs graphql-core's handling."""


def _run_shape(shape: _Shape, source: Any, context: Any) -> dict[str, Any]:
    """The response of one object whose selection is all plain fields, in one loop.

    Raises (`_Unusual` or whatever an attribute raised) the moment anything needs
    graphql-core: a null in a non-null field, a value the scalar refuses, an exception.
    The caller then executes the object again the normal way, which reports it.
    """
    out: dict[str, Any] = {}
    for name, which, target, coerce, nullable, sub, is_type_of, passthrough in shape:
        if which == _LEAF:
            value = getattr(source, target)
        elif which == _CONTEXT:
            value = target(source, context)
        elif which == _TYPENAME:
            out[name] = target
            continue
        else:  # a plain object
            value = getattr(source, target)
            if value is None:
                if not nullable:
                    raise _Unusual
                out[name] = None
                continue
            if isinstance(value, Exception) or (
                is_type_of is not None and not is_type_of(value, None)
            ):
                raise _Unusual
            out[name] = _run_shape(sub, value, context)
            continue
        if type(value) is passthrough:
            out[name] = value  # what the scalar's coercion returns for it, unchanged
            continue
        if value is None:
            if not nullable:
                raise _Unusual
            out[name] = None
            continue
        if isinstance(value, Exception):
            raise _Unusual
        coerced = coerce(value)
        if coerced is None or coerced is Undefined:
            raise _Unusual
        out[name] = coerced
    return out


class FastExecutionContext(StrawberryGraphQLCoreExecutionContext):
    """Strawberry's graphql-core executor with the fast path for plain fields."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        manager = self.middleware_manager
        # An extension that hooks resolution must see every field: no fast path at all.
        self.fast_path_enabled = manager is None or not manager.middlewares
        self._plans: dict[tuple[str, int], tuple[GroupedFieldSet, list[_Step]]] = {}
        self._shapes: dict[tuple[str, int], tuple[GroupedFieldSet, _Shape]] = {}

    def _plan(self, parent_type: GraphQLObjectType, fields: GroupedFieldSet) -> list[_Step]:
        key = (parent_type.name, id(fields))
        cached = self._plans.get(key)
        if cached is not None and cached[0] is fields:
            return cached[1]
        steps = [_step(parent_type, name, group) for name, group in fields.items()]
        # The field set is kept alive with its plan, so its id cannot be reused meanwhile.
        self._plans[key] = (fields, steps)
        return steps

    def build_response(self, data: dict[str, Any] | None) -> Any:
        response = super().build_response(data)
        if isinstance(response, ExecutionResult):  # the operation is complete
            # graphql-core's executor holds bound methods of itself (`async_helpers`), so
            # without this it, the request's context and its per-request caches (~200
            # objects for a list page) would wait for the cyclic garbage collector, whose
            # runs then cost about a tenth of the request. Resolvers got their own
            # reference to the helpers in their `info`.
            self._plans.clear()
            self._shapes.clear()
            self._relevant_sub_fields.clear()
            self.async_helpers = None  # type: ignore[assignment]
        return response

    def _shape(self, object_type: GraphQLObjectType, fields: GroupedFieldSet) -> _Shape:
        """`fields` compiled for `_run_shape`, or `_NOT_FLAT` when any of them (at any
        depth) is not a plain leaf, context leaf, `__typename` or plain object."""
        key = (object_type.name, id(fields))
        cached = self._shapes.get(key)
        if cached is not None and cached[0] is fields:
            return cached[1]
        shape: list[tuple[str, int, Any, Any, bool, Any, Any, type | None]] = []
        for kind, name, field_details_list in self._plan(object_type, fields):
            which = kind.kind
            sub: _Shape = _NOT_FLAT
            is_type_of = None
            if which == _OBJECT:
                assert kind.object_type is not None
                sub_fields = self._sub_fields(kind.object_type, field_details_list)
                if sub_fields is not None:
                    sub = self._shape(kind.object_type, sub_fields)
                if not sub:
                    shape = []
                    break
                is_type_of = kind.object_type.is_type_of
            elif which not in (_LEAF, _CONTEXT, _TYPENAME):
                shape = []
                break
            passthrough = _PASSTHROUGH.get(kind.coerce) if kind.coerce is not None else None
            shape.append(
                (name, which, kind.target, kind.coerce, kind.nullable, sub, is_type_of, passthrough)
            )
        compiled = tuple(shape)
        # The field set is kept alive with its shape, so its id cannot be reused meanwhile.
        self._shapes[key] = (fields, compiled)
        return compiled

    def execute_fields(
        self,
        parent_type: GraphQLObjectType,
        source_value: Any,
        path: Path | None,
        grouped_field_set: GroupedFieldSet,
        position_context: Any,
    ) -> Any:
        if position_context is not None or not self.fast_path_enabled:
            return super().execute_fields(
                parent_type, source_value, path, grouped_field_set, position_context
            )
        results: dict[str, Any] = {}
        is_awaitable = self.is_awaitable
        awaitable_fields: list[str] = []
        try:
            for kind, name, field_details_list in self._plan(parent_type, grouped_field_set):
                which = kind.kind
                if which in (_LEAF, _CONTEXT):
                    try:
                        if which == _LEAF:
                            value = getattr(source_value, kind.target)
                        else:
                            value = kind.target(source_value, self.context_value)
                        if value is None:
                            if kind.nullable:
                                results[name] = None
                                continue
                        elif not isinstance(value, Exception):
                            coerced = kind.coerce(value)  # type: ignore[misc]
                            if coerced is not None and coerced is not Undefined:
                                results[name] = coerced
                                continue
                    except Exception:
                        pass  # graphql-core repeats the field below and reports it
                elif which == _TYPENAME:
                    results[name] = kind.target
                    continue
                elif which in (_OBJECT, _OBJECT_LIST):
                    completed = self._complete_plain_object(
                        parent_type, source_value, path, kind, name, field_details_list
                    )
                    if completed is not Undefined:
                        results[name] = completed
                        if is_awaitable(completed):
                            awaitable_fields.append(name)
                        continue
                # The normal path: anything not plain, and plain fields that failed above.
                result = self.execute_field(
                    parent_type,
                    source_value,
                    field_details_list,
                    Path(path, name, parent_type.name),
                    position_context,
                )
                if result is not Undefined:
                    results[name] = result
                    if is_awaitable(result):
                        awaitable_fields.append(name)
        except Exception:
            if awaitable_fields:
                self.settle_in_background([results[field] for field in awaitable_fields])
            raise

        if not awaitable_fields:
            return results

        async def get_results() -> dict[str, Any]:
            # The same shape as graphql-core's, so the results come back in the same order.
            if len(awaitable_fields) == 1:
                field = awaitable_fields[0]
                results[field] = await results[field]
            else:
                awaited = await gather_with_cancel(*(results[f] for f in awaitable_fields))
                results.update(zip(awaitable_fields, awaited, strict=True))
            return results

        return get_results()

    def _sub_fields(
        self, object_type: GraphQLObjectType, field_details_list: FieldDetailsList
    ) -> GroupedFieldSet | None:
        """The object's selection (memoized by graphql-core), unless it starts a @defer."""
        collected = self.collect_subfields(object_type, field_details_list)
        return None if collected.new_defer_usages else collected.grouped_field_set

    def _complete_plain_object(
        self,
        parent_type: GraphQLObjectType,
        source: Any,
        path: Path | None,
        kind: _Kind,
        name: str,
        field_details_list: FieldDetailsList,
    ) -> Any:
        """What `execute_field` + `complete_value` give for a plain attribute holding an
        object (or a list of objects), or Undefined to leave the field to them."""
        try:
            value = getattr(source, kind.target)
        except Exception:
            return Undefined
        object_type = kind.object_type
        assert object_type is not None
        is_type_of = object_type.is_type_of
        if kind.kind == _OBJECT:
            if value is None or isinstance(value, Exception):
                return Undefined
            if is_type_of is not None and not is_type_of(value, None):  # type: ignore[arg-type]
                return Undefined
        else:
            if type(value) is not list:
                return Undefined
            for item in value:
                if item is None or isinstance(item, Exception):
                    return Undefined
                if is_type_of is not None and not is_type_of(item, None):  # type: ignore[arg-type]
                    return Undefined
        sub_fields = self._sub_fields(object_type, field_details_list)
        if sub_fields is None:
            return Undefined
        field_path = Path(path, name, parent_type.name)
        try:
            if kind.kind == _OBJECT:
                completed = self.execute_fields(object_type, value, field_path, sub_fields, None)
            else:
                completed = self._complete_items(
                    kind, object_type, sub_fields, field_details_list, field_path, value
                )
        except Exception as raw_error:
            self.handle_field_error(raw_error, kind.return_type, field_details_list, field_path)  # type: ignore[arg-type]
            return None
        if not self.is_awaitable(completed):
            return completed

        async def await_completed(completed: Awaitable[Any]) -> Any:
            try:
                return await completed
            except Exception as raw_error:
                self.handle_field_error(
                    raw_error,
                    kind.return_type,  # type: ignore[arg-type]
                    field_details_list,
                    field_path,
                )
                return None

        return await_completed(completed)

    def _complete_items(
        self,
        kind: _Kind,
        object_type: GraphQLObjectType,
        sub_fields: GroupedFieldSet,
        field_details_list: FieldDetailsList,
        path: Path,
        items: list[Any],
    ) -> Any:
        """`complete_iterable_value` for a list of objects, none of them null (no @stream)."""
        item_type = kind.item_type
        assert item_type is not None
        is_awaitable = self.is_awaitable
        execute_fields = self.execute_fields
        shape = self._shape(object_type, sub_fields)
        context = self.context_value
        completed: list[Any] = []
        awaitable_indices: list[int] = []
        try:
            for index, item in enumerate(items):
                if shape:
                    try:
                        completed.append(_run_shape(shape, item, context))
                        continue
                    except Exception:
                        pass  # executed again below, the normal way, which reports it
                item_path = Path(path, index, None)
                try:
                    value = execute_fields(object_type, item, item_path, sub_fields, None)
                except Exception as raw_error:
                    self.handle_field_error(raw_error, item_type, field_details_list, item_path)
                    value = None
                if is_awaitable(value):
                    value = self._await_item(value, item_type, field_details_list, item_path)
                    awaitable_indices.append(index)
                completed.append(value)
        except Exception:
            pending = [completed[index] for index in awaitable_indices]
            if pending:
                self.settle_in_background(pending)
            raise
        if not awaitable_indices:
            return completed

        async def get_completed() -> list[Any]:
            if len(awaitable_indices) == 1:
                index = awaitable_indices[0]
                completed[index] = await completed[index]
            else:
                awaited = await gather_with_cancel(*(completed[i] for i in awaitable_indices))
                for index, value in zip(awaitable_indices, awaited, strict=True):
                    completed[index] = value
            return completed

        return get_completed()

    async def _await_item(
        self,
        value: Awaitable[Any],
        item_type: GraphQLOutputType,
        field_details_list: FieldDetailsList,
        item_path: Path,
    ) -> Any:
        try:
            return await value
        except Exception as raw_error:
            self.handle_field_error(raw_error, item_type, field_details_list, item_path)
            return None


__all__ = [
    "FAST_RESOLVER",
    "FastExecutionContext",
    "GraphQLError",
    "fast_resolver",
    "root_field",
]
