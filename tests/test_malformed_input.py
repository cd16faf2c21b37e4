"""Malformed input is the client's mistake: a 4xx or BAD_USER_INPUT with a message, never a 500.

Each case was once answered with an internal error; every test runs through the real app on
SQLite and on PostgreSQL.
"""

import base64
import json
from typing import Any

import pytest

from tests.conftest import TroveClient

ASSETS = "query($after: String, $order: AssetOrder) { assets(first: 5, after: $after, orderBy: $order) { nodes { id } } }"


def assert_bad_input(body: dict[str, Any], *, mentions: str = "") -> None:
    errors = body.get("errors")
    assert errors, body
    codes = {error.get("extensions", {}).get("code") for error in errors}
    assert codes == {"BAD_USER_INPUT"}, errors
    assert all(error["message"] for error in errors)
    if mentions:
        assert any(mentions.lower() in error["message"].lower() for error in errors), errors


async def post_raw(client: TroveClient, content: bytes) -> Any:
    return await client.http.post(
        "/graphql", content=content, headers={"content-type": "application/json"}
    )


# DateTime ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        "yesterday",
        "2026-13-45T00:00:00Z",
        "0001-01-01T00:00:00+14:00",
        "9999-12-31T23:59:59-14:00",
        "",
    ],
)
async def test_invalid_datetime_variable(client: TroveClient, value: str) -> None:
    body = await client.graphql(
        "query($t: DateTime) { assets(createdAfter: $t) { nodes { id } } }", {"t": value}
    )
    assert_bad_input(body, mentions="DateTime")


@pytest.mark.parametrize("literal", ['"yesterday"', "12", "true", '"0001-01-01T00:00:00+14:00"'])
async def test_invalid_datetime_literal(client: TroveClient, literal: str) -> None:
    body = await client.graphql(f"{{ assets(createdAfter: {literal}) {{ nodes {{ id }} }} }}")
    assert_bad_input(body, mentions="DateTime")


async def test_valid_datetime_still_works(client: TroveClient) -> None:
    data = await client.data('{ assets(createdAfter: "2020-01-01T00:00:00Z") { nodes { id } } }')
    assert data == {"assets": {"nodes": []}}


# JSON bodies ------------------------------------------------------------------------------


@pytest.mark.parametrize("content", [b"[1, 2]", b'"query"', b"42", b"null", b"[]"])
async def test_json_body_that_is_not_an_object(client: TroveClient, content: bytes) -> None:
    response = await post_raw(client, content)
    assert response.status_code == 400, response.text
    assert_bad_input(response.json())


@pytest.mark.parametrize(
    "content",
    [
        b'{"query": "{ __typename }", "x": "\xff\xfe"}',
        '{"query": "{ __typename }"}'.encode("utf-16"),
    ],
)
async def test_json_body_that_is_not_utf8(client: TroveClient, content: bytes) -> None:
    response = await post_raw(client, content)
    assert response.status_code == 400, response.text
    assert_bad_input(response.json())


async def test_deeply_nested_json_body(client: TroveClient) -> None:
    depth = 100_000
    content = (
        b'{"query": "{ __typename }", "variables": {"v": ' + b"[" * depth + b"]" * depth + b"}}"
    )
    response = await post_raw(client, content)
    assert response.status_code == 400, response.text
    assert_bad_input(response.json(), mentions="deep")


async def test_deeply_nested_json_variable(client: TroveClient) -> None:
    # Within what the body parser takes, but too deep to store as metadata.
    nested: Any = "leaf"
    for _ in range(200):
        nested = {"a": nested}
    body = await client.graphql(
        'mutation($g: JSON!) { createWorkflow(input: {name: "w", graph: $g}) { id } }',
        {"g": nested},
    )
    assert_bad_input(body, mentions="deep")
    body = await client.upload(b"x", filename="a.txt", metadata=nested)
    assert_bad_input(body, mentions="deep")


