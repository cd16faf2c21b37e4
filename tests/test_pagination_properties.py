"""Property: paging through assets with keyset cursors never skips and never repeats one, while
other clients insert and delete assets between the pages, in every ordering, forwards and
backwards, on SQLite and PostgreSQL (against `trove serve`).

Names and sizes come from tiny alphabets so that ties, which only the id breaks, are common.
Each example works under its own nodeId, so examples share one server without seeing each
other. Derandomized and bounded for CI.
"""

import asyncio
import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import create_postgres_database, drop_postgres_database

pytestmark = pytest.mark.slow

ORDERINGS = ["CREATED_AT_DESC", "CREATED_AT_ASC", "NAME_ASC", "NAME_DESC", "SIZE_DESC", "SIZE_ASC"]
PROPERTY_SETTINGS = settings(
    max_examples=8,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)
HEADERS = {"Apollo-Require-Preflight": "1"}
UPLOAD = "mutation($input: CreateAssetInput!) { createAsset(input: $input) { id } }"
DELETE = "mutation($id: ID!) { deleteAsset(id: $id) { deletedCount } }"
PAGE = """
query($node: String, $order: AssetOrder, $first: Int, $after: String, $last: Int, $before: String) {
  assets(nodeId: $node, orderBy: $order, first: $first, after: $after, last: $last, before: $before) {
    edges { cursor node { id name size } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  }
}
"""

NAMES = st.sampled_from(["a", "b", "B", "c"])
SIZES = st.integers(min_value=0, max_value=2)
NEW_ASSET = st.tuples(st.just("insert"), NAMES, SIZES)
DELETION = st.tuples(st.just("delete"), st.integers(min_value=0, max_value=1000), st.just(0))
CHANGES = st.lists(st.one_of(NEW_ASSET, DELETION), max_size=3)


@dataclass
class Plan:
    initial: list[tuple[str, int]]
    page_size: int
    forward: bool
    # Changes made by "other clients" before each page is read.
    changes: list[list[tuple[str, Any, int]]] = field(default_factory=list)


PLANS = st.builds(
    Plan,
    initial=st.lists(st.tuples(NAMES, SIZES), min_size=0, max_size=10),
    page_size=st.integers(min_value=1, max_value=4),
    forward=st.booleans(),
    changes=st.lists(CHANGES, min_size=0, max_size=8),
)


def graphql(http: httpx.Client, query: str, variables: dict[str, Any]) -> Any:
    body = http.post("/graphql", json={"query": query, "variables": variables}).json()
    assert "errors" not in body, body
    return body["data"]


def upload(http: httpx.Client, node: str, name: str, size: int) -> str:
    operations = {
        "query": UPLOAD,
        "variables": {"input": {"file": None, "name": name, "nodeId": node}},
    }
    response = http.post(
        "/graphql",
        files={
            "operations": (None, json.dumps(operations).encode()),
            "map": (None, b'{"0": ["variables.input.file"]}'),
            # Distinct bytes of the given size would need more room than 0-2 bytes allow;
            # equal bytes are fine: each upload is its own asset.
            "0": (name, b"x" * size, "application/octet-stream"),
        },
    )
    body = response.json()
    assert "errors" not in body, body
    return str(body["data"]["createAsset"]["id"])


def sort_key(order: str, asset: dict[str, Any]) -> tuple[Any, str]:
    if order.startswith("SIZE"):
        return (asset["size"], asset["id"])
    return ("", asset["id"])


def check_plan(http: httpx.Client, order: str, plan: Plan) -> None:
    node = f"prop-{uuid.uuid4().hex}"
    live: list[str] = [upload(http, node, name, size) for name, size in plan.initial]
    stable = set(live)  # present from the start and never deleted
    ever: set[str] = set(live)
    seen: list[dict[str, Any]] = []
    cursor: str | None = None
    step = 0
    while True:
        for kind, value, size in plan.changes[step] if step < len(plan.changes) else []:
            if kind == "insert":
                new = upload(http, node, value, size)
                live.append(new)
                ever.add(new)
            elif live:
                victim = live.pop(value % len(live))
                graphql(http, DELETE, {"id": victim})
                stable.discard(victim)
        step += 1
        variables: dict[str, Any] = {"node": node, "order": order}
        if plan.forward:
            variables.update(first=plan.page_size, after=cursor)
        else:
            variables.update(last=plan.page_size, before=cursor)
        page = graphql(http, PAGE, variables)["assets"]
        nodes = [edge["node"] for edge in page["edges"]]
        seen.extend(nodes if plan.forward else list(reversed(nodes)))
        more = page["pageInfo"]["hasNextPage" if plan.forward else "hasPreviousPage"]
        if not more:
            break
        assert nodes, "a page promised more but came back empty"
        cursor = page["pageInfo"]["endCursor" if plan.forward else "startCursor"]
        assert step < 200, "pagination does not end"

    ids = [asset["id"] for asset in seen]
    assert len(ids) == len(set(ids)), f"repeated: {ids}"
    missing = stable - set(ids)
    assert not missing, f"skipped {missing} (order {order}, plan {plan})"
    assert set(ids) <= ever, "an asset of another example appeared"
    # The walk keeps the ordering (names sort by the database's collation, so only sizes
    # and ids are compared here).
    if not order.startswith("NAME"):
        keys = [sort_key(order, asset) for asset in seen]
        descending = order.endswith("DESC") == plan.forward
        assert keys == sorted(keys, reverse=descending), (order, plan.forward, keys)


@pytest.fixture(params=["sqlite", "postgres"])
def pagination_server(request: pytest.FixtureRequest, live_server_factory: Any) -> Iterator[Any]:
    if request.param == "sqlite":
        yield live_server_factory()
        return
    url = asyncio.run(create_postgres_database())
    try:
        yield live_server_factory(url)
    finally:
        asyncio.run(drop_postgres_database(url))


def property_for(http: httpx.Client, order: str) -> Any:
    @PROPERTY_SETTINGS
    @given(plan=PLANS)
    def holds(plan: Plan) -> None:
        check_plan(http, order, plan)

    return holds


def test_keyset_pagination_never_skips_or_repeats(pagination_server: Any) -> None:
    with httpx.Client(base_url=pagination_server.url, headers=HEADERS, timeout=30) as http:
        for order in ORDERINGS:
            property_for(http, order)()
