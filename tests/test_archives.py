"""Zip archives: assetArchiveUrl links, a folder's url, and REST's POST /api/assets/download,
through the HTTP app on SQLite and PostgreSQL."""

import io
import zipfile
from typing import Any
from urllib.parse import urlsplit

from tests.conftest import TroveClient


async def make(client: TroveClient, name: str, content: bytes, **fields: Any) -> dict[str, Any]:
    body = await client.upload(content, filename=name, selection="id name url", **fields)
    assert "errors" not in body, body
    return body["data"]["createAsset"]


async def folder(client: TroveClient, name: str, parent: str | None = None) -> dict[str, Any]:
    data = await client.data(
        "mutation($n: String!, $p: ID) { createFolder(input: {name: $n, parentId: $p}) { id url } }",
        {"n": name, "p": parent},
    )
    return data["createFolder"]


def members(body: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(body)) as archive:
        assert archive.testzip() is None
        return {info.filename: archive.read(info) for info in archive.infolist()}


def local(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}"


async def test_archive_url_streams_the_filter_as_a_zip(client: TroveClient) -> None:
    await make(client, "out.png", b"first", jobId="job-1")
    await make(client, "out.png", b"second", jobId="job-1")
    await make(client, "OUT.png", b"third", jobId="job-1")
    await make(client, "notes", b"fourth", jobId="job-1")
    await make(client, "notes", b"fifth", jobId="job-1")
    await make(client, "other.png", b"not this job", jobId="job-2")

    data = await client.data('{ assetArchiveUrl(filter: {jobId: "job-1"}) }')
    url = data["assetArchiveUrl"]
    assert url.startswith("http://testserver/archives/") and "signature=" in url
    response = await client.http.get(local(url))
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/zip"
    assert 'filename="job-job-1.zip"' in response.headers["content-disposition"]
    assert members(response.content) == {
        "out.png": b"first",
        "out (2).png": b"second",
        "OUT (3).png": b"third",
        "notes": b"fourth",
        "notes (2)": b"fifth",
    }

    # Tags and metadata select as in every AssetFilter; nothing matching is an empty zip.
    await client.data('mutation { tagAssets(filter: {jobId: "job-2"}, tags: ["keep"]) }')
    data = await client.data('{ assetArchiveUrl(filter: {tags: ["KEEP"]}) }')
    assert members((await client.http.get(local(data["assetArchiveUrl"]))).content) == {
        "other.png": b"not this job"
    }
    data = await client.data("{ assetArchiveUrl(filter: {metadata: {nothing: 1}}) }")
    assert members((await client.http.get(local(data["assetArchiveUrl"]))).content) == {}


async def test_archive_links_are_signed_and_expire(client: TroveClient) -> None:
    await make(client, "a.txt", b"a", jobId="j")
    url = local((await client.data('{ assetArchiveUrl(filter: {jobId: "j"}) }'))["assetArchiveUrl"])
    path, query = url.split("?", 1)
    # Another filter under the same signature is refused.
    forged = path[:-2] + ("AA" if not path.endswith("AA") else "BB")
    assert (await client.http.get(f"{forged}?{query}")).status_code == 403
    assert (await client.http.get(path)).status_code == 403
    expired = client.services.signer.sign(path, now=0)
    assert (await client.http.get(expired)).status_code == 403
    bad = client.services.signer.sign("/archives/not-a-token")
    response = await client.http.get(bad)
    assert response.status_code == 404 and response.json()["code"] == "NOT_FOUND"
    body = await client.graphql("{ assetArchiveUrl(filter: {metadata: [1]}) }")
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


async def test_a_folders_url_serves_the_archive_of_its_contents(client: TroveClient) -> None:
    top = await folder(client, "Top")
    inner = await folder(client, "Inner", top["id"])
    empty = await folder(client, "Empty", top["id"])
    await make(client, "a.txt", b"A", parentId=top["id"])
    await make(client, "a.txt", b"A2", parentId=top["id"])
    await make(client, "b.txt", b"B", parentId=inner["id"])
    await make(client, "outside.txt", b"no")
    assert empty

    response = await client.http.get(local(top["url"]))
    assert response.status_code == 200
    assert 'filename="Top.zip"' in response.headers["content-disposition"]
    assert members(response.content) == {
        "Inner/": b"",
        "Inner/b.txt": b"B",
        "Empty/": b"",
        "a.txt": b"A",
        "a (2).txt": b"A2",
    }
    with zipfile.ZipFile(io.BytesIO(response.content)) as archive:
        assert archive.getinfo("Inner/").is_dir()
    head = await client.http.head(local(top["url"]))
    assert head.status_code == 200 and head.headers["content-type"] == "application/zip"


async def test_rest_download_streams_the_given_assets(client: TroveClient) -> None:
    top = await folder(client, "Shots")
    a = await make(client, "x.png", b"1")
    b = await make(client, "x.png", b"2")
    await make(client, "x.png", b"in folder", parentId=top["id"])
    sub = await folder(client, "Shots")  # same name as the first folder
    await make(client, "y.png", b"in second", parentId=sub["id"])

    response = await client.http.post(
        "/api/assets/download",
        json={"asset_ids": [a["id"], b["id"], top["id"], sub["id"], a["id"]]},
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/zip"
    assert members(response.content) == {
        "x.png": b"1",
        "x (2).png": b"2",
        "Shots/": b"",
        "Shots/x.png": b"in folder",
        "Shots (2)/": b"",
        "Shots (2)/y.png": b"in second",
    }

    missing = "00000000-0000-7000-8000-000000000000"
    for body, status in (
        ({"asset_ids": [a["id"], missing]}, 404),
        ({"asset_ids": []}, 400),
        ({"asset_ids": "x"}, 400),
        ({}, 400),
        ({"asset_ids": ["not-an-id"]}, 404),
    ):
        refused = await client.http.post("/api/assets/download", json=body)
        assert refused.status_code == status, (body, refused.text)
        assert refused.json()["error"]
    form = await client.http.post("/api/assets/download", data={"asset_ids": a["id"]})
    assert form.status_code == 415
    assert (await client.http.get("/api/assets/download")).status_code == 405
