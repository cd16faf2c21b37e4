"""Media facts read on save and previews for audio and PDF, through the HTTP app on SQLite
and PostgreSQL."""

import io
import math
import struct
import wave
from typing import Any
from urllib.parse import urlsplit

import pypdfium2 as pdfium
from PIL import Image

from tests.conftest import TroveClient
from tests.test_content import mp4_bytes

SELECTION = (
    "id contentType thumbnailUrl media { width height durationSeconds frameRate sampleRate "
    "channels pageCount }"
)


async def save(client: TroveClient, content: bytes, name: str, **fields: Any) -> dict[str, Any]:
    body = await client.upload(content, filename=name, selection=SELECTION, **fields)
    assert "errors" not in body, body
    return body["data"]["createAsset"]


def wav_bytes(seconds: float = 1.0, rate: int = 16000, channels: int = 2) -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(channels)
        out.setsampwidth(2)
        out.setframerate(rate)
        frames = bytearray()
        for i in range(int(seconds * rate)):
            # A tone that swells: the waveform is small on the left, large on the right.
            value = int(20000 * (i / (seconds * rate)) * math.sin(2 * math.pi * 440 * i / rate))
            frames += struct.pack("<h", value) * channels
        out.writeframes(bytes(frames))
    return buffer.getvalue()


def pdf_bytes(pages: int) -> bytes:
    document = pdfium.PdfDocument.new()
    for _ in range(pages):
        document.new_page(595, 842)  # A4 in points
    buffer = io.BytesIO()
    document.save(buffer)
    document.close()
    return buffer.getvalue()


def png_bytes(width: int, height: int) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (10, 20, 30)).save(buffer, format="PNG")
    return buffer.getvalue()


def local(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}"


async def thumbnail(client: TroveClient, asset: dict[str, Any]) -> Image.Image:
    response = await client.http.get(local(asset["thumbnailUrl"]))
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "image/webp"
    image = Image.open(io.BytesIO(response.content))
    image.load()
    return image


async def test_facts_of_images_video_audio_and_pdf(client: TroveClient) -> None:
    image = await save(client, png_bytes(64, 48), "a.png")
    assert image["media"] == {
        "width": 64,
        "height": 48,
        "durationSeconds": None,
        "frameRate": None,
        "sampleRate": None,
        "channels": None,
        "pageCount": None,
    }
    video = await save(client, mp4_bytes(320, 240, (0, 0, 200), frames=12), "clip.mp4")
    assert video["media"]["width"] == 320 and video["media"]["height"] == 240
    assert video["media"]["frameRate"] == 6
    assert abs(video["media"]["durationSeconds"] - 2.0) < 0.2

    audio = await save(client, wav_bytes(1.5, 16000, 2), "tone.wav")
    assert audio["contentType"].startswith("audio/")
    assert audio["media"]["sampleRate"] == 16000 and audio["media"]["channels"] == 2
    assert abs(audio["media"]["durationSeconds"] - 1.5) < 0.01
    assert audio["media"]["width"] is None

    pdf = await save(client, pdf_bytes(3), "doc.pdf")
    assert pdf["contentType"] == "application/pdf"
    assert pdf["media"]["pageCount"] == 3

    # REST shows the same facts (snake_case as stored).
    rest = (await client.http.get(f"/api/assets/{pdf['id']}")).json()
    assert rest["media"] == {"page_count": 3}


async def test_odd_files_are_saved_without_facts(client: TroveClient) -> None:
    for content, name, claim in (
        (b"RIFF\x00\x00\x00\x00WAVEnot really", "bad.wav", "audio/wav"),
        (b"%PDF-1.7 broken", "bad.pdf", "application/pdf"),
        (b"\x89PNG\r\n\x1a\n truncated", "bad.png", "image/png"),
        (b"\x00\x00\x00\x18ftypmp42 broken", "bad.mp4", "video/mp4"),
    ):
        asset = await save(client, content, name, contentType=claim)
        assert asset["media"] is None, name
    # Over the time budget: the save goes on without facts.
    client.services.assets.media.budget_seconds = 0
    late = await save(client, png_bytes(10, 10), "late.png")
    assert late["media"] is None


async def test_previews_of_audio_and_pdf(client: TroveClient) -> None:
    audio = await save(client, wav_bytes(1.0), "tone.wav")
    assert audio["thumbnailUrl"] is not None
    with await thumbnail(client, audio) as wave_image:
        assert wave_image.size == (256, 96)
        rgb = wave_image.convert("RGB")

        # The tone swells: more of the right edge is drawn than of the left.
        def drawn(x: int) -> int:
            count = 0
            for y in range(96):
                pixel = rgb.getpixel((x, y))
                assert isinstance(pixel, tuple)
                count += int(pixel[2] > 200 and pixel[0] < 120)
            return count

        assert drawn(250) > drawn(5)

    pdf = await save(client, pdf_bytes(2), "doc.pdf")
    with await thumbnail(client, pdf) as page:
        assert page.size[1] == 256 and 170 < page.size[0] < 190  # A4's shape, white page
        pixel = page.convert("RGB").getpixel((90, 128))
        assert isinstance(pixel, tuple) and min(pixel[:3]) > 240

    broken = await save(client, b"%PDF-1.7 broken", "bad.pdf", contentType="application/pdf")
    response = await client.http.get(local(broken["thumbnailUrl"]))
    assert response.status_code == 415 and response.json()["error"]
