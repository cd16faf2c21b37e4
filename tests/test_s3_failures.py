"""S3 failures, for real: a SeaweedFS of its own paused (hung) and stopped mid-test, a port
with nothing listening, a bucket that does not exist, refused credentials. Each surface
answers with the storage contract's statuses (503 with `Retry-After` for passing failures,
503 without it for misconfigurations, with a message that names no secret), never an
unmapped 500 or a hang, and a failed write leaves no row and no blob."""

from __future__ import annotations

import logging
import os
import signal
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from models import DirectUpload
from storage.base import StorageError, StorageFull, StorageMisconfigured
from storage.s3 import translate_error
from tests.conftest import TroveClient, _in_ci, free_port
from tests.s3server import SeaweedFS
from tests.test_content import PAYLOAD, path_of, upload
from tests.test_direct_uploads import COMPLETE as COMPLETE_UPLOAD
from tests.test_direct_uploads import CREATE as CREATE_UPLOAD
from tests.test_direct_uploads import put_parts

# Short, so that a hung store is answered within seconds (three attempts of one second).
TIMEOUT = {"s3_timeout_seconds": 1.0}
DELETE = "mutation($id: ID!) { deleteAsset(id: $id) { deletedCount } }"
START_UPLOAD = """mutation($input: CreateUploadInput!) {
  createUpload(input: $input) { id parts { partNumber url } }
}"""
COUNT = "{ assets { totalCount } }"


@pytest.fixture
def own_seaweedfs(tmp_path: Path) -> Iterator[SeaweedFS]:
    """A SeaweedFS this test may pause and stop (the session's one is shared)."""
    server = SeaweedFS(tmp_path / "seaweedfs")
    server.root.mkdir()
    try:
        server.start()
    except RuntimeError as error:
        if _in_ci():
            pytest.fail(f"SeaweedFS is required in CI but did not start: {error}")
        pytest.skip(f"SeaweedFS unavailable: {error}")
    try:
        yield server
    finally:
        assert server.process is not None
        if server.process.poll() is None:
            os.kill(server.process.pid, signal.SIGCONT)
        server.stop()


def keys(seaweedfs: SeaweedFS, bucket: str, prefix: str) -> list[str]:
    listing = seaweedfs.client().list_objects_v2(Bucket=bucket, Prefix=prefix)
    return sorted(item["Key"] for item in listing.get("Contents", []))


def bucket_exists(seaweedfs: SeaweedFS, bucket: str) -> bool:
    try:
        seaweedfs.client().head_bucket(Bucket=bucket)
    except ClientError:
        return False
    return True


async def rest_upload(client: TroveClient, content: bytes) -> Any:
    return await client.http.post(
        "/api/assets",
        files={"file": ("data.bin", content, "application/octet-stream")},
        headers={"Apollo-Require-Preflight": "true"},
    )


async def graphql_upload(client: TroveClient, content: bytes) -> Any:
    """A GraphQL multipart upload; the file is received before execution, so a failing
    store is answered with the HTTP status itself."""
    return await client.http.post(
        "/graphql",
        files={
            "operations": (
                None,
                b'{"query": "mutation($f: Upload!) { createAsset(input: {file: $f}) { id } }",'
                b' "variables": {"f": null}}',
            ),
            "map": (None, b'{"0": ["variables.f"]}'),
            "0": ("data.bin", content, "application/octet-stream"),
        },
        headers={"Apollo-Require-Preflight": "true"},
    )


def assert_unavailable(response: Any, words: str) -> None:
    """A passing failure: 503, the retry hint, and what went wrong."""
    assert response.status_code == 503, response.text
    assert response.headers["retry-after"] == "5"
    body = response.json()
    message = body["errors"][0]["message"] if "errors" in body else body["error"]
    code = body["errors"][0]["extensions"]["code"] if "errors" in body else body["code"]
    assert code == "SERVICE_UNAVAILABLE"
    assert message.startswith("Storage is unavailable: ") and words in message, message


