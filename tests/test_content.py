"""GET /assets/{id}/content and /thumbnail: streaming, Range, ETag, signatures, safe types."""

import io
import time
from typing import Any
from urllib.parse import parse_qs, urlsplit

from PIL import Image

from tests.conftest import TroveClient
from tests.test_assets_api import png_bytes

PAYLOAD = bytes(range(256)) * 40  # 10,240 bytes


async def upload(client: TroveClient, content: bytes = PAYLOAD, **fields: Any) -> Any:
    body = await client.upload(content, selection="id name sha256 url thumbnailUrl", **fields)
    return body["data"]["createAsset"]


def path_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}"


async def test_full_download_with_headers(client: TroveClient) -> None:
    asset = await upload(client, filename="data ünïcode.bin")
    response = await client.http.get(path_of(asset["url"]))
    assert response.status_code == 200
    assert response.content == PAYLOAD
    assert response.headers["etag"] == f'"{asset["sha256"]}"'
    assert response.headers["accept-ranges"] == "bytes"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["content-length"] == str(len(PAYLOAD))
    disposition = response.headers["content-disposition"]
    # Unknown binary is not on the inline allowlist: a download.
    assert (
        disposition.startswith("attachment;")
        and "filename*=UTF-8''data%20%C3%BCn%C3%AFcode.bin" in disposition
    )


async def test_ranges(client: TroveClient) -> None:
    asset = await upload(client)
    url = path_of(asset["url"])
    size = len(PAYLOAD)
    cases = {
        "bytes=0-99": (0, 100),
        "bytes=100-": (100, size),
        "bytes=-50": (size - 50, size),
        f"bytes=10-{size + 500}": (10, size),
    }
    for header, (start, end) in cases.items():
        response = await client.http.get(url, headers={"Range": header})
        assert response.status_code == 206, header
        assert response.content == PAYLOAD[start:end], header
        assert response.headers["content-range"] == f"bytes {start}-{end - 1}/{size}"
    for header in (f"bytes={size}-", "bytes=-0", "bytes=50-10"):
        response = await client.http.get(url, headers={"Range": header})
        assert response.status_code == 416, header
        assert response.headers["content-range"] == f"bytes */{size}"
    ignored = await client.http.get(url, headers={"Range": "bytes=0-1,5-6"})
    assert ignored.status_code == 200 and ignored.content == PAYLOAD
    stale = await client.http.get(url, headers={"Range": "bytes=0-9", "If-Range": '"other"'})
    assert stale.status_code == 200 and len(stale.content) == size


async def test_etag_revalidation(client: TroveClient) -> None:
    asset = await upload(client)
    url = path_of(asset["url"])
    etag = (await client.http.get(url)).headers["etag"]
    cached = await client.http.get(url, headers={"If-None-Match": etag})
    assert cached.status_code == 304 and cached.content == b""
    changed = await client.http.get(url, headers={"If-None-Match": '"something-else"'})
    assert changed.status_code == 200


async def test_signatures_are_checked(client: TroveClient) -> None:
    asset = await upload(client)
    parts = urlsplit(asset["url"])
    query = parse_qs(parts.query)
    tampered_sig = query["signature"][0][:-1] + ("0" if query["signature"][0][-1] != "0" else "1")
    for bad in (
        f"{parts.path}?expires={query['expires'][0]}&signature={tampered_sig}",
        f"{parts.path}?expires={int(query['expires'][0]) + 60}&signature={query['signature'][0]}",
        f"{parts.path}?signature={query['signature'][0]}",
    ):
        response = await client.http.get(bad)
        assert response.status_code == 403, bad
        assert response.json()["code"] == "FORBIDDEN"
    signer = client.services.signer
    expired = signer.sign(parts.path, now=time.time() - 10 * signer.ttl_seconds)
    assert (await client.http.get(expired)).status_code == 403
    other = (await upload(client, b"other bytes"))["id"]
    borrowed = (
        f"/assets/{other}/content?expires={query['expires'][0]}&signature={query['signature'][0]}"
    )
    assert (await client.http.get(borrowed)).status_code == 403


