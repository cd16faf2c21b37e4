"""Schema fuzzing against `trove serve` on SQLite and PostgreSQL: whatever a client sends,
the answer is never a 5xx and never INTERNAL_SERVER_ERROR.

schemathesis generates every query and mutation of the served schema (positive and negative
cases), with strategies for our scalars (DateTime, JSON, Upload) that include the hostile
values of the hardening report; hypothesis drives the same scalars through variables and
through real multipart uploads. Derandomized and bounded, so CI runs the same few thousand
requests every time in about a minute per database.
"""

import json
import os
import string
from collections.abc import Iterator
from typing import Any, cast

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.graphql import nodes

from schema import build_schema
from tests.conftest import create_postgres_database, drop_postgres_database

pytestmark = pytest.mark.slow

EXAMPLES_PER_OPERATION = int(os.environ.get("TROVE_FUZZ_EXAMPLES", "20"))
FUZZ_SETTINGS = settings(
    max_examples=EXAMPLES_PER_OPERATION,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)
HEADERS = {"Apollo-Require-Preflight": "1"}

# Strings that have broken servers: NUL, lone surrogates, control and RTL characters, SQL
# and LIKE metacharacters, very long ones.
HOSTILE_TEXT = st.one_of(
    st.text(max_size=40),
    st.sampled_from(
        [
            "",
            "\x00",
            "a\x00b",
            "\ud800",
            "\udfff tail",
            "%_%_" * 3000,
            "x" * 300,
            "' OR 1=1 --",
            "\u202e\u0007",
            "../../etc/passwd",
        ]
    ),
)
DATETIME_TEXT = st.one_of(
    st.datetimes(timezones=st.just(None)).map(lambda d: d.isoformat() + "Z"),
    st.sampled_from(
        [
            "yesterday",
            "",
            "2026-13-45T00:00:00Z",
            "0001-01-01T00:00:00+14:00",
            "9999-12-31T23:59:59-14:00",
            "2026-11-24",
            "2026-11-24T12:00:00",
        ]
    ),
)
BIG_INTS = st.one_of(
    st.integers(min_value=-(2**70), max_value=2**70),
    st.sampled_from([2**63 - 1, 2**63, 2**64 - 1, 2**64, -(2**63) - 1, 10**40]),
)
JSON_VALUES = st.recursive(
    st.one_of(st.none(), st.booleans(), BIG_INTS, st.floats(allow_nan=False), HOSTILE_TEXT),
    lambda children: st.one_of(
        st.lists(children, max_size=4), st.dictionaries(HOSTILE_TEXT, children, max_size=4)
    ),
    max_leaves=12,
)


def _json_node(value: Any) -> Any:
    if value is None:
        return nodes.Null
    if isinstance(value, bool):
        return nodes.Boolean(value)
    if isinstance(value, int):
        return nodes.Int(value)
    if isinstance(value, float):
        return nodes.Float(value)
    if isinstance(value, str):
        return nodes.String(value)
    if isinstance(value, list):
        return nodes.List([_json_node(item) for item in value])
    import graphql

    fields = [
        graphql.ObjectFieldNode(name=graphql.NameNode(value=key), value=_json_node(item))
        for key, item in value.items()
        # Object keys in a GraphQL literal are names; other keys go through variables below.
        if key and key[0] in string.ascii_letters and key.isidentifier() and key.isascii()
    ]
    return nodes.Object(fields)


def _deep_list(depth: int) -> Any:
    value: Any = []
    for _ in range(depth):
        value = [value]
    return value


schemathesis.graphql.scalar("DateTime", DATETIME_TEXT.map(nodes.String))
schemathesis.graphql.scalar(
    "JSON",
    st.one_of(
        JSON_VALUES.map(_json_node),
        st.integers(min_value=60, max_value=300).map(_deep_list).map(_json_node),
    ),
)
# Uploads only arrive as multipart files; in a literal, any value must be refused cleanly.
schemathesis.graphql.scalar(
    "Upload", st.one_of(HOSTILE_TEXT.map(nodes.String), st.just(nodes.Null))
)
schemathesis.graphql.scalar("BigInt", BIG_INTS.map(nodes.Int))

SCHEMA = schemathesis.graphql.from_dict({"data": build_schema().introspect()})
OPERATIONS = [cast(Any, result).ok() for result in SCHEMA.get_all_operations()]


@pytest.fixture(params=["sqlite", "postgres"])
def fuzz_server(request: pytest.FixtureRequest, live_server_factory: Any) -> Iterator[Any]:
    if request.param == "sqlite":
        yield live_server_factory()
        return
    import asyncio

    url = asyncio.run(create_postgres_database())
    try:
        yield live_server_factory(url)
    finally:
        asyncio.run(drop_postgres_database(url))


