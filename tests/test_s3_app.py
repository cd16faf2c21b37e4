"""The whole app on S3 storage (a real SeaweedFS): uploads, content with Range, thumbnails,
deletes, start-up recovery and presigned downloads."""

import hashlib
import io
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from PIL import Image

from models import User
from server.settings import Settings
from storage.s3 import _HOST, S3BlobStorage
from tests.conftest import TroveClient
from tests.test_assets_api import png_bytes
from tests.test_content import PAYLOAD, mp4_bytes, path_of, upload
from tests.test_storage_contract import dead_pid


@pytest.fixture
async def s3_client(
    app_factory: Any, database_url: str, seaweedfs: Any, s3_bucket: str
) -> AsyncIterator[TroveClient]:
    async with app_factory(
        database_url, storage_url=f"s3://{s3_bucket}/trove", **seaweedfs.connection
    ) as trove:
        yield trove


def bucket_keys(seaweedfs: Any, bucket: str, prefix: str = "") -> list[str]:
    listing = seaweedfs.client().list_objects_v2(Bucket=bucket, Prefix=prefix)
    return sorted(item["Key"] for item in listing.get("Contents", []))


def test_storage_url_is_validated() -> None:
    with pytest.raises(ValueError, match="s3://bucket/prefix"):
        Settings(storage_url="ftp://somewhere")
    with pytest.raises(ValueError, match="names no bucket"):
        Settings(storage_url="s3:///prefix")


def test_s3_connection_falls_back_to_aws_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:1")
    monkeypatch.setenv("AWS_REGION", "eu-west-3")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "from-aws")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "aws-secret")
    connection = Settings(s3_access_key_id="from-trove").s3_connection()
    assert connection == {
        "endpoint_url": "http://127.0.0.1:1",
        "region": "eu-west-3",
        "access_key_id": "from-trove",
        "secret_access_key": "aws-secret",
    }


async def test_upload_and_download_with_ranges(
    s3_client: TroveClient, seaweedfs: Any, s3_bucket: str
) -> None:
    assert isinstance(s3_client.services.assets.storage, S3BlobStorage)
    asset = await upload(s3_client, filename="data.bin")
    digest = hashlib.sha256(PAYLOAD).hexdigest()
    assert asset["sha256"] == digest
    # Content-addressed under the prefix, nothing else left behind.
    assert bucket_keys(seaweedfs, s3_bucket) == [f"trove/blobs/{digest}"]
    url = path_of(asset["url"])
    response = await s3_client.http.get(url)
    assert response.status_code == 200 and response.content == PAYLOAD
    assert response.headers["etag"] == f'"{digest}"'
    ranged = await s3_client.http.get(url, headers={"Range": "bytes=100-199"})
    assert ranged.status_code == 206 and ranged.content == PAYLOAD[100:200]
    suffix = await s3_client.http.get(url, headers={"Range": "bytes=-10"})
    assert suffix.content == PAYLOAD[-10:]


async def test_thumbnails_of_images_and_videos(s3_client: TroveClient) -> None:
    image = await upload(s3_client, png_bytes(600, 300), filename="wide.png")
    response = await s3_client.http.get(path_of(image["thumbnailUrl"]))
    assert response.status_code == 200
    with Image.open(io.BytesIO(response.content)) as thumb:
        assert thumb.size == (256, 128)
    video = await upload(s3_client, mp4_bytes(640, 360, (0, 200, 0)), filename="clip.mp4")
    assert video["thumbnailUrl"] is not None
    response = await s3_client.http.get(path_of(video["thumbnailUrl"]))
    assert response.status_code == 200 and response.headers["content-type"] == "image/webp"
    with Image.open(io.BytesIO(response.content)) as thumb:
        assert thumb.size == (256, 144)


async def test_deleting_the_last_asset_deletes_the_object(
    s3_client: TroveClient, seaweedfs: Any, s3_bucket: str
) -> None:
    first = await upload(s3_client, b"shared bytes", filename="a.txt")
    second = await upload(s3_client, b"shared bytes", filename="b.txt")
    delete = "mutation($id: ID!) { deleteAsset(id: $id) { deletedCount } }"
    await s3_client.data(delete, {"id": first["id"]})
    assert bucket_keys(seaweedfs, s3_bucket, "trove/blobs/") != []
    await s3_client.data(delete, {"id": second["id"]})
    assert bucket_keys(seaweedfs, s3_bucket, "trove/") == []


async def test_start_up_cleans_dead_writers_and_restores_trash(
    app_factory: Any, sqlite_url: str, seaweedfs: Any, s3_bucket: str
) -> None:
    settings = {"storage_url": f"s3://{s3_bucket}/trove", **seaweedfs.connection}
    async with app_factory(sqlite_url, **settings) as trove:
        owner = await User.get(name="local")

        async def body() -> AsyncIterator[bytes]:
            yield b"kept"

        kept = await trove.services.assets.create_asset(owner=owner, content=body(), name="k")
    dead_writer = f"{_HOST}-{dead_pid()}-{int(time.time())}"
    client = seaweedfs.client()
    # A delete that moved the blob aside and died before its row change committed ...
    client.copy_object(
        Bucket=s3_bucket,
        Key=f"trove/.trash/{dead_writer}.x.{kept.sha256}",
        CopySource={"Bucket": s3_bucket, "Key": f"trove/blobs/{kept.sha256}"},
    )
    client.delete_object(Bucket=s3_bucket, Key=f"trove/blobs/{kept.sha256}")
    # ... and an upload that died half way.
    client.create_multipart_upload(Bucket=s3_bucket, Key=f"trove/.staging/{dead_writer}.y")
    async with app_factory(sqlite_url, **settings) as trove:
        response = await trove.http.get(f"/assets/{kept.id}/content")
        assert response.content == b"kept"
    assert bucket_keys(seaweedfs, s3_bucket, "trove/") == [f"trove/blobs/{kept.sha256}"]
    uploads = client.list_multipart_uploads(Bucket=s3_bucket, Prefix="trove/")
    assert uploads.get("Uploads", []) == []


async def test_presigned_downloads_redirect_to_the_bucket(
    app_factory: Any, sqlite_url: str, seaweedfs: Any, s3_bucket: str, tmp_path: Path
) -> None:
    async with app_factory(
        sqlite_url,
        storage_url=f"s3://{s3_bucket}",
        s3_presigned_downloads=True,
        **seaweedfs.connection,
    ) as trove:
        asset = await upload(trove, PAYLOAD, filename="report.bin")
        response = await trove.http.get(path_of(asset["url"]))
        assert response.status_code == 307
        location = response.headers["location"]
        assert location.startswith(seaweedfs.endpoint)
        assert response.headers["cache-control"] == "private, no-store"
        # HEAD still answers from the row, without a trip to the bucket.
        assert (await trove.http.head(path_of(asset["url"]))).status_code == 200
    async with httpx.AsyncClient() as http:
        direct = await http.get(location)
        assert direct.status_code == 200 and direct.content == PAYLOAD
        assert "report.bin" in direct.headers["content-disposition"]
        ranged = await http.get(location, headers={"Range": "bytes=0-9"})
        assert ranged.status_code == 206 and ranged.content == PAYLOAD[:10]
