"""Automatic persisted queries, following Apollo's protocol step by step."""

import hashlib
import json
from typing import Any

import pytest

from server.persisted_queries import PersistedQueryCache, PersistedQueryError
from tests.conftest import TroveClient
from tests.js.runner import require_node, run_script

QUERY = "query Recent { assets(first: 3) { totalCount } }"
DIGEST = hashlib.sha256(QUERY.encode()).hexdigest()
NEW_TYPE = "application/graphql-response+json"


def persisted(digest: str = DIGEST, version: int = 1) -> dict[str, Any]:
    return {"persistedQuery": {"version": version, "sha256Hash": digest}}


async def hash_only_get(client: TroveClient, accept: str = "*/*", digest: str = DIGEST) -> Any:
    # Exactly what Apollo's link sends with useGETForHashedQueries.
    return await client.http.get(
        "/graphql",
        params={"operationName": "Recent", "extensions": json.dumps(persisted(digest))},
        headers={"accept": accept},
    )


async def test_hash_then_query_then_hash(client: TroveClient) -> None:
    miss = await hash_only_get(client)
    assert miss.status_code == 200
    assert miss.json() == {
        "errors": [
            {
                "message": "PersistedQueryNotFound",
                "extensions": {
                    "code": "PERSISTED_QUERY_NOT_FOUND",
                    "requestId": miss.headers["x-request-id"],
                },
            }
        ]
    }

    registered = await client.http.post(
        "/graphql", json={"query": QUERY, "operationName": "Recent", "extensions": persisted()}
    )
    assert registered.json() == {"data": {"assets": {"totalCount": 0}}}

    for accept in ("*/*", NEW_TYPE):
        hit = await hash_only_get(client, accept)
        assert hit.status_code == 200
        assert hit.json() == {"data": {"assets": {"totalCount": 0}}}

    by_post = await client.http.post("/graphql", json={"extensions": persisted(DIGEST.upper())})
    assert by_post.json() == {"data": {"assets": {"totalCount": 0}}}


async def test_not_found_is_a_400_for_the_new_media_type(client: TroveClient) -> None:
    miss = await hash_only_get(client, NEW_TYPE, digest="ab" * 32)
    assert miss.status_code == 400
    assert miss.headers["content-type"].startswith(NEW_TYPE)
    assert miss.json()["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_NOT_FOUND"


async def test_hash_mismatch_and_bad_versions_are_refused(client: TroveClient) -> None:
    wrong = hashlib.sha256(b"{ __typename }").hexdigest()
    mismatch = await client.http.post(
        "/graphql", json={"query": QUERY, "extensions": persisted(wrong)}
    )
    assert mismatch.status_code == 400
    assert mismatch.json() == {
        "errors": [
            {
                "message": "provided sha does not match query",
                "extensions": {
                    "code": "BAD_USER_INPUT",
                    "requestId": mismatch.headers["x-request-id"],
                },
            }
        ]
    }
    # The mismatched pair must not have been stored under either hash.
    for digest in (wrong, DIGEST):
        miss = await hash_only_get(client, digest=digest)
        assert miss.json()["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_NOT_FOUND"

    for extensions in (persisted(version=2), {"persistedQuery": "yes"}, persisted(digest="")):
        refused = await client.http.post(
            "/graphql", json={"query": QUERY, "extensions": extensions}
        )
        assert refused.status_code == 400, extensions
        assert refused.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


async def test_a_persisted_mutation_is_still_refused_over_get(client: TroveClient) -> None:
    mutation = 'mutation Make { createFolder(input: {name: "x"}) { id } }'
    digest = hashlib.sha256(mutation.encode()).hexdigest()
    created = await client.http.post(
        "/graphql", json={"query": mutation, "extensions": persisted(digest)}
    )
    assert "errors" not in created.json()
    refused = await client.http.get(
        "/graphql", params={"extensions": json.dumps(persisted(digest))}
    )
    assert refused.status_code == 405
    data = await client.data("{ assets { totalCount } }")
    assert data["assets"]["totalCount"] == 1


def test_cache_keeps_the_most_recently_used_queries() -> None:
    cache = PersistedQueryCache(max_entries=2)
    queries = [f"{{ q{n}: __typename }}" for n in range(3)]
    digests = [hashlib.sha256(q.encode()).hexdigest() for q in queries]
    cache.resolve(queries[0], persisted(digests[0]))
    cache.resolve(queries[1], persisted(digests[1]))
    assert cache.resolve(None, persisted(digests[0])) == queries[0]  # now the freshest
    cache.resolve(queries[2], persisted(digests[2]))
    assert len(cache) == 2
    assert cache.resolve(None, persisted(digests[0])) == queries[0]
    with pytest.raises(PersistedQueryError) as evicted:
        cache.resolve(None, persisted(digests[1]))
    assert evicted.value.code == "PERSISTED_QUERY_NOT_FOUND"


def test_apollo_client_persisted_queries_link_against_a_live_server(
    live_server_factory: Any,
) -> None:
    require_node("@apollo/client", "apollo-upload-client", "graphql")
    server = live_server_factory()
    [report] = run_script("apollo.mjs", server.url + "/graphql")

    persisted_calls = [e for e in report["exchanges"] if e["sha256Hash"]]
    # Per scenario: hash-only GET (not found), POST with the query, then hash-only GET.
    assert [(e["method"], e["hasQuery"]) for e in persisted_calls] == [
        ("GET", False),
        ("POST", True),
        ("GET", False),
    ] * 2
    default, new_type = persisted_calls[:3], persisted_calls[3:]
    assert [(e["status"], e["codes"]) for e in default] == [
        (200, ["PERSISTED_QUERY_NOT_FOUND"]),
        (200, []),
        (200, []),
    ]
    assert [(e["status"], e["codes"]) for e in new_type] == [
        (400, ["PERSISTED_QUERY_NOT_FOUND"]),
        (200, []),
        (200, []),
    ]
    assert all(e["contentType"].startswith(NEW_TYPE) for e in new_type)
    for scenario in report["persisted"].values():
        assert scenario["first"]["assets"]["totalCount"] == 0
        assert scenario["again"] == scenario["first"]

    upload = report["upload"]
    assert upload["name"] == "apollo.txt"
    assert upload["contentType"] == "text/plain"
    assert upload["size"] == len(b"made by apollo-upload-client\n")
