"""`make gallery`: run every image node on one sample picture through the real runner (an
in-process job on a throwaway SQLite database) and write docs/gallery.md with the results.

Each image in docs/gallery/ is exactly what the node stored, converted to PNG for the page.
"""

from __future__ import annotations

import asyncio
import io
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from PIL import Image

from execution.node import ref_type
from execution.refs import ImageRef
from execution.registry import NodeRegistry
from tests import node_samples

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "docs" / "gallery"
PAGE = ROOT / "docs" / "gallery.md"
SIDE = (160, 120)
# Settings that show a node off better than its defaults on a small picture.
SHOWCASE: dict[str, dict[str, Any]] = {
    "image.Scale": {"factor": 0.5},
    "image.Fit": {"width": 120, "height": 120, "mode": "pad", "color": "#202020"},
    "image.Rotate": {"angle": 20},
    "image.Crop": {"left": 40, "top": 30, "width": 80, "height": 60},
    "image.Resize": {"width": 80, "height": 120},
    "image.Pixelate": {"block": 10},
    "image.Posterize": {"bits": 2},
    "image.Dither": {"colors": 2},
    "image.ConvertFormat": {"format": "jpeg", "quality": 10},
    "image.MaskFromColor": {"color": "#ebe1c8", "tolerance": 20},
    "image.BoxBlur": {"radius": 3},
    "image.Blur": {"radius": 3},
    "image.MedianFilter": {"size": 7},
    "image.ModeFilter": {"size": 7},
    "image.MinFilter": {"size": 5},
    "image.MaxFilter": {"size": 5},
    "image.FilmGrain": {"amount": 0.15},
    "image.Levels": {"in_black": 40, "in_white": 200, "gamma": 1.2},
    "image.Tint": {"color": "#3399ff", "amount": 0.7},
    "image.LiftGammaGain": {"lift": 0.15, "gamma": 1.3, "gain": 0.85},
    "image.WhiteBalance": {"mode": "manual", "temperature": 60},
    "image.Curves": {"points": [[0, 0], [64, 24], [192, 232], [255, 255]]},
    "library.ChartRenderer": {
        "kind": "bar",
        "width": 320,
        "height": 240,
        "x": "month",
        "y": ["sales", "costs"],
        "data": [
            {"month": "Jan", "sales": 3, "costs": 2},
            {"month": "Feb", "sales": 5, "costs": 3},
            {"month": "Mar", "sales": 4, "costs": 4},
        ],
        "title": "ChartRenderer",
    },
    "library.PlotArray": {
        "values": [[(x * y) % 7 for x in range(12)] for y in range(8)],
        "kind": "heatmap",
        "width": 320,
        "height": 240,
    },
    "library.QRCode": {"data": "https://example.com/trove", "scale": 4},
    "image.RenderText": {"text": "Trove", "width": 160, "height": 60},
}
SKIP = {"image.Create", "image.Frames", "input.Image"}


def gallery_nodes() -> list[tuple[str, dict[str, Any], bool]]:
    """(type, data, takes the sample picture) for every node that outputs one image and
    needs nothing but an image (or nothing at all)."""
    found = []
    for node_class in NodeRegistry.discover():
        spec = node_class.spec()
        if spec.type in SKIP or spec.streaming or list(spec.outputs.values()) != [ImageRef]:
            continue
        required = [n for n, f in node_class.model_fields.items() if f.is_required()]
        takes_image = required == ["image"]
        if required and not takes_image:
            continue
        if takes_image and ref_type(node_class.model_fields["image"].annotation) is not ImageRef:
            continue
        found.append((spec.type, SHOWCASE.get(spec.type, {}), takes_image))
    return sorted(found)


async def render(work: Path) -> list[tuple[str, dict[str, Any], bytes]]:
    from execution.local import run_to_completion
    from models import User, db
    from server.app import build_services
    from server.settings import Settings

    url = f"sqlite://{work / 'trove.db'}"
    settings = Settings(data_dir=work, database_url=url, secret_key="gallery")
    await db.connect(url)
    try:
        await db.apply_migrations(url)
        services = build_services(settings)
        owner, _ = await User.get_or_create(name="gallery")
        picture = node_samples.png(node_samples.photo(*SIDE))

        async def once() -> AsyncIterator[bytes]:
            yield picture

        source = await services.assets.create_asset(owner=owner, content=once(), name="sample.png")
        chosen = gallery_nodes()
        nodes: list[dict[str, Any]] = [
            {"id": "sample", "type": "asset.Load", "data": {"asset_id": str(source.id)}}
        ]
        edges = []
        for index, (node_type, data, takes_image) in enumerate(chosen):
            nodes.append({"id": f"n{index}", "type": node_type, "data": data})
            nodes.append(
                {"id": f"o{index}", "type": "control.Output", "data": {"name": f"n{index}"}}
            )
            edges.append({"source": f"n{index}", "target": f"o{index}", "targetHandle": "value"})
            if takes_image:
                edges.append({"source": "sample", "target": f"n{index}", "targetHandle": "image"})
        job = await run_to_completion(
            services=services, owner=owner, graph={"nodes": nodes, "edges": edges}
        )
        assert job.status == "COMPLETED", job.error
        results: list[tuple[str, dict[str, Any], bytes]] = [("sample", {}, picture)]
        for index, (node_type, data, _) in enumerate(chosen):
            asset = await services.assets.get(owner=owner, asset_id=job.outputs[f"n{index}"]["id"])
            content = b"".join([c async for c in services.assets.read_content(asset)])
            results.append((node_type, data, content))
        return results
    finally:
        await db.disconnect()


def write_page(results: list[tuple[str, dict[str, Any], bytes]]) -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    for old in OUT.glob("*.png"):
        old.unlink()
    rows = []
    for node_type, data, content in results:
        image = Image.open(io.BytesIO(content))
        file = OUT / f"{node_type.replace('.', '-')}.png"
        image.save(file, "PNG", optimize=True)
        settings = ", ".join(f"{k}={v}" for k, v in data.items() if k != "data" and k != "values")
        label = "the sample picture" if node_type == "sample" else f"`{node_type}`"
        if node_type == "sample":
            settings = "the input of the nodes below that take an image"
        rows.append(f"| {label} | {settings or 'defaults'} | ![{node_type}](gallery/{file.name}) |")
    PAGE.write_text(
        "# Node gallery\n\n"
        "What the image-producing nodes make, each run through the workflow runner on the "
        f"{SIDE[0]} x {SIDE[1]} sample picture in the first row (or from its own properties). "
        "Generated by `make gallery` (tests/make_gallery.py); see [the node reference]"
        "(nodes.md#built-in-nodes) for every property.\n\n"
        "| node | settings | output |\n| --- | --- | --- |\n" + "\n".join(rows) + "\n"
    )
    print(f"wrote {len(rows)} images to {OUT} and {PAGE}")


def main() -> None:
    with tempfile.TemporaryDirectory() as work:
        write_page(asyncio.run(render(Path(work))))


if __name__ == "__main__":
    main()