def assert_misconfigured(response: Any, reason: str, *secrets: str) -> None:
    """An operator's problem: 503 without a retry hint, the reason, and no secret."""
    assert response.status_code == 503, response.text
    assert "retry-after" not in response.headers
    body = response.json()
    message = body["errors"][0]["message"] if "errors" in body else body["error"]
    assert message.startswith("Storage is misconfigured: ") and reason in message, message
    for secret in secrets:
        assert secret not in response.text


async def test_a_hung_then_stopped_store_answers_503_and_loses_nothing(
    app_factory: Any, sqlite_url: str, own_seaweedfs: SeaweedFS
) -> None:
    """On SQLite only: each failure takes seconds (the attempts and their timeouts), and the
    database plays no part in them (the other tests here run on both)."""
    seaweedfs = own_seaweedfs
    bucket = seaweedfs.create_bucket()
    async with app_factory(
        sqlite_url, storage_url=f"s3://{bucket}/trove", **seaweedfs.connection, **TIMEOUT
    ) as client:
        kept = await upload(client, filename="kept.bin")
        folder = (await client.data('mutation { createFolder(input: {name: "f"}) { id url } }'))[
            "createFolder"
        ]
        await upload(client, b"in the folder", filename="inner.txt", parentId=folder["id"])
        blobs_before = keys(seaweedfs, bucket, "trove/blobs/")
        # A direct upload whose part reached the bucket, to be completed once it is gone.
        direct = (await client.data(CREATE_UPLOAD, {"input": {"name": "d.bin", "size": 10}}))[
            "createUpload"
        ]
        parts = await put_parts(client, direct, b"0123456789")
        assert seaweedfs.process is not None

        # Hung: the process takes connections but never answers.
        os.kill(seaweedfs.process.pid, signal.SIGSTOP)
        try:
            started = time.monotonic()
            response = await client.http.get(path_of(kept["url"]))
            assert_unavailable(response, "did not answer in time")
            # Three attempts of one second each (and botocore's backoff), not a hang.
            assert time.monotonic() - started < 20
            assert_unavailable(await graphql_upload(client, os.urandom(5000)), "in time")
            # The folder's zip is read before it is answered: an error, not a cut archive.
            assert_unavailable(await client.http.get(path_of(folder["url"])), "in time")
            deleted = await client.graphql(DELETE, {"id": kept["id"]})
            [error] = deleted["errors"]
            assert error["extensions"]["code"] == "SERVICE_UNAVAILABLE", deleted
            assert error["message"].startswith("Storage is unavailable: ")
        finally:
            os.kill(seaweedfs.process.pid, signal.SIGCONT)

        # Back: nothing was lost, nothing was added.
        assert (await client.data(COUNT))["assets"]["totalCount"] == 3
        assert keys(seaweedfs, bucket, "trove/blobs/") == blobs_before
        response = await client.http.get(path_of(kept["url"]))
        assert response.status_code == 200 and response.content == PAYLOAD

        # Stopped: nothing listens any more.
        seaweedfs.stop()
        response = await client.http.get(path_of(kept["url"]))
        assert_unavailable(response, "could not be reached")
        response = await client.http.get(path_of(kept["url"]), headers={"Range": "bytes=0-0"})
        assert_unavailable(response, "could not be reached")
        assert_unavailable(await graphql_upload(client, os.urandom(5000)), "could not be")
        assert_unavailable(await rest_upload(client, os.urandom(5000)), "could not be reached")
        response = await client.http.delete(
            f"/api/assets/{kept['id']}", headers={"Apollo-Require-Preflight": "true"}
        )
        assert_unavailable(response, "could not be reached")
        started = await client.graphql(START_UPLOAD, {"input": {"name": "d.bin", "size": 10}})
        assert started["errors"][0]["extensions"]["code"] == "SERVICE_UNAVAILABLE", started
        completed = await client.graphql(COMPLETE_UPLOAD, {"id": direct["id"], "parts": parts})
        [error] = completed["errors"]
        assert error["extensions"]["code"] == "SERVICE_UNAVAILABLE", completed
        # Not "the parts could not be joined": the upload stays open for another try.
        assert await DirectUpload.filter(id=direct["id"]).exists()
        # Every row is still there; the delete that failed deleted nothing.
        assert (await client.data(COUNT))["assets"]["totalCount"] == 3


