"""GraphQL over HTTP: media types, status codes, GET rules, and the graphql-http audit."""

import json
from collections import Counter
from pathlib import Path
from typing import Any

from tests.conftest import TroveClient
from tests.js.runner import require_node, run_script

NEW_TYPE = "application/graphql-response+json"


async def post(client: TroveClient, body: Any, accept: str | None = None, **headers: str) -> Any:
    if accept:
        headers["accept"] = accept
    return await client.http.post(
        "/graphql",
        content=body if isinstance(body, str | bytes) else json.dumps(body),
        headers={"content-type": "application/json", **headers},
    )


async def test_answers_in_the_media_type_the_client_prefers(client: TroveClient) -> None:
    query = {"query": "{ __typename }"}
    for accept, expected in [
        (NEW_TYPE, NEW_TYPE),
        (f"{NEW_TYPE}, application/json;q=0.9", NEW_TYPE),
        ("application/json", "application/json"),
        ("*/*", "application/json"),
        (None, "application/json"),
    ]:
        response = await post(client, query, accept)
        assert response.status_code == 200
        assert response.headers["content-type"].startswith(expected), accept
        assert response.json() == {"data": {"__typename": "Query"}}


async def test_request_errors_have_no_data_and_a_400_for_the_new_media_type(
    client: TroveClient,
) -> None:
    cases = {
        "parse": {"query": "{"},
        "validation": {"query": "{ noSuchField }"},
        "coercion": {
            "query": "query($first: Int) { assets(first: $first) { totalCount } }",
            "variables": {"first": "many"},
        },
    }
    for name, body in cases.items():
        new = await post(client, body, NEW_TYPE)
        assert new.status_code == 400, name
        assert new.headers["content-type"].startswith(NEW_TYPE)
        assert "data" not in new.json(), name
        assert new.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"

        legacy = await post(client, body, "application/json")
        assert legacy.status_code == 200, name
        assert "data" not in legacy.json(), name


async def test_field_errors_keep_200_and_data(client: TroveClient) -> None:
    response = await post(
        client,
        {
            "query": 'mutation { deleteAsset(id: "00000000-0000-0000-0000-000000000000") { deletedCount } }'
        },
        NEW_TYPE,
    )
    assert response.status_code == 200
    body = response.json()
    assert body["data"] is None
    assert body["errors"][0]["path"] == ["deleteAsset"]
    assert body["errors"][0]["extensions"]["code"] == "NOT_FOUND"


async def test_queries_work_over_get_and_mutations_are_refused(client: TroveClient) -> None:
    await client.data('mutation { createFolder(input: {name: "kept"}) { id } }')
    response = await client.http.get(
        "/graphql",
        params={
            "query": "query($n: Int) { assets(first: $n) { totalCount } }",
            "variables": json.dumps({"n": 5}),
        },
        headers={"accept": NEW_TYPE},
    )
    assert response.status_code == 200
    assert response.json() == {"data": {"assets": {"totalCount": 1}}}

    refused = await client.http.get(
        "/graphql",
        params={"query": 'mutation { createFolder(input: {name: "via get"}) { id } }'},
    )
    assert refused.status_code == 405
    assert refused.headers["allow"] == "POST"
    assert refused.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    data = await client.data("{ assets { nodes { name } } }")
    assert [node["name"] for node in data["assets"]["nodes"]] == ["kept"]


async def test_bodies_it_cannot_read_are_4xx_json(client: TroveClient) -> None:
    cases: list[tuple[dict[str, str], bytes, int, str]] = [
        ({}, b'{"query": "{ __typename }"}', 415, "UNSUPPORTED_MEDIA_TYPE"),
        (
            {"content-type": "text/plain"},
            b'{"query": "{ __typename }"}',
            415,
            "UNSUPPORTED_MEDIA_TYPE",
        ),
        ({"content-type": "application/json"}, b'{"query": ', 400, "BAD_USER_INPUT"),
        ({"content-type": "application/json"}, b"", 400, "BAD_USER_INPUT"),
        ({"content-type": "application/json"}, b'{"query": 1}', 400, "BAD_USER_INPUT"),
        (
            {"content-type": "application/json"},
            b'{"query": "{ __typename }", "operationName": 0}',
            400,
            "BAD_USER_INPUT",
        ),
    ]
    for headers, body, status, code in cases:
        response = await client.http.post(
            "/graphql", content=body, headers={"accept": NEW_TYPE, **headers}
        )
        assert response.status_code == status, (headers, body, response.text)
        assert response.headers["content-type"].startswith(NEW_TYPE)
        assert response.json()["errors"][0]["extensions"]["code"] == code


async def test_multipart_uploads_and_the_csrf_rule_still_hold(client: TroveClient) -> None:
    body = await client.upload(b"still works", filename="kept.txt")
    assert body["data"]["createAsset"]["name"] == "kept.txt"

    operations = {
        "query": "mutation($input: CreateAssetInput!) { createAsset(input: $input) { id } }",
        "variables": {"input": {"file": None}},
    }
    refused = await client.http.post(
        "/graphql",
        data={
            "operations": json.dumps(operations),
            "map": json.dumps({"0": ["variables.input.file"]}),
        },
        files={"0": ("forged.txt", b"forged", "text/plain")},
    )
    assert refused.status_code == 400
    assert "cross-site request forgery" in refused.json()["errors"][0]["message"]
    data = await client.data("{ assets { totalCount } }")
    assert data["assets"]["totalCount"] == 1


async def test_only_browsers_asking_for_html_get_graphiql(client: TroveClient) -> None:
    page = await client.http.get("/graphql", headers={"accept": "text/html,*/*;q=0.8"})
    assert page.headers["content-type"].startswith("text/html")
    # `*/*` is what Apollo Client sends with a hash-only persisted query: it needs JSON.
    for accept in ("*/*", "application/json"):
        response = await client.http.get("/graphql", headers={"accept": accept})
        assert response.status_code == 400
        assert response.headers["content-type"].startswith("application/json")


async def test_token_errors_use_the_negotiated_type(app_factory: Any, sqlite_url: str) -> None:
    async with app_factory(sqlite_url, auth="token") as client:
        response = await post(client, {"query": "{ __typename }"}, NEW_TYPE)
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert response.headers["content-type"].startswith(NEW_TYPE)
    assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


def test_graphql_http_audit_passes_without_errors_or_warnings(
    live_server_factory: Any, tmp_path: Path
) -> None:
    require_node("graphql-http")
    server = live_server_factory()
    results = run_script("audit.mjs", server.url + "/graphql")
    statuses = Counter(result["status"] for result in results)
    failed = [result for result in results if result["status"] != "ok"]
    assert not failed, json.dumps(failed, indent=2)
    # Every MUST, SHOULD and MAY audit of graphql-http 1.23.1 ran and passed.
    assert statuses == {"ok": len(results)}
    assert len(results) >= 60
