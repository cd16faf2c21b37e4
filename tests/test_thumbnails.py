"""Thumbnail bombs (services/thumbnails.py): the pixel budget is checked on the header,
failures are remembered, the same content renders once, and renders are bounded."""

import asyncio
import io
from typing import Any

from PIL import Image

from tests.conftest import TroveClient
from tests.test_assets_api import png_bytes
from tests.test_content import path_of, upload


def huge_png(side: int = 14000) -> bytes:
    """196 megapixels in a few hundred KB: a one-bit image compresses to almost nothing."""
    out = io.BytesIO()
    Image.new("1", (side, side)).save(out, "PNG")
    return out.getvalue()


class RenderSpy:
    """Counts the renders that really run (and how many at once) around the real renderer."""

    def __init__(self, client: TroveClient, delay: float = 0.0) -> None:
        renderer = client.services.thumbnails.renderers[0]
        self.original = renderer.render
        self.calls = 0
        self.running = 0
        self.most_at_once = 0
        self.delay = delay
        renderer.render = self.render

    async def render(self, asset: Any, source: Any) -> bytes:
        self.calls += 1
        self.running += 1
        self.most_at_once = max(self.most_at_once, self.running)
        try:
            await asyncio.sleep(self.delay)
            result: bytes = await self.original(asset, source)
            return result
        finally:
            self.running -= 1


async def test_images_over_the_pixel_budget_are_refused_from_their_header(
    client: TroveClient,
) -> None:
    bomb = huge_png()
    assert len(bomb) < 700_000
    asset = await upload(client, bomb, filename="bomb.png")
    assert asset["thumbnailUrl"] is not None
    spy = RenderSpy(client)
    for _ in range(3):
        response = await client.http.get(path_of(asset["thumbnailUrl"]))
        assert response.status_code == 415
        body = response.json()
        assert body["code"] == "UNSUPPORTED_MEDIA_TYPE"
        assert "14000x14000 (196 megapixels)" in body["error"]
        assert "50 megapixels" in body["error"]
    # Refused once, then remembered.
    assert spy.calls == 1


async def test_a_broken_image_costs_one_attempt(client: TroveClient) -> None:
    whole = png_bytes(2000, 2000)
    truncated = whole[: len(whole) // 2]
    asset = await upload(client, truncated, filename="cut.png", contentType="image/png")
    spy = RenderSpy(client)
    for _ in range(3):
        response = await client.http.get(path_of(asset["thumbnailUrl"]))
        assert response.status_code == 415
        assert response.json()["error"] == "This image cannot be previewed"
    assert spy.calls == 1


async def test_the_same_content_renders_once_and_renders_are_bounded(
    app_factory: Any, sqlite_url: str
) -> None:
    async with app_factory(sqlite_url, thumbnail_concurrency=1) as client:
        same = await upload(client, png_bytes(640, 480), filename="same.png")
        spy = RenderSpy(client, delay=0.2)
        responses = await asyncio.gather(
            *(client.http.get(path_of(same["thumbnailUrl"])) for _ in range(4))
        )
        assert [r.status_code for r in responses] == [200] * 4
        assert len({r.content for r in responses}) == 1
        assert spy.calls == 1

        others = [
            await upload(client, png_bytes(64 + i, 64), filename=f"{i}.png") for i in range(3)
        ]
        responses = await asyncio.gather(
            *(client.http.get(path_of(asset["thumbnailUrl"])) for asset in others)
        )
        assert [r.status_code for r in responses] == [200] * 3
        assert spy.calls == 4
        assert spy.most_at_once == 1


async def test_the_pixel_budget_is_a_setting(app_factory: Any, sqlite_url: str) -> None:
    async with app_factory(sqlite_url, thumbnail_max_pixels=64 * 64) as client:
        small = await upload(client, png_bytes(64, 64), filename="ok.png")
        assert (await client.http.get(path_of(small["thumbnailUrl"]))).status_code == 200
        large = await upload(client, png_bytes(65, 64), filename="big.png")
        refused = await client.http.get(path_of(large["thumbnailUrl"]))
        assert refused.status_code == 415
        assert "65x64" in refused.json()["error"]
