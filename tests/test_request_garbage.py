"""A list request leaves nothing for the cyclic garbage collector.

Objects caught in reference cycles outlive their request until the collector runs, and on a
busy server those runs cost a tenth of a GraphQL list request (docs/performance.md). The
requests go straight through ASGI, as a server delivers them, so only the app's own objects
are counted.
"""

import gc
import json

import pytest

from bench.cpu import asgi_call
from schema import TroveSchema
from tests import parity
from tests.conftest import TroveClient

LIST = (
    "query($job: String!) { assets(jobId: $job, first: 50) { totalCount edges { cursor node { "
    "id name contentType size url thumbnailUrl createdAt nodeId tags metadata } } "
    "pageInfo { hasNextPage endCursor } } }"
)


async def test_list_requests_leave_no_cycles(
    sqlite_client: TroveClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Without the parity plugin's second run through graphql-core's own executor, which
    # the server never makes (and which does leave cycles).
    monkeypatch.setattr(TroveSchema, "execute", parity._original_execute)
    for index in range(5):
        await sqlite_client.upload(f"image {index}".encode(), filename=f"{index}.png", jobId="j")
    app = sqlite_client.app
    body = json.dumps({"query": LIST, "variables": {"job": "j"}}).encode()
    requests = [
        lambda: asgi_call(app, "POST", "/graphql", body=body),
        lambda: asgi_call(app, "GET", "/api/assets", query="job_id=j&page_size=50"),
    ]
    for request in requests:  # warm: caches of documents and statements fill once
        assert (await request())[0] == 200

    gc.collect()
    gc.disable()
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        for _ in range(10):
            for request in requests:
                assert (await request())[0] == 200
        gc.collect()
        kinds = sorted({type(item).__name__ for item in gc.garbage})
        assert len(gc.garbage) == 0, f"{len(gc.garbage)} objects in cycles: {kinds}"
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
        gc.enable()