async def test_deeply_nested_json_literal(client: TroveClient) -> None:
    literal = "[" * 3000 + "]" * 3000
    body = await client.graphql(
        f'mutation {{ createWorkflow(input: {{name: "w", graph: {{nodes: {literal}}}}}) {{ id }} }}'
    )
    assert body.get("errors"), body
    codes = {error["extensions"]["code"] for error in body["errors"]}
    assert codes == {"BAD_USER_INPUT"}, body


# Multipart --------------------------------------------------------------------------------


@pytest.mark.parametrize("paths", [[1], [None], [["variables.file"]], [{"a": 1}], "variables.file"])
async def test_multipart_map_with_non_string_paths(client: TroveClient, paths: Any) -> None:
    operations = {
        "query": "mutation($file: Upload!) { createAsset(input: {file: $file}) { id } }",
        "variables": {"file": None},
    }
    response = await client.http.post(
        "/graphql",
        data={"operations": json.dumps(operations), "map": json.dumps({"0": paths})},
        files={"0": ("a.txt", b"hello", "text/plain")},
        headers={"Apollo-Require-Preflight": "true"},
    )
    assert response.status_code == 400, response.text
    assert_bad_input(response.json())
    assert not any((client.app.state.settings.storage_dir / ".staging").iterdir())


# Cursors ----------------------------------------------------------------------------------


def cursor(payload: Any) -> str:
    raw = json.dumps(payload).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


@pytest.mark.parametrize(
    ("order", "payload"),
    [
        ("NAME_ASC", ["NAME_ASC", 5, "0190d5f0-0000-7000-8000-000000000000"]),
        ("NAME_ASC", ["NAME_ASC", {"a": 1}, "0190d5f0-0000-7000-8000-000000000000"]),
        ("NAME_ASC", ["NAME_ASC", None, "0190d5f0-0000-7000-8000-000000000000"]),
        ("SIZE_DESC", ["SIZE_DESC", "big", "0190d5f0-0000-7000-8000-000000000000"]),
        ("SIZE_DESC", ["SIZE_DESC", 1.5, "0190d5f0-0000-7000-8000-000000000000"]),
        ("SIZE_DESC", ["SIZE_DESC", 2**70, "0190d5f0-0000-7000-8000-000000000000"]),
        ("SIZE_DESC", ["SIZE_DESC", True, "0190d5f0-0000-7000-8000-000000000000"]),
        ("CREATED_AT_DESC", ["CREATED_AT_DESC", "not-a-uuid"]),
        ("NAME_ASC", ["NAME_ASC", "a", "not-a-uuid"]),
        ("NAME_ASC", ["NAME_ASC", "a\u0000b", "0190d5f0-0000-7000-8000-000000000000"]),
    ],
)
async def test_cursor_with_a_wrong_typed_key(client: TroveClient, order: str, payload: Any) -> None:
    await client.upload(b"one", filename="a.txt")
    body = await client.graphql(ASSETS, {"after": cursor(payload), "order": order})
    assert_bad_input(body, mentions="cursor")


async def test_cursor_of_jobs_with_a_wrong_typed_key(client: TroveClient) -> None:
    after = cursor(["CREATED_AT_DESC", "2026-01-01T00:00:00", 7])
    body = await client.graphql(
        "query($a: String) { jobs(after: $a) { nodes { id } } }", {"a": after}
    )
    assert_bad_input(body, mentions="cursor")


# Text the database cannot store -----------------------------------------------------------


async def test_lone_surrogate_in_a_variable(client: TroveClient) -> None:
    content = b'{"query": "query($n: String) { assets(nodeId: $n) { nodes { id } } }", "variables": {"n": "\\ud800"}}'
    response = await post_raw(client, content)
    assert response.status_code == 400, response.text
    assert_bad_input(response.json(), mentions="surrogate")


async def test_lone_surrogate_in_a_literal(client: TroveClient) -> None:
    body = await client.graphql('{ assets(nodeId: "\\ud800") { nodes { id } } }')
    assert_bad_input(body)