def post_json(http: httpx.Client, sent: Any) -> httpx.Response:
    # ensure_ascii: lone surrogates travel as \ud800 escapes, as JavaScript clients send them.
    body = json.dumps(sent).encode()
    return http.post("/graphql", content=body, headers={"content-type": "application/json"})


def assert_no_server_error(response: httpx.Response, sent: Any) -> None:
    shown = repr(sent)[:500]
    assert response.status_code < 500, (response.status_code, response.text[:500], shown)
    try:
        body = response.json()
    except ValueError:
        raise AssertionError(f"not JSON: {response.text[:300]!r} for {shown}") from None
    errors = body.get("errors") or [] if isinstance(body, dict) else []
    internal = [
        e for e in errors if (e.get("extensions") or {}).get("code") == "INTERNAL_SERVER_ERROR"
    ]
    assert not internal, (internal, shown)


def test_schema_fuzzing_finds_no_server_error(fuzz_server: Any) -> None:
    assert len(OPERATIONS) > 15
    with httpx.Client(base_url=fuzz_server.url, headers=HEADERS, timeout=30) as http:
        for operation in OPERATIONS:
            for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

                @FUZZ_SETTINGS
                @given(case=operation.as_strategy(generation_mode=mode))
                def one(case: Any) -> None:
                    sent = {"query": case.body}
                    assert_no_server_error(post_json(http, sent), sent)

                one()
        assert http.get("/healthz").status_code == 200


VARIABLE_OPERATIONS = [
    ('mutation($g: JSON!) { createWorkflow(input: {name: "w", graph: $g}) { id graph } }', "g"),
    ("mutation($g: JSON) { runWorkflow(input: {graph: $g}) { id status } }", "g"),
    ("mutation($p: JSON) { runWorkflow(input: {graph: {nodes: []}, params: $p}) { id } }", "p"),
    ("query($t: DateTime) { assets(createdAfter: $t) { nodes { id } } }", "t"),
    ("query($s: String) { assets(search: $s, nodeId: $s) { nodes { id } } }", "s"),
    ("query($c: String) { assets(after: $c, orderBy: SIZE_DESC) { nodes { id } } }", "c"),
    ("query($j: ID!) { job(id: $j) { id } node(id: $j) { id } }", "j"),
]


def fuzz_variable(http: httpx.Client, query: str, name: str, values: st.SearchStrategy[Any]) -> Any:
    @FUZZ_SETTINGS
    @given(value=values)
    def one(value: Any) -> None:
        sent = {"query": query, "variables": {name: value}}
        assert_no_server_error(post_json(http, sent), sent)

    return one


def test_variables_fuzzing_finds_no_server_error(fuzz_server: Any) -> None:
    values = st.one_of(JSON_VALUES, DATETIME_TEXT, HOSTILE_TEXT)
    with httpx.Client(base_url=fuzz_server.url, headers=HEADERS, timeout=30) as http:
        for query, name in VARIABLE_OPERATIONS:
            fuzz_variable(http, query, name, values)()


UPLOAD = "mutation($input: CreateAssetInput!) { createAsset(input: $input) { id name contentType size } }"


def test_upload_fuzzing_finds_no_server_error(fuzz_server: Any) -> None:
    """Real multipart uploads with hostile names, content types, tracking ids, metadata."""
    fields = st.fixed_dictionaries(
        {},
        optional={
            "name": HOSTILE_TEXT,
            "contentType": st.one_of(
                HOSTILE_TEXT, st.sampled_from(["image/png", "text/html", "a/b;c=d"])
            ),
            "nodeId": HOSTILE_TEXT,
            "jobId": HOSTILE_TEXT,
            "workflowId": HOSTILE_TEXT,
            "parentId": HOSTILE_TEXT,
            "metadata": JSON_VALUES,
        },
    )
    with httpx.Client(base_url=fuzz_server.url, headers=HEADERS, timeout=30) as http:

        @settings(FUZZ_SETTINGS, max_examples=EXAMPLES_PER_OPERATION * 4)
        @given(
            content=st.binary(max_size=2048),
            filename=HOSTILE_TEXT,
            file_type=st.sampled_from(["application/octet-stream", "text/html", "image/png", "x"]),
            given_fields=fields,
            file_map=st.sampled_from(
                [
                    ["variables.input.file"],
                    ["variables.input.file", "variables.input.name"],
                    [1],
                    "x",
                ]
            ),
        )
        def one(
            content: bytes,
            filename: str,
            file_type: str,
            given_fields: dict[str, Any],
            file_map: Any,
        ) -> None:
            operations = {"query": UPLOAD, "variables": {"input": {"file": None, **given_fields}}}
            sent = {"operations": operations, "map": file_map, "filename": filename}
            response = http.post(
                "/graphql",
                files={
                    "operations": (None, json.dumps(operations).encode()),
                    "map": (None, json.dumps({"0": file_map}).encode()),
                    "0": (filename.encode("utf-8", "replace").decode(), content, file_type),
                },
            )
            assert_no_server_error(response, sent)

        one()