async def test_nothing_listening_answers_503_on_every_surface(
    app_factory: Any, sqlite_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    endpoint = f"http://127.0.0.1:{free_port()}"
    caplog.set_level(logging.ERROR)
    # The server starts (metadata stays available) and says why content will not work.
    async with app_factory(
        sqlite_url,
        storage_url="s3://trove/x",
        s3_endpoint_url=endpoint,
        s3_access_key_id="id",
        s3_secret_access_key="secret",
        **TIMEOUT,
    ) as client:
        assert "cannot be used at start-up" in caplog.text
        assert_unavailable(await graphql_upload(client, b"hello"), "could not be reached")
        assert_unavailable(await rest_upload(client, b"hello"), "could not be reached")
        body = await client.upload(b"hello", filename="a.txt")
        assert body["errors"][0]["extensions"]["code"] == "SERVICE_UNAVAILABLE"
        started = await client.graphql(START_UPLOAD, {"input": {"name": "d.bin", "size": 10}})
        assert started["errors"][0]["extensions"]["code"] == "SERVICE_UNAVAILABLE", started
        assert started["errors"][0]["message"].startswith("Storage is unavailable: ")
        # Neither asset rows nor open uploads were recorded.
        assert (await client.data(COUNT))["assets"]["totalCount"] == 0
        assert await DirectUpload.all().count() == 0


async def test_a_bucket_that_does_not_exist_is_a_misconfiguration(
    app_factory: Any, database_url: str, seaweedfs: SeaweedFS, caplog: pytest.LogCaptureFixture
) -> None:
    bucket = f"trove-missing-{uuid.uuid4().hex[:8]}"
    caplog.set_level(logging.ERROR, logger="storage.s3")
    async with app_factory(
        database_url, storage_url=f"s3://{bucket}/trove", **seaweedfs.connection, **TIMEOUT
    ) as client:
        for response in (
            await graphql_upload(client, b"hello"),
            await rest_upload(client, b"hello"),
        ):
            assert_misconfigured(response, "the storage bucket does not exist")
        started = await client.graphql(START_UPLOAD, {"input": {"name": "d.bin", "size": 10}})
        [error] = started["errors"]
        assert error["extensions"]["code"] == "SERVICE_UNAVAILABLE"
        assert "the storage bucket does not exist" in error["message"]
        assert (await client.data(COUNT))["assets"]["totalCount"] == 0
    # Loud, and precise for the operator: which bucket, where.
    logged = [r for r in caplog.records if r.levelno == logging.ERROR and r.name == "storage.s3"]
    assert logged and bucket in logged[0].getMessage()
    assert seaweedfs.endpoint in logged[0].getMessage()
    # SeaweedFS creates a bucket on the first PUT: Trove never got that far.
    assert not bucket_exists(seaweedfs, bucket)


async def test_refused_credentials_are_a_misconfiguration_and_never_shown(
    app_factory: Any,
    sqlite_url: str,
    seaweedfs: SeaweedFS,
    s3_bucket: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    wrong_secret = "not-the-secret-" + uuid.uuid4().hex
    connection = {**seaweedfs.connection, "s3_secret_access_key": wrong_secret}
    caplog.set_level(logging.DEBUG)
    async with app_factory(
        sqlite_url, storage_url=f"s3://{s3_bucket}/trove", **connection, **TIMEOUT
    ) as client:
        assert_misconfigured(
            await graphql_upload(client, b"hello"),
            "the object store rejects Trove's credentials",
            wrong_secret,
        )
        assert_misconfigured(
            await rest_upload(client, b"hello"),
            "the object store rejects Trove's credentials",
            wrong_secret,
            seaweedfs.connection["s3_access_key_id"],
        )
        assert (await client.data(COUNT))["assets"]["totalCount"] == 0
    assert wrong_secret not in caplog.text
    assert "S3 misconfigured" in caplog.text
    assert keys(seaweedfs, s3_bucket, "") == []

    # An unknown key id as well.
    connection = {**seaweedfs.connection, "s3_access_key_id": "nobody-" + uuid.uuid4().hex}
    async with app_factory(
        sqlite_url, storage_url=f"s3://{s3_bucket}/trove", **connection, **TIMEOUT
    ) as client:
        assert_misconfigured(
            await rest_upload(client, b"hello"), "the object store rejects Trove's credentials"
        )


async def test_a_bucket_that_goes_away_answers_503_for_reads(
    app_factory: Any, sqlite_url: str, seaweedfs: SeaweedFS
) -> None:
    bucket = seaweedfs.create_bucket()
    async with app_factory(
        sqlite_url, storage_url=f"s3://{bucket}/trove", **seaweedfs.connection, **TIMEOUT
    ) as client:
        asset = await upload(client, filename="gone.bin")
        seaweedfs.drop_bucket(bucket)  # The test server deletes non-empty buckets.
        assert not bucket_exists(seaweedfs, bucket)
        response = await client.http.get(path_of(asset["url"]))
        # Not "content missing" (an integrity fault): the whole bucket is.
        assert_misconfigured(response, "the storage bucket does not exist")
        deleted = await client.graphql(DELETE, {"id": asset["id"]})
        assert "the storage bucket does not exist" in deleted["errors"][0]["message"]
        assert (await client.data(COUNT))["assets"]["totalCount"] == 1


@pytest.mark.parametrize(
    ("code", "status", "expected"),
    [
        ("SlowDown", 503, StorageError),
        ("ServiceUnavailable", 503, StorageError),
        ("InternalError", 500, StorageError),
        ("500", 500, StorageError),
        ("QuotaExceeded", 403, StorageFull),
        ("EntityTooLarge", 400, StorageFull),
        ("XMinioStorageFull", 507, StorageFull),
        ("InsufficientStorage", 507, StorageFull),
        ("NoSuchBucket", 404, StorageMisconfigured),
        ("AccessDenied", 403, StorageMisconfigured),
        ("InvalidAccessKeyId", 403, StorageMisconfigured),
        ("PermanentRedirect", 301, StorageMisconfigured),
    ],
)
def test_s3_error_codes_map_to_the_storage_contract(
    code: str, status: int, expected: type[StorageError]
) -> None:
    """The codes SeaweedFS cannot be made to send here (throttling, quotas), in the shape
    botocore parses them into."""
    error = ClientError(
        {"Error": {"Code": code, "Message": "m"}, "ResponseMetadata": {"HTTPStatusCode": status}},
        "PutObject",
    )
    translated = translate_error(error, "receiving content", bucket="b", endpoint=None)
    assert type(translated) is expected


def test_errors_that_are_not_the_stores_pass_unchanged() -> None:
    not_found = ClientError(
        {"Error": {"Code": "NoSuchUpload"}, "ResponseMetadata": {"HTTPStatusCode": 404}},
        "CompleteMultipartUpload",
    )
    assert translate_error(not_found, "joining", bucket="b", endpoint=None) is None
    assert translate_error(ValueError("bug"), "joining", bucket="b", endpoint=None) is None


def test_trove_gc_says_the_store_is_unreachable_in_one_line(tmp_path: Path) -> None:
    """The CLI answers like the API: a sentence, not a traceback, and a failing exit."""
    import subprocess
    import sys

    from tests.conftest import ROOT, TEST_SECRET

    env = {
        "PATH": "/usr/bin:/bin",
        "TROVE_DATA_DIR": str(tmp_path / "data"),
        "TROVE_SECRET_KEY": TEST_SECRET,
        "TROVE_STORAGE_URL": "s3://trove/x",
        "TROVE_S3_ENDPOINT_URL": f"http://127.0.0.1:{free_port()}",
        "TROVE_S3_ACCESS_KEY_ID": "id",
        "TROVE_S3_SECRET_ACCESS_KEY": "not-to-be-printed",
        "TROVE_S3_TIMEOUT_SECONDS": "1",
    }
    result = subprocess.run(
        [sys.executable, "-m", "server.cli", "gc"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 1, result
    assert "Traceback" not in result.stderr, result.stderr
    assert "Error: cannot use the blob store: the object store could not be reached" in (
        result.stderr
    )
    assert "not-to-be-printed" not in result.stdout + result.stderr