async def test_active_content_is_never_rendered_inline(client: TroveClient) -> None:
    for content, name in (
        (b"<!DOCTYPE html><html><script>alert(1)</script></html>", "page.html"),
        (b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>', "image.svg"),
    ):
        asset = await upload(client, content, filename=name)
        response = await client.http.get(path_of(asset["url"]))
        assert response.headers["content-disposition"].startswith("attachment;")
        assert "sandbox" in response.headers["content-security-policy"]
        assert response.headers["x-content-type-options"] == "nosniff"
        # A client that lies about the type still cannot get it rendered inline.
    lying = await upload(
        client, b"<html><script>x</script></html>", filename="a.html", contentType="text/html"
    )
    response = await client.http.get(path_of(lying["url"]))
    assert response.headers["content-disposition"].startswith("attachment;")


async def test_thumbnails_for_images_only(client: TroveClient) -> None:
    image = await upload(client, png_bytes(1024, 512), filename="wide.png")
    assert image["thumbnailUrl"] is not None
    response = await client.http.get(path_of(image["thumbnailUrl"]))
    assert response.status_code == 200 and response.headers["content-type"] == "image/webp"
    with Image.open(io.BytesIO(response.content)) as thumb:
        assert thumb.size == (256, 128)
    again = await client.http.get(path_of(image["thumbnailUrl"]))
    assert again.content == response.content
    text = await upload(client, b"plain text", filename="a.txt")
    assert text["thumbnailUrl"] is None
    direct = await client.http.get(f"/assets/{text['id']}/thumbnail")
    assert direct.status_code == 404
    broken = await upload(
        client, b"\x89PNG\r\n\x1a\nbroken", filename="b.png", contentType="image/png"
    )
    assert (await client.http.get(path_of(broken["thumbnailUrl"]))).status_code == 415


async def test_unknown_and_folder_content(client: TroveClient) -> None:
    assert (
        await client.http.get("/assets/00000000-0000-7000-8000-000000000000/content")
    ).status_code == 404
    assert (await client.http.get("/assets/not-an-id/content")).status_code == 404
    folder = (await client.data('mutation { createFolder(input: {name: "f"}) { id } }'))[
        "createFolder"
    ]
    # A folder's content is the (streamed) zip of what it holds: tests/test_archives.py.
    empty = await client.http.get(f"/assets/{folder['id']}/content")
    assert empty.status_code == 200 and empty.headers["content-type"] == "application/zip"


async def test_head_and_empty_content(client: TroveClient) -> None:
    asset = await upload(client, b"", filename="empty.txt")
    response = await client.http.get(path_of(asset["url"]))
    assert response.status_code == 200 and response.content == b""
    head = await client.http.head(path_of((await upload(client))["url"]))
    assert head.status_code == 200 and head.headers["content-length"] == str(len(PAYLOAD))


async def test_public_url_is_the_base_of_links(app_factory: Any, sqlite_url: str) -> None:
    async with app_factory(sqlite_url, public_url="https://assets.example.com/") as client:
        asset = await upload(client)
        assert asset["url"].startswith("https://assets.example.com/assets/")
        assert (await client.http.get(path_of(asset["url"]))).content == PAYLOAD


def mp4_bytes(width: int, height: int, color: tuple[int, int, int], frames: int = 6) -> bytes:
    import av

    buffer = io.BytesIO()
    with av.open(buffer, mode="w", format="mp4") as container:
        stream = container.add_stream("libx264", rate=6)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        for _ in range(frames):
            frame = av.VideoFrame.from_image(Image.new("RGB", (width, height), color))
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return buffer.getvalue()


async def test_thumbnails_for_videos_and_none_for_vector_images(client: TroveClient) -> None:
    video = await upload(client, mp4_bytes(640, 360, (0, 200, 0)), filename="clip.mp4")
    assert video["thumbnailUrl"] is not None
    response = await client.http.get(path_of(video["thumbnailUrl"]))
    assert response.status_code == 200 and response.headers["content-type"] == "image/webp"
    with Image.open(io.BytesIO(response.content)) as thumb:
        assert thumb.size == (256, 144)
        pixel = thumb.convert("RGB").getpixel((128, 72))
        assert isinstance(pixel, tuple)
        red, green, blue = pixel[:3]
        assert green > 150 and red < 60 and blue < 60
    svg = await upload(client, b'<svg xmlns="http://www.w3.org/2000/svg"/>', filename="v.svg")
    assert svg["thumbnailUrl"] is None
    not_a_video = await upload(
        client, b"\x00\x00\x00\x18ftypmp42 broken", filename="x.mp4", contentType="video/mp4"
    )
    assert (await client.http.get(path_of(not_a_video["thumbnailUrl"]))).status_code == 415


async def test_only_allowlisted_passive_types_are_inline(client: TroveClient) -> None:
    """Stored XSS: an HTML page claimed as text/xsl (or any XML/script type) ran inline."""
    page = b"<html><body><script>document.title='owned'</script></body></html>"
    for claim in (
        "text/xsl",
        "application/rss+xml",
        "application/atom+xml",
        "text/x-javascript",
        "multipart/x-mixed-replace",
        "image/svg+xml",
        "video/x-evil+xml",
        "application/xhtml+xml",
        "text/cache-manifest",
        "application/x-shockwave-flash",
    ):
        asset = await upload(client, page, filename="page", contentType=claim)
        response = await client.http.get(path_of(asset["url"]))
        assert response.status_code == 200, claim
        assert response.headers["content-disposition"].startswith("attachment;"), claim
        assert response.headers["content-security-policy"].startswith("sandbox"), claim
        assert response.headers["x-content-type-options"] == "nosniff", claim
    for claim in (
        "image/png",
        "image/jpeg",
        "audio/mpeg",
        "video/mp4",
        "text/plain",
        "application/pdf",
        "application/json",
    ):
        asset = await upload(client, b"bytes", filename="f", contentType=claim)
        response = await client.http.get(path_of(asset["url"]))
        assert response.headers["content-disposition"].startswith("inline;"), claim
        assert response.headers["x-content-type-options"] == "nosniff", claim
        assert "content-security-policy" not in response.headers, claim


async def test_a_missing_blob_is_a_clear_error_not_a_dropped_connection(
    client: TroveClient, caplog: Any
) -> None:
    import logging

    asset = await upload(client, png_bytes(8, 8), filename="lost.png")
    storage = client.services.assets.storage
    storage.path_of(asset["sha256"]).unlink()
    with caplog.at_level(logging.ERROR):
        for method in ("GET", "HEAD"):
            for link in (asset["url"], asset["thumbnailUrl"]):
                response = await client.http.request(method, path_of(link))
                assert response.status_code == 500, (method, link)
                assert response.headers["content-type"] == "application/json"
                if method == "GET":
                    body = response.json()
                    assert body["code"] == "CONTENT_MISSING"
                    assert "missing from storage" in body["error"]
                    assert body["requestId"] == response.headers["x-request-id"]
    integrity = [r for r in caplog.records if r.getMessage().startswith("integrity:")]
    assert integrity and asset["sha256"] in integrity[0].getMessage()
    assert integrity[0].request_id != "-"