async def test_lone_surrogate_in_a_multipart_operation(client: TroveClient) -> None:
    operations = (
        b'{"query": "mutation($file: Upload!) { createAsset(input: {file: $file, nodeId: \\"\\ud800\\"}) { id } }",'
        b' "variables": {"file": null}}'
    )
    response = await client.http.post(
        "/graphql",
        files={
            "operations": (None, operations),
            "map": (None, b'{"0": ["variables.file"]}'),
            "0": ("a.txt", b"hello", "text/plain"),
        },
        headers={"Apollo-Require-Preflight": "true"},
    )
    assert response.status_code == 400, response.text
    assert_bad_input(response.json())


@pytest.mark.parametrize(
    ("query", "variables"),
    [
        ("query($n: String) { assets(nodeId: $n) { nodes { id } } }", {"n": "a\u0000b"}),
        ("query($s: String) { assets(search: $s) { nodes { id } } }", {"s": "a\u0000"}),
        (
            "query($s: String) { assetStats(groupBy: NODE, workflowId: $s) { key } }",
            {"s": "\u0000"},
        ),
        ("query($s: String) { assets(contentType: $s) { nodes { id } } }", {"s": "image/\u0000"}),
        (
            'mutation($g: JSON!) { createWorkflow(input: {name: "w", graph: $g}) { id } }',
            {"g": {"nodes": [], "edges": [], "note": "a\u0000b"}},
        ),
        (
            'mutation($g: JSON!) { createWorkflow(input: {name: "w", graph: $g}) { id } }',
            {"g": {"nodes": [], "edges": [], "a\u0000": 1}},
        ),
        (
            "mutation($n: String!) { createWorkflow(input: {name: $n, graph: {}}) { id } }",
            {"n": "w\u0000"},
        ),
    ],
)
async def test_nul_bytes(client: TroveClient, query: str, variables: dict[str, Any]) -> None:
    body = await client.graphql(query, variables)
    assert_bad_input(body, mentions="NUL")


async def test_nul_bytes_in_names_and_ids(client: TroveClient) -> None:
    # A name loses its control characters; an id that cannot exist finds nothing.
    data = await client.data(
        "mutation($n: String!) { createFolder(input: {name: $n}) { name } }", {"n": "x\u0000y"}
    )
    assert data == {"createFolder": {"name": "xy"}}
    data = await client.data(
        "query($j: ID!) { asset(id: $j) { id } node(id: $j) { id } job(id: $j) { id } }",
        {"j": "\u0000"},
    )
    assert data == {"asset": None, "node": None, "job": None}


async def test_nul_bytes_in_upload_fields(client: TroveClient) -> None:
    body = await client.upload(b"x", filename="a.txt", nodeId="n\u0000", metadata={"k": "\u0000"})
    assert_bad_input(body, mentions="NUL")
    body = await client.upload(b"x", filename="a.txt", metadata={"k": "\u0000"})
    assert_bad_input(body, mentions="NUL")


# Numbers ----------------------------------------------------------------------------------


@pytest.mark.parametrize("value", [2**64, -(2**64) - 1, 10**40])
async def test_integer_over_64_bits_in_a_graph_variable(client: TroveClient, value: int) -> None:
    graph = {"nodes": [{"id": "a", "type": "control.Output", "data": {"value": value}}]}
    body = await client.graphql(
        'mutation($g: JSON!) { createWorkflow(input: {name: "w", graph: $g}) { id graph } }',
        {"g": graph},
    )
    assert_bad_input(body, mentions="64")


async def test_integer_over_64_bits_in_a_graph_literal(client: TroveClient) -> None:
    body = await client.graphql(
        'mutation { createWorkflow(input: {name: "w", graph: {n: 100000000000000000000000000}}) { id graph } }'
    )
    assert_bad_input(body, mentions="64")


