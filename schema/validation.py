"""Parsing and validation with limits: what a document may ask for before any resolver runs.

Every measure is one walk over the document, linear in its size: each fragment is measured
once and its summary reused wherever it is spread (a fragment that spreads the previous one
twice, 40 levels deep, costs 40 summaries, not 2^40 visits). Refusals are request errors
(BAD_USER_INPUT) that name the measured value and the limit, with both in `extensions`.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLNamedType,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    VariableNode,
    get_named_type,
    get_nullable_type,
    is_list_type,
    value_from_ast_untyped,
)
from graphql.type import (
    GraphQLInterfaceType,
    SchemaMetaFieldDef,
    TypeMetaFieldDef,
    TypeNameMetaFieldDef,
)
from strawberry.extensions import ParserCache as StrawberryParserCache
from strawberry.extensions import SchemaExtension

from services.pagination import DEFAULT_PAGE_SIZE

PAGE_ARGUMENTS = ("first", "last")
# What an unpaginated list (assetStats, derivedFrom, introspection's types and fields) is
# assumed to hold: nesting such lists multiplies, as their responses do.
LIST_ITEMS_ESTIMATE = 10
_META_FIELDS = {
    "__schema": SchemaMetaFieldDef,
    "__type": TypeMetaFieldDef,
    "__typename": TypeNameMetaFieldDef,
}


@dataclass(frozen=True)
class QueryLimits:
    """Each limit is a TROVE_QUERY_* setting (docs/security.md); 0 turns one off."""

    max_depth: int = 12
    max_aliases: int = 30
    max_root_fields: int = 20
    max_tokens: int = 5000
    max_cost: int = 100_000


@dataclass(frozen=True)
class Measure:
    depth: int = 0
    aliases: int = 0
    fields: int = 0
    cost: int = 0


_EMPTY = Measure()


def _combine(parts: Iterator[Measure]) -> Measure:
    depth = aliases = fields = cost = 0
    for part in parts:
        depth = max(depth, part.depth)
        aliases += part.aliases
        fields += part.fields
        cost += part.cost
    return Measure(depth, aliases, fields, cost)


class _Walker:
    """Measures one operation: depth in fields, aliases and fields after fragment expansion,
    and a cost estimate in which a paginated field's subtree counts once per requested item.
    """

    def __init__(
        self,
        schema: GraphQLSchema,
        fragments: Mapping[str, FragmentDefinitionNode],
        variables: Mapping[str, Any],
    ) -> None:
        self.schema = schema
        self.fragments = fragments
        self.variables = variables
        self.memo: dict[str, Measure] = {}
        self.in_progress: set[str] = set()

    def selection_set(self, node: SelectionSetNode | None, parent: Any) -> Measure:
        if node is None:
            return _EMPTY
        return _combine(self._selection(selection, parent) for selection in node.selections)

    def _selection(self, node: Any, parent: Any) -> Measure:
        if isinstance(node, FieldNode):
            return self._field(node, parent)
        if isinstance(node, InlineFragmentNode):
            return self.selection_set(node.selection_set, self._type_named(node.type_condition))
        if isinstance(node, FragmentSpreadNode):
            return self._fragment(node.name.value)
        return _EMPTY

    def _fragment(self, name: str) -> Measure:
        if name in self.memo:
            return self.memo[name]
        definition = self.fragments.get(name)
        # Unknown or cyclic spreads are validation's to report; they add nothing here.
        if definition is None or name in self.in_progress:
            return _EMPTY
        self.in_progress.add(name)
        measured = self.selection_set(
            definition.selection_set, self._type_named(definition.type_condition)
        )
        self.in_progress.discard(name)
        self.memo[name] = measured
        return measured

    def _type_named(self, node: Any) -> GraphQLNamedType | None:
        return self.schema.get_type(node.name.value) if node is not None else None

    def _field(self, node: FieldNode, parent: Any) -> Measure:
        name = node.name.value
        definition = _META_FIELDS.get(name)
        if definition is None and isinstance(parent, GraphQLObjectType | GraphQLInterfaceType):
            definition = parent.fields.get(name)
        child_type = get_named_type(definition.type) if definition is not None else None
        below = self.selection_set(node.selection_set, child_type)
        # Introspection adds no depth (GraphiQL's own query nests 14 deep); its lists still
        # multiply the cost, which bounds what nesting it can ask for.
        depth = 0 if name in _META_FIELDS else 1 + below.depth
        return Measure(
            depth=depth,
            aliases=(1 if node.alias is not None else 0) + below.aliases,
            fields=1 + below.fields,
            cost=1 + self._items(node, definition, parent) * below.cost,
        )

    def _items(self, node: FieldNode, definition: Any, parent: Any) -> int:
        """How many times a field's subtree may be resolved: its page size, if paginated."""
        requested = None
        for argument in node.arguments or ():
            if argument.name.value not in PAGE_ARGUMENTS:
                continue
            value: Any = argument.value
            if isinstance(value, VariableNode):
                value = self.variables.get(value.name.value)
            elif isinstance(value, IntValueNode):
                value = value.value
            with contextlib.suppress(TypeError, ValueError, OverflowError):
                requested = max(requested or 0, int(value))
        if requested is not None:
            return max(requested, 1)
        if definition is None or (parent is not None and parent.name.endswith("Connection")):
            return 1  # a connection's edges and nodes: its field already counted the page
        if any(name in definition.args for name in PAGE_ARGUMENTS):
            return DEFAULT_PAGE_SIZE
        return LIST_ITEMS_ESTIMATE if is_list_type(get_nullable_type(definition.type)) else 1


