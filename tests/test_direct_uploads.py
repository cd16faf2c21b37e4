"""Direct uploads (../shared/api/uploads.graphql): parts PUT straight to storage with plain
HTTP, in parallel; presigned S3 URLs on a real SeaweedFS, Trove's own signed URLs on local
disk, with one client code path for both."""

import asyncio
import hashlib
import os
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from graphql import build_ast_schema, find_breaking_changes, parse
from graphql import build_schema as parse_sdl

from models import DirectUpload
from schema import build_schema
from tests.conftest import ROOT, TroveClient
from tests.js.runner import require
from tests.test_schema_artifact import CONTRACT

UPLOADS_CONTRACT = ROOT.parent / "shared" / "api" / "uploads.graphql"

CREATE = """mutation($input: CreateUploadInput!) {
  createUpload(input: $input) { id partSize expiresAt parts { partNumber url headers } }
}"""
COMPLETE = """mutation($id: ID!, $parts: [CompletedPartInput!]!) {
  completeUpload(id: $id, parts: $parts) { id name size sha256 contentType nodeId jobId url }
}"""
ABORT = "mutation($id: ID!) { abortUpload(id: $id) }"


def test_served_schema_keeps_the_contract_plus_direct_uploads() -> None:
    # Like the other contract tests: skipped in a clone without ../shared, a failure in CI.
    require(CONTRACT.is_file(), f"the API contract is not at {CONTRACT}")
    require(UPLOADS_CONTRACT.is_file(), f"the uploads contract is not at {UPLOADS_CONTRACT}")
    contract = build_ast_schema(parse(CONTRACT.read_text() + "\n" + UPLOADS_CONTRACT.read_text()))
    served = parse_sdl(build_schema().as_str())
    changes = find_breaking_changes(contract, served)
    assert not changes, "\n".join(f"- {c.type.name}: {c.description}" for c in changes)
    for name in ("createUpload", "completeUpload", "abortUpload"):
        assert name in served.mutation_type.fields  # type: ignore[union-attr]


@pytest.fixture(params=["local", "s3"])
async def storage_client(
    request: pytest.FixtureRequest, app_factory: Any, sqlite_url: str
) -> AsyncIterator[TroveClient]:
    overrides: dict[str, Any] = {}
    if request.param == "s3":
        seaweedfs = request.getfixturevalue("seaweedfs")
        bucket = request.getfixturevalue("s3_bucket")
        overrides = {"storage_url": f"s3://{bucket}/trove", **seaweedfs.connection}
    async with app_factory(sqlite_url, **overrides) as trove:
        yield trove


async def put_parts(
    trove: TroveClient, upload: dict[str, Any], content: bytes, parallel: int = 4
) -> list[dict[str, Any]]:
    """What any client does: PUT each part (at most `parallel` at once), keep the ETags."""
    size = int(upload["partSize"])
    slots = asyncio.Semaphore(parallel)

    async with httpx.AsyncClient(timeout=120) as outside:

        async def put(part: dict[str, Any]) -> dict[str, Any]:
            number = part["partNumber"]
            body = content[(number - 1) * size : number * size]
            # Trove's own URLs go to the app under test; presigned ones to the bucket.
            http = trove.http if part["url"].startswith("http://testserver") else outside
            async with slots:
                response = await http.put(part["url"], content=body)
            assert response.status_code == 200, response.text
            return {"partNumber": number, "etag": response.headers["etag"]}

        return list(await asyncio.gather(*(put(p) for p in upload["parts"])))


async def direct_upload(trove: TroveClient, content: bytes, **fields: Any) -> dict[str, Any]:
    declared = {"name": "data.bin", "size": len(content), **fields}
    upload = (await trove.data(CREATE, {"input": declared}))["createUpload"]
    parts = await put_parts(trove, upload, content)
    return dict(
        (await trove.data(COMPLETE, {"id": upload["id"], "parts": parts}))["completeUpload"]
    )


