"""Keyset pagination walked end to end, forward and backward, under every filter."""

import itertools
from typing import Any

import pytest

from services.assets import Tracking
from tests.conftest import TroveClient

ASSET_COUNT = 240
NODES = ["n0", "n1", "n2"]
JOBS = ["j0", "j1"]
WORKFLOWS = ["w0", "w1"]

LIST_QUERY = """
query($nodeId: String, $jobId: String, $workflowId: String, $contentType: String,
      $search: String, $orderBy: AssetOrder, $first: Int, $after: String, $last: Int,
      $before: String) {
  assets(nodeId: $nodeId, jobId: $jobId, workflowId: $workflowId, contentType: $contentType,
         search: $search, orderBy: $orderBy, first: $first, after: $after, last: $last,
         before: $before) {
    totalCount
    edges { cursor node { id name size } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  }
}
"""


async def _chunks(data: bytes) -> Any:
    yield data


async def seed(client: TroveClient) -> list[dict[str, Any]]:
    """Assets created through the service (the same path uploads take), quickly."""
    from models import User

    owner = await User.get(name="local")
    created = []
    for i in range(ASSET_COUNT):
        content_type = "image/png" if i % 3 == 0 else "text/plain"
        row = await client.services.assets.create_asset(
            owner=owner,
            content=_chunks(f"asset number {i % 50}".encode()),
            name=f"item-{i:04d}-{'cat' if i % 4 == 0 else 'dog'}.txt",
            content_type=content_type,
            tracking=Tracking(
                node_id=NODES[i % 3], job_id=JOBS[i % 2], workflow_id=WORKFLOWS[(i // 2) % 2]
            ),
        )
        created.append(
            {
                "id": str(row.id),
                "name": row.name,
                "size": row.size,
                "nodeId": row.node_id,
                "jobId": row.job_id,
                "workflowId": row.workflow_id,
                "contentType": content_type,
            }
        )
    return created


def expected(created: list[dict[str, Any]], where: dict[str, Any], order: str) -> list[str]:
    rows = [
        r
        for r in created
        if all(
            r[k] == v
            if k != "contentType"
            else (r[k].startswith(v) if v.endswith("/") else r[k] == v)
            for k, v in where.items()
            if k != "search"
        )
        and ("search" not in where or where["search"].lower() in r["name"].lower())
    ]
    if order.startswith("CREATED_AT"):
        rows.sort(key=lambda r: r["id"], reverse=order.endswith("DESC"))
    else:
        field = "name" if order.startswith("NAME") else "size"
        rows.sort(key=lambda r: (r[field], r["id"]), reverse=order.endswith("DESC"))
    return [r["id"] for r in rows]


async def walk(
    client: TroveClient, variables: dict[str, Any], *, forward: bool, size: int
) -> list[str]:
    seen: list[str] = []
    cursor = None
    for _ in range(ASSET_COUNT + 2):
        page_vars = {**variables}
        if forward:
            page_vars.update(first=size, after=cursor)
        else:
            page_vars.update(last=size, before=cursor)
        data = (await client.data(LIST_QUERY, page_vars))["assets"]
        ids = [edge["node"]["id"] for edge in data["edges"]]
        info = data["pageInfo"]
        if forward:
            seen.extend(ids)
            more, cursor = info["hasNextPage"], info["endCursor"]
            assert info["hasPreviousPage"] == (
                variables.get("after") is not None or len(seen) > len(ids)
            )
        else:
            seen[:0] = ids
            more, cursor = info["hasPreviousPage"], info["startCursor"]
            assert info["hasNextPage"] == (len(seen) > len(ids))
        if ids:
            assert data["edges"][0]["cursor"] == info["startCursor"]
            assert data["edges"][-1]["cursor"] == info["endCursor"]
        if not more:
            return seen
    raise AssertionError("pagination did not terminate")


FILTERS = [
    dict(zip(("nodeId", "jobId", "workflowId"), combo, strict=True))
    for combo in itertools.product([None, "n1"], [None, "j0"], [None, "w1"])
]


async def test_walks_every_filter_combination_forward_and_backward(client: TroveClient) -> None:
    created = await seed(client)
    extra_filters: list[dict[str, Any]] = [
        {"contentType": "image/"},
        {"contentType": "text/plain"},
        {"search": "CAT"},
    ]
    cases = [{k: v for k, v in f.items() if v is not None} for f in FILTERS] + extra_filters
    for where in cases:
        want = expected(created, where, "CREATED_AT_DESC")
        forward = await walk(client, where, forward=True, size=17)
        assert forward == want, where
        backward = await walk(client, where, forward=False, size=23)
        assert backward == want, where
        total = (await client.data(LIST_QUERY, {**where, "first": 1}))["assets"]["totalCount"]
        assert total == len(want)


@pytest.mark.parametrize(
    "order", ["CREATED_AT_ASC", "NAME_ASC", "NAME_DESC", "SIZE_DESC", "SIZE_ASC"]
)
async def test_every_ordering_pages_consistently(client: TroveClient, order: str) -> None:
    created = await seed(client)
    where = {"jobId": "j1"}
    want = expected(created, where, order)
    assert await walk(client, {**where, "orderBy": order}, forward=True, size=31) == want
    assert await walk(client, {**where, "orderBy": order}, forward=False, size=31) == want


async def test_page_sizes_and_cursors_are_validated(client: TroveClient) -> None:
    for arguments in ("first: 101", "first: -1", "last: 500", "first: 2, last: 2"):
        body = await client.graphql(f"{{ assets({arguments}) {{ totalCount }} }}")
        assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT", arguments
    for cursor in ("garbage!", "bm90LWpzb24", "WyJOQU1FX0FTQyIsIngiXQ"):
        body = await client.graphql(
            "query($c: String) { assets(after: $c) { totalCount } }", {"c": cursor}
        )
        assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT", cursor
    body = await client.graphql(
        "{ assets(first: 0) { edges { cursor } pageInfo { hasNextPage } } }"
    )
    assert body["data"]["assets"]["edges"] == []


async def test_cursor_from_another_ordering_is_refused(client: TroveClient) -> None:
    await seed(client)
    data = await client.data("{ assets(first: 1, orderBy: NAME_ASC) { pageInfo { endCursor } } }")
    cursor = data["assets"]["pageInfo"]["endCursor"]
    body = await client.graphql(
        "query($c: String) { assets(after: $c, orderBy: SIZE_ASC) { totalCount } }", {"c": cursor}
    )
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


async def test_in_process_paginate_helper(client: TroveClient) -> None:
    from models import User

    created = await seed(client)
    owner = await User.get(name="local")
    collected: list[str] = []
    cursor = ""
    while True:
        rows, cursor = await client.services.assets.paginate(
            user_id=owner.id, node_id="n2", limit=40, start_key=cursor, reverse=True
        )
        collected.extend(str(r.id) for r in rows)
        if not cursor:
            break
    assert collected == expected(created, {"nodeId": "n2"}, "CREATED_AT_DESC")