def measure_operation(
    schema: GraphQLSchema,
    document: Any,
    operation_name: str | None,
    variables: Mapping[str, Any] | None,
) -> tuple[Measure, int] | None:
    """(the operation's measure, its number of root fields), or None when there is no
    operation to measure (validation or execution reports that). Without an operation
    name, the largest of the document's operations counts: whichever one runs, it fits."""
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if operation_name is not None:
        operations = [o for o in operations if o.name and o.name.value == operation_name]
    if not operations:
        return None
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    depth = aliases = fields = cost = roots = 0
    for operation in operations:
        # A variable left out takes its declared default, as it will when executed.
        defaults = {
            definition.variable.name.value: value_from_ast_untyped(definition.default_value)
            for definition in operation.variable_definitions or ()
            if definition.default_value is not None
        }
        walker = _Walker(schema, fragments, {**defaults, **(variables or {})})
        root = schema.get_root_type(operation.operation)
        measured = walker.selection_set(operation.selection_set, root)
        depth = max(depth, measured.depth)
        aliases = max(aliases, measured.aliases)
        fields = max(fields, measured.fields)
        cost = max(cost, measured.cost)
        roots = max(roots, _root_fields(operation.selection_set, fragments, {}))
    return Measure(depth, aliases, fields, cost), roots


def _root_fields(
    node: SelectionSetNode,
    fragments: Mapping[str, FragmentDefinitionNode],
    memo: dict[str, int],
) -> int:
    total = 0
    for selection in node.selections:
        if isinstance(selection, FieldNode):
            total += 1
        elif isinstance(selection, InlineFragmentNode):
            total += _root_fields(selection.selection_set, fragments, memo)
        elif isinstance(selection, FragmentSpreadNode):
            name = selection.name.value
            if name not in memo:
                memo[name] = 0  # a cycle counts nothing (validation refuses it)
                definition = fragments.get(name)
                if definition is not None:
                    memo[name] = _root_fields(definition.selection_set, fragments, memo)
            total += memo[name]
    return total


def limit_errors(limits: QueryLimits, measured: Measure, root_fields: int) -> list[GraphQLError]:
    checks = (
        ("depth", measured.depth, limits.max_depth, "TROVE_QUERY_DEPTH_LIMIT"),
        ("aliases", measured.aliases, limits.max_aliases, "TROVE_QUERY_MAX_ALIASES"),
        ("root fields", root_fields, limits.max_root_fields, "TROVE_QUERY_MAX_ROOT_FIELDS"),
        ("cost", measured.cost, limits.max_cost, "TROVE_QUERY_MAX_COST"),
    )
    errors = []
    for what, value, limit, setting in checks:
        if limit and value > limit:
            errors.append(
                GraphQLError(
                    f"The query's {what} is {value}, over the limit of {limit} ({setting}). "
                    "Ask for less, or split the query.",
                    extensions={
                        "code": "BAD_USER_INPUT",
                        "limit": what,
                        # JSON readers lose integers past 2^53 (some refuse them).
                        "measured": value if value < 2**53 else float(value),
                        "maximum": limit,
                    },
                )
            )
    return errors