async def test_parts_go_straight_to_storage_and_complete_into_an_asset(
    storage_client: TroveClient,
) -> None:
    content = os.urandom(20 << 20)
    digest = hashlib.sha256(content).hexdigest()
    upload = (
        await storage_client.data(
            CREATE,
            {"input": {"name": "clip.bin", "size": len(content), "sha256": digest, "nodeId": "n"}},
        )
    )["createUpload"]
    assert int(upload["partSize"]) == 8 << 20 and len(upload["parts"]) == 3
    parts = await put_parts(storage_client, upload, content)
    done = await storage_client.data(COMPLETE, {"id": upload["id"], "parts": parts})
    asset = done["completeUpload"]
    assert (asset["size"], asset["sha256"], asset["nodeId"]) == (len(content), digest, "n")
    served = await storage_client.http.get(asset["url"])
    assert served.content == content
    # Identical bytes again: a second asset, one stored blob.
    again = await direct_upload(storage_client, content, name="copy.bin")
    assert again["sha256"] == digest and again["id"] != asset["id"]
    assert await DirectUpload.all().count() == 0


async def test_a_wrong_size_or_checksum_is_refused_and_nothing_is_kept(
    storage_client: TroveClient,
) -> None:
    content = b"twelve bytes"
    wrong = hashlib.sha256(b"something else").hexdigest()
    upload = (
        await storage_client.data(
            CREATE, {"input": {"name": "x.txt", "size": len(content), "sha256": wrong}}
        )
    )["createUpload"]
    parts = await put_parts(storage_client, upload, content)
    body = await storage_client.graphql(COMPLETE, {"id": upload["id"], "parts": parts})
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert "SHA-256" in body["errors"][0]["message"]
    assert await DirectUpload.all().count() == 0

    short = (await storage_client.data(CREATE, {"input": {"name": "y", "size": 100}}))[
        "createUpload"
    ]
    parts = await put_parts(storage_client, short, b"only 17 bytes sent")
    body = await storage_client.graphql(COMPLETE, {"id": short["id"], "parts": parts})
    assert "declared 100" in body["errors"][0]["message"]


async def test_missing_parts_abort_and_expiry(storage_client: TroveClient) -> None:
    content = os.urandom((8 << 20) + 10)
    upload = (await storage_client.data(CREATE, {"input": {"name": "z", "size": len(content)}}))[
        "createUpload"
    ]
    parts = await put_parts(storage_client, upload, content)
    body = await storage_client.graphql(COMPLETE, {"id": upload["id"], "parts": parts[:1]})
    assert "every part" in body["errors"][0]["message"]
    assert (await storage_client.data(ABORT, {"id": upload["id"]}))["abortUpload"] is True
    body = await storage_client.graphql(COMPLETE, {"id": upload["id"], "parts": parts})
    assert body["errors"][0]["extensions"]["code"] == "NOT_FOUND"

    stale = (await storage_client.data(CREATE, {"input": {"name": "s", "size": 5}}))["createUpload"]
    await DirectUpload.filter(id=stale["id"]).update(
        expires_at=datetime.now(UTC) - timedelta(seconds=1)
    )
    assert await storage_client.services.uploads.sweep_expired() == 1
    assert await DirectUpload.all().count() == 0


async def test_part_urls_are_signed(storage_client: TroveClient) -> None:
    upload = (await storage_client.data(CREATE, {"input": {"name": "a", "size": 3}}))[
        "createUpload"
    ]
    url = upload["parts"][0]["url"]
    tampered = url.replace("parts/1", "parts/2") if "testserver" in url else url + "x"
    async with httpx.AsyncClient() as outside:
        http = storage_client.http if "testserver" in url else outside
        response = await http.put(tampered, content=b"abc")
    assert response.status_code == 403


@pytest.mark.slow
async def test_a_200_mb_file_in_parallel_parts_on_s3(
    app_factory: Any, sqlite_url: str, seaweedfs: Any, s3_bucket: str
) -> None:
    block = os.urandom(1 << 20)
    content = b"".join(block[i:] + block[:i] for i in range(200))
    digest = hashlib.sha256(content).hexdigest()
    async with app_factory(
        sqlite_url, storage_url=f"s3://{s3_bucket}", **seaweedfs.connection
    ) as trove:
        asset = await direct_upload(trove, content, name="big.bin", sha256=digest)
        assert (asset["size"], asset["sha256"]) == (len(content), digest)
        listing = seaweedfs.client().list_objects_v2(Bucket=s3_bucket)
        assert [o["Key"] for o in listing["Contents"]] == [f"blobs/{digest}"]
        head = await trove.http.get(asset["url"], headers={"Range": "bytes=0-1023"})
        assert head.content == content[:1024]