async def test_integer_over_64_bits_in_run_job_params(client: TroveClient) -> None:
    body = await client.graphql(
        "mutation($p: JSON) { runWorkflow(input: {graph: {nodes: []}, params: $p}) { id } }",
        {"p": {"x": 2**65}},
    )
    assert_bad_input(body, mentions="64")


# Lengths ----------------------------------------------------------------------------------


async def test_very_long_search(client: TroveClient) -> None:
    await client.upload(b"one", filename="needle.txt")
    body = await client.graphql(
        "query($s: String) { assets(search: $s) { nodes { id } } }", {"s": "%_" * 50_000}
    )
    assert_bad_input(body, mentions="search")


@pytest.mark.parametrize("field", ["nodeId", "jobId", "workflowId"])
async def test_tracking_ids_over_255_characters(client: TroveClient, field: str) -> None:
    too_long: dict[str, Any] = {field: "n" * 256}
    body = await client.upload(b"x", filename="a.txt", **too_long)
    assert_bad_input(body, mentions="255")
    # Characters, not bytes: 200 two-byte characters fit.
    fits: dict[str, Any] = {field: "\u00e9" * 200}
    body = await client.upload(b"x", filename="a.txt", **fits)
    assert "errors" not in body, body


@pytest.mark.parametrize("field", ["nodeId", "jobId", "workflowId"])
async def test_tracking_filters_over_255_characters(client: TroveClient, field: str) -> None:
    body = await client.graphql(
        f"query($v: String) {{ assets({field}: $v) {{ nodes {{ id }} }} assetStats(groupBy: NODE, {field}: $v) {{ key }} }}",
        {"v": "n" * 256},
    )
    assert_bad_input(body, mentions="255")


async def test_run_job_id_over_255_characters(client: TroveClient) -> None:
    graph = {"nodes": [{"id": "a", "type": "control.Output", "data": {"value": 1}}]}
    body = await client.graphql(
        "mutation($g: JSON, $j: String) { runWorkflow(input: {graph: $g, jobId: $j}) { id } }",
        {"g": graph, "j": "j" * 256},
    )
    assert_bad_input(body, mentions="218")


async def test_over_long_ids_and_filters(client: TroveClient) -> None:
    long = "j" * 12_000
    data = await client.data(
        "query($j: ID!) { job(id: $j) { id } node(id: $j) { id } asset(id: $j) { id } }",
        {"j": long},
    )
    assert data == {"job": None, "node": None, "asset": None}
    for query in (
        "query($v: String) { assets(contentType: $v) { nodes { id } } }",
        "query($v: String) { jobs(workflowId: $v) { nodes { id } } }",
    ):
        assert_bad_input(await client.graphql(query, {"v": long}), mentions="255")


async def test_page_size_over_64_bits_in_a_nested_field(client: TroveClient) -> None:
    # Found by the schema fuzzer: the cost refusal measured a cost past 2^64.
    for query in (
        '{ assets { nodes { children(after: "", first: 18446744073709551614) { totalCount } } } }',
        "{ assets(first: 18446744073709551614) { totalCount } }",
    ):
        response = await client.http.post("/graphql", json={"query": query})
        assert response.status_code < 500, response.text
        assert_bad_input(response.json())


@pytest.mark.parametrize(
    "content",
    [
        b'{"name": ' + b"[" * 100_000 + b"]" * 100_000 + b"}",
        b'{"name": "\\ud800"}',
        b'{"name": "\xff"}',
        b'{"metadata": {"n": 100000000000000000000000}}',
    ],
)
async def test_rest_json_bodies_are_read_strictly(client: TroveClient, content: bytes) -> None:
    asset = (await client.upload(b"x", filename="a.txt"))["data"]["createAsset"]
    response = await client.http.put(
        f"/api/assets/{asset['id']}",
        content=content,
        headers={"content-type": "application/json", "Apollo-Require-Preflight": "1"},
    )
    assert response.status_code == 400, response.text
    assert response.json()["code"] == "BAD_USER_INPUT"