class _Same:
    """A document as a cache key by identity: the parser cache hands the same document
    object to every request with the same text, and hashing a document's tree on each
    request costs more than measuring it."""

    __slots__ = ("document",)

    def __init__(self, document: Any) -> None:
        self.document = document  # held, so its id stays unique while cached

    def __hash__(self) -> int:
        return id(self.document)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Same) and other.document is self.document


@lru_cache(maxsize=256)
def _validate(schema: GraphQLSchema, key: _Same, rules: tuple[Any, ...]) -> list[GraphQLError]:
    from strawberry.schema.schema import validate_document

    return validate_document(schema, key.document, rules)


_ABSENT = object()  # a variable left out (its default applies), unlike one given as null


@lru_cache(maxsize=256)
def _page_variables(key: _Same) -> tuple[str, ...]:
    """The variables a document passes to `first`/`last`: all that its measure reads."""
    names: set[str] = set()

    def walk(node: SelectionSetNode | None) -> None:
        for selection in node.selections if node is not None else ():
            if isinstance(selection, FieldNode):
                for argument in selection.arguments or ():
                    if argument.name.value in PAGE_ARGUMENTS and isinstance(
                        argument.value, VariableNode
                    ):
                        names.add(argument.value.name.value)
            walk(getattr(selection, "selection_set", None))

    for definition in key.document.definitions:
        walk(getattr(definition, "selection_set", None))
    return tuple(sorted(names))


@lru_cache(maxsize=1024)
def _cached_measure(
    schema: GraphQLSchema,
    key: _Same,
    operation_name: str | None,
    page_variables: tuple[tuple[str, Any], ...],
) -> tuple[Measure, int] | None:
    given = {name: value for name, value in page_variables if value is not _ABSENT}
    return measure_operation(schema, key.document, operation_name, given)


def measure_cached(
    schema: GraphQLSchema,
    document: Any,
    operation_name: str | None,
    variables: Mapping[str, Any] | None,
) -> tuple[Measure, int] | None:
    """`measure_operation`, remembered per document, operation and page-size variables
    (the only variables a measure reads)."""
    key = _Same(document)
    page_variables = tuple(
        (name, (variables or {}).get(name, _ABSENT)) for name in _page_variables(key)
    )
    try:
        return _cached_measure(schema, key, operation_name, page_variables)
    except TypeError:  # a variable value that cannot be a key (a list): measure it afresh
        return measure_operation(schema, document, operation_name, variables)


class LimitedValidation(SchemaExtension):
    """Measure first (cheap, linear), then validate (cached per document): a refused
    document never reaches the validation rules or the resolvers."""

    def __init__(self, limits: QueryLimits) -> None:
        super().__init__()
        self.limits = limits

    def on_parse(self) -> Iterator[None]:
        if self.limits.max_tokens:
            self.execution_context.parse_options["max_tokens"] = self.limits.max_tokens
        yield

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        schema = context.schema._schema
        document = context.graphql_document
        measured = measure_cached(schema, document, context.operation_name, context.variables)
        errors = limit_errors(self.limits, *measured) if measured is not None else []
        if errors:
            context.pre_execution_errors = errors
        else:
            context.pre_execution_errors = _validate(
                schema, _Same(document), tuple(context.validation_rules)
            )
        yield


class ParserCache(StrawberryParserCache):
    """Strawberry's parser cache, minus its habit of raising syntax errors past the other
    extensions: a query that does not parse is left for strawberry to parse and report as
    an ordinary request error (with a code)."""

    def on_parse(self) -> Iterator[None]:
        context = self.execution_context
        with contextlib.suppress(GraphQLError):
            context.graphql_document = self.cached_parse_document(
                context.query, **context.parse_options
            )
        yield
