"""The fast executor (schema/execution.py) answers exactly what graphql-core answers.

Generated documents (hypothesis: random selections with aliases, inline and named fragments
on interfaces and unions, @skip/@include with literals and variables, __typename) run with
and without the fast path, and the responses must be identical byte for byte:

- over Trove's schema, against seeded assets on SQLite and PostgreSQL (nulls, folders,
  lineage, metadata, and arguments that fail with coded errors);
- over a small schema built to hit every corner the fast path takes or refuses: nulls in
  non-null fields and list items (null propagation), values a scalar or enum refuses,
  attributes that raise, custom scalars, enums, lists of lists, interfaces, unions, field
  extensions, and a schema extension that hooks field resolution.

Every query the rest of the suite sends is compared the same way by tests/parity.py.
"""

import dataclasses
import datetime as dt
import enum
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Annotated, Any

import pytest
import strawberry
from graphql import (
    GraphQLField,
    GraphQLInterfaceType,
    GraphQLObjectType,
    GraphQLResolveInfo,
    GraphQLSchema,
    GraphQLUnionType,
    get_named_type,
    is_composite_type,
    is_non_null_type,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from strawberry.extensions import FieldExtension, SchemaExtension
from strawberry.scalars import JSON

from schema import build_schema
from schema.context import Context
from schema.execution import FastExecutionContext
from schema.scalars import SCALAR_OVERRIDES, BigInt
from schema.validation import QueryLimits
from services.assets import Tracking
from tests.conftest import TroveClient
from tests.parity import _original_execute, response_json

PARITY_SETTINGS = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

ArgsFor = Callable[[str, str], st.SearchStrategy[str] | None]
"""(type name, field name) -> a strategy of argument lists like '(first: 2)', or None when
the field has required arguments the generator cannot fill (it is left out)."""

DIRECTIVES = ["", "", "", " @skip(if: true)", " @skip(if: false)", " @include(if: $yes)"]
DIRECTIVES += [" @include(if: $no)", " @skip(if: $no)"]


def _fields(type_: Any) -> dict[str, GraphQLField]:
    if isinstance(type_, GraphQLObjectType | GraphQLInterfaceType):
        return dict(type_.fields)
    return {}


@st.composite
def selection_set(
    draw: st.DrawFn,
    schema: GraphQLSchema,
    type_: Any,
    depth: int,
    args_for: ArgsFor,
    fragments: list[str],
    counter: Iterator[int],
) -> str:
    """`{ ... }` for a composite type: fields, aliases, directives, fragments."""
    named = get_named_type(type_)
    parts: list[str] = []

    def field_part(owner: Any, name: str, field: GraphQLField) -> str | None:
        args_strategy = args_for(owner.name, name)
        required = any(is_non_null_type(arg.type) for arg in field.args.values())
        if args_strategy is None:
            if required:
                return None
            args = ""
        else:
            args = draw(args_strategy)
        field_type = get_named_type(field.type)
        sub = ""
        if is_composite_type(field_type):
            if depth <= 0:
                return None
            sub = " " + draw(
                selection_set(schema, field_type, depth - 1, args_for, fragments, counter)
            )
        # Fields with arguments always get a unique alias: two of them with different
        # arguments under one response name would not validate.
        alias = ""
        if args or draw(st.integers(0, 3)) == 0:
            alias = f"{name}_{next(counter)}: "
        return f"{alias}{name}{args}{draw(st.sampled_from(DIRECTIVES))}{sub}"

    def fields_of(owner: Any, minimum: int) -> list[str]:
        available = sorted(_fields(owner).items())
        if not available:
            return []
        chosen = draw(
            st.lists(st.sampled_from(available), min_size=minimum, max_size=min(5, len(available)))
        )
        found = [field_part(owner, name, field) for name, field in chosen]
        return [part for part in found if part is not None]

    parts.extend(fields_of(named, 1))
    if isinstance(named, GraphQLInterfaceType | GraphQLUnionType):
        possible = sorted(schema.get_possible_types(named), key=lambda t: t.name)
        for object_type in draw(st.lists(st.sampled_from(possible), max_size=2)):
            inner = fields_of(object_type, 1) or ["__typename"]
            parts.append(f"... on {object_type.name} {{ {' '.join(inner)} }}")
    if draw(st.booleans()):
        parts.append("__typename")
    if isinstance(named, GraphQLObjectType | GraphQLInterfaceType) and draw(st.booleans()):
        inner = fields_of(named, 1)
        if inner:
            if draw(st.booleans()):
                fragment = f"F{len(fragments)}"
                fragments.append(f"fragment {fragment} on {named.name} {{ {' '.join(inner)} }}")
                parts.append(f"...{fragment}{draw(st.sampled_from(DIRECTIVES))}")
            else:
                directive = draw(st.sampled_from(DIRECTIVES))
                parts.append(f"...{directive} {{ {' '.join(inner)} }}")
    if not parts:
        parts.append("__typename")
    return "{ " + " ".join(parts) + " }"


@st.composite
def documents(draw: st.DrawFn, schema: GraphQLSchema, args_for: ArgsFor, depth: int) -> str:
    fragments: list[str] = []
    counter = iter(range(1_000_000))
    body = draw(selection_set(schema, schema.query_type, depth, args_for, fragments, counter))
    text = body + " " + " ".join(fragments)
    variables = []
    if "$yes" in text:
        variables.append("$yes: Boolean!")
    if "$no" in text:
        variables.append("$no: Boolean = false")
    header = f"query Parity({', '.join(variables)}) " if variables else "query Parity "
    return header + text


def _is_request_error(body: bytes) -> bool:
    return body.startswith(b'{"data":null,"errors"') and b'"path"' not in body


# Trove's schema over seeded data ---------------------------------------------------------


async def _chunks(data: bytes) -> AsyncIterator[bytes]:
    yield data


@dataclasses.dataclass
class Seeded:
    asset_ids: list[str]
    folder_id: str


async def seed_assets(client: TroveClient) -> Seeded:
    """Assets through the service: images, text, a folder with children, nulls, lineage."""
    from models import User

    owner = await User.get(name="local")
    assets = client.services.assets
    folder = await assets.create_folder(owner=owner, name="renders")
    png = bytes.fromhex(
        "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
        "1f15c4890000000d49444154789c6360000002000100e221bc330000000049454e44ae426082"
    )
    ids: list[str] = []
    for index in range(7):
        image = index % 2 == 0
        row = await assets.create_asset(
            owner=owner,
            content=_chunks(png if image else f"text {index}".encode()),
            name=f"asset-{index}.{'png' if image else 'txt'}",
            content_type="image/png" if image else None,
            tracking=Tracking(
                node_id=None if index % 3 == 0 else f"node-{index % 2}",
                job_id="job-a" if index < 4 else None,
                workflow_id="wf-1" if index % 2 else None,
            ),
            parent_id=folder.id if index in (1, 2) else None,
            metadata=None if index % 2 else {"seed": index, "tags": ["a", None], "x": 1.5},
            derived_from=[uuid.UUID(ids[0])] if index in (3, 4) and ids else (),
        )
        ids.append(str(row.id))
    return Seeded(asset_ids=ids, folder_id=str(folder.id))


def trove_arguments(seeded: Seeded) -> ArgsFor:
    ids = [*seeded.asset_ids[:3], seeded.folder_id, "not-an-id", str(uuid.uuid4())]
    firsts = ["0", "1", "2", "5", "101", "-1"]

    def optional(*choices: tuple[str, list[str]]) -> st.SearchStrategy[str]:
        def argument(choice: tuple[str, list[str]]) -> st.SearchStrategy[str]:
            name, values = choice
            return st.sampled_from(values).map(lambda value: f"{name}: {value}")

        pairs = st.lists(
            st.sampled_from(choices).flatmap(argument),
            max_size=3,
            unique_by=lambda text: text.split(":")[0],
        )
        return pairs.map(lambda found: f"({', '.join(found)})" if found else "")

    def quoted(values: list[str]) -> list[str]:
        return [f'"{v}"' for v in values]

    listing = optional(
        ("first", firsts),
        ("jobId", quoted(["job-a", "job-z"])),
        ("nodeId", quoted(["node-0", "node-1"])),
        ("orderBy", ["NAME_ASC", "SIZE_DESC", "CREATED_AT_ASC"]),
        ("contentType", quoted(["image/", "text/plain"])),
        ("parentId", quoted([seeded.folder_id])),
        ("after", quoted(["garbage"])),
    )
    by_field: dict[tuple[str, str], st.SearchStrategy[str]] = {
        ("Query", "asset"): st.sampled_from(ids).map(lambda i: f'(id: "{i}")'),
        ("Query", "node"): st.sampled_from(ids).map(lambda i: f'(id: "{i}")'),
        ("Query", "assets"): listing,
        ("Query", "assetStats"): st.sampled_from(["NODE", "JOB", "WORKFLOW", "CONTENT_TYPE"]).map(
            lambda g: f"(groupBy: {g})"
        ),
        ("Query", "job"): st.just('(id: "no-such-job")'),
        ("Query", "workflow"): st.just('(id: "no-such-workflow")'),
        ("Query", "jobs"): optional(("first", firsts)),
        ("Query", "workflows"): optional(("first", firsts)),
        ("Asset", "children"): optional(("first", firsts)),
        ("Asset", "derivatives"): optional(("first", firsts)),
        ("Job", "assets"): optional(("first", firsts)),
    }
    return lambda type_name, field_name: by_field.get((type_name, field_name))


@pytest.fixture
async def trove_seeded(client: TroveClient) -> tuple[TroveClient, Seeded]:
    return client, await seed_assets(client)


# When a field fails, graphql-core's gather_with_cancel cancels sibling tasks that have not
# started yet; their coroutines are closed unstarted, and the resolver coroutines they had
# already created are collected "never awaited". Both executors share that code path (the
# data is unaffected: those fields were nulled by the failure), so the warning is not a
# difference between them.
@pytest.mark.filterwarnings(
    "ignore:Exception ignored in. <coroutine object GraphQLCoreConverter.from_resolver"
    ":pytest.PytestUnraisableExceptionWarning"
)
@given(data=st.data())
@PARITY_SETTINGS
async def test_generated_queries_over_trove_match_graphql_core(
    trove_seeded: tuple[TroveClient, Seeded], data: st.DataObject
) -> None:
    client, seeded = trove_seeded
    # No query limits: the generator may write long documents (limits are not under test).
    unlimited = QueryLimits(max_depth=0, max_aliases=0, max_root_fields=0, max_tokens=0, max_cost=0)
    fast = build_schema(limits=unlimited)
    normal = build_schema(limits=unlimited, fast_execution=False)
    document = data.draw(documents(fast._schema, trove_arguments(seeded), depth=4))
    from models import User

    user = await User.get(name="local")

    def context() -> Context:
        return Context(
            request=None,  # type: ignore[arg-type]
            response=None,
            authenticated_user=user,
            services=client.services,
            request_id="parity",
            base_url="http://testserver",
        )

    variables = {"yes": True}
    got = response_json(await _original_execute(fast, document, variables, context()))
    want = response_json(await _original_execute(normal, document, variables, context()))
    assert not _is_request_error(want), f"generated an invalid document: {document}\n{want!r}"
    assert got == want, document


# A schema built for the corners ---------------------------------------------------------


@strawberry.enum
class Color(enum.Enum):
    RED = "red"
    GREEN = "green"


class Upper(FieldExtension):
    def resolve(self, next_: Callable[..., Any], source: Any, info: Any, **kwargs: Any) -> Any:
        return str(next_(source, info, **kwargs)).upper()


@strawberry.type
class Row:
    """No interfaces: any Python object serves as a source, so attributes may misbehave."""

    name: str
    maybe: str | None
    must: str
    count: int
    big: BigInt
    when: dt.datetime
    data: JSON | None
    color: Color
    grid: list[list[int | None]] | None
    tags: list[str]
    child: "Row | None"
    strict_child: "Row"
    children: list["Row"]
    loose_children: list["Row | None"] | None
    shout: str = strawberry.field(extensions=[Upper()])

    @strawberry.field
    async def later(self) -> str:
        return self.name + "!"

    @strawberry.field
    def echo(self, text: str = "x") -> str:
        return text


@strawberry.interface
class Named:
    name: str


@strawberry.type
class Leafy(Named):
    name: str
    size: int | None
    color: Color


@strawberry.type
class Other(Named):
    name: str
    when: dt.datetime


Thing = Annotated[Leafy | Other, strawberry.union("Thing")]


class Source:
    """Attribute bag for Row; `boom` attributes raise when read."""

    def __init__(self, values: dict[str, Any]) -> None:
        self.__dict__.update(values)

    def __getattr__(self, name: str) -> Any:
        raise AttributeError(f"no {name}")


class Exploding(Source):
    @property
    def must(self) -> str:
        raise ValueError("cannot read must")


NOW = dt.datetime(2026, 11, 24, 12, 0, tzinfo=dt.UTC)


@st.composite
def rows(draw: st.DrawFn, depth: int = 2) -> Source:
    def pick(*values: Any) -> Any:
        return draw(st.sampled_from(values))

    values: dict[str, Any] = {
        "name": pick("a", "b", None),
        "maybe": pick("m", None, 7),
        "must": pick("ok", None),
        "count": pick(1, 2**40, None, "3"),
        "big": pick(2**40, None),
        "when": pick(NOW, NOW.replace(tzinfo=None), None, "not a date"),
        "data": pick(None, {"k": [1, None, "v"]}, [1, 2]),
        "color": pick(Color.RED, Color.GREEN, "purple", None),
        "grid": pick(None, [[1, None], [], [3]], [[1, "x"]], [None]),
        "tags": pick(["t"], [], None, ["a", None]),
        "shout": pick("hey", None),
    }
    if depth > 0:
        child = rows(depth - 1)
        values["child"] = draw(st.none() | child)
        values["strict_child"] = draw(st.none() | child)
        values["children"] = draw(st.lists(st.none() | child, max_size=2) | st.none())
        values["loose_children"] = draw(st.lists(st.none() | child, max_size=2) | st.none())
    cls = Exploding if draw(st.integers(0, 6)) == 0 else Source
    return cls(values)


class Reversing(SchemaExtension):
    """Hooks field resolution: the fast path must step aside for the whole operation."""

    def resolve(
        self,
        _next: Callable[..., Any],
        root: Any,
        info: GraphQLResolveInfo,
        *args: str,
        **kwargs: Any,
    ) -> Any:
        result = _next(root, info, **kwargs)
        return result[::-1] if isinstance(result, str) else result


@strawberry.type(name="Query")
class CornerQuery:
    """Reads its data from the root value, so one schema serves every example."""

    @strawberry.field
    def rows(self) -> list[Row]:
        return self.data["rows"]  # type: ignore[attr-defined]

    @strawberry.field
    def strict_rows(self) -> list[Row]:
        return self.data["strict_rows"]  # type: ignore[attr-defined]

    @strawberry.field
    def row(self) -> Row | None:
        found = self.data["rows"]  # type: ignore[attr-defined]
        return found[0] if found else None

    @strawberry.field
    def things(self) -> list[Thing]:
        return self.data["things"]  # type: ignore[attr-defined]

    @strawberry.field
    def named(self) -> list[Named]:
        return self.data["things"]  # type: ignore[attr-defined]


class Root:
    def __init__(self, data: dict[str, Any]) -> None:
        self.data = data


def corner_schema(*, fast: bool, hooked: bool = False) -> strawberry.Schema:
    return strawberry.Schema(
        query=CornerQuery,
        types=[Leafy, Other],
        scalar_overrides=SCALAR_OVERRIDES,
        extensions=[Reversing] if hooked else [],
        execution_context_class=FastExecutionContext if fast else None,
    )


CORNER_SCHEMAS = {
    (fast, hooked): corner_schema(fast=fast, hooked=hooked)
    for fast in (True, False)
    for hooked in (True, False)
}


async def run_corner(
    document: str, data: dict[str, Any], *, fast: bool, hooked: bool = False
) -> Any:
    return await CORNER_SCHEMAS[fast, hooked].execute(
        document, {"yes": True}, root_value=Root(data)
    )


def corner_arguments(type_name: str, field_name: str) -> st.SearchStrategy[str] | None:
    if (type_name, field_name) == ("Row", "echo"):
        return st.sampled_from(["", '(text: "hi")'])
    return None


@given(
    document=documents(CORNER_SCHEMAS[False, False]._schema, corner_arguments, depth=3),
    table=st.lists(rows(), max_size=3),
    strict=st.lists(rows(depth=1), max_size=2),
    things=st.lists(
        st.builds(
            Leafy,
            name=st.sampled_from(["l1", "l2"]),
            size=st.sampled_from([None, 3, 2**40]),
            color=st.sampled_from(list(Color)),
        )
        | st.builds(Other, name=st.just("o"), when=st.just(NOW)),
        max_size=3,
    ),
    hooked=st.booleans(),
)
@settings(max_examples=300, deadline=None)
async def test_generated_queries_over_every_corner_match_graphql_core(
    document: str, table: list[Source], strict: list[Source], things: list[Any], hooked: bool
) -> None:
    data = {"rows": table, "strict_rows": strict, "things": things}
    got = response_json(await run_corner(document, data, fast=True, hooked=hooked))
    want = response_json(await run_corner(document, data, fast=False, hooked=hooked))
    assert not _is_request_error(want), f"generated an invalid document: {document}\n{want!r}"
    assert got == want, document


async def test_fast_path_takes_plain_fields_and_leaves_errors_to_graphql_core() -> None:
    """The fast path is really taken, and errors keep graphql-core's paths and messages."""
    broken = Source({"name": "a", "must": None, "count": 2**40, "color": "purple"})
    good = Source({"name": "b", "must": "ok", "count": 1, "color": Color.RED})
    data = {"rows": [good, broken], "strict_rows": [], "things": []}
    document = "{ rows { name must count color } }"
    taken: list[str] = []
    original = FastExecutionContext.execute_field

    def spy(
        self: FastExecutionContext, parent_type: Any, source: Any, fields: Any, *rest: Any
    ) -> Any:
        taken.append(f"{parent_type.name}.{fields[0].node.name.value}")
        return original(self, parent_type, source, fields, *rest)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(FastExecutionContext, "execute_field", spy)
        result = await run_corner(document, data, fast=True)
    # Only the root resolver, and the row whose non-null `must` is null, went the long way.
    assert taken == ["Query.rows", "Row.must"]
    # The null in non-null `must` of an item of [Row!]! nulls the whole response.
    assert result.data is None
    expected = await run_corner(document, data, fast=False)
    assert response_json(result) == response_json(expected)
    assert [error.path for error in result.errors or []] == [["rows", 1, "must"]]


async def test_an_extension_that_hooks_resolution_turns_the_fast_path_off() -> None:
    good = Source({"name": "abc", "must": "ok", "count": 1, "color": Color.RED})
    data = {"rows": [good], "strict_rows": [], "things": []}
    result = await run_corner("{ rows { name } }", data, fast=True, hooked=True)
    assert result.data == {"rows": [{"name": "cba"}]}
