"""The built-in nodes: flags checked over the whole registry, and each node really run."""

from __future__ import annotations

import array
import io
import itertools
import json
import wave
from typing import Any, get_args

import pytest

from execution.node import list_item_type, ref_type
from execution.refs import AssetRef, AudioRef, DocumentRef, ImageRef, JSONRef, VideoRef
from execution.registry import NodeRegistry
from tests.conftest import TroveClient
from tests.test_execution_support import (
    download,
    edge,
    graph,
    image_of,
    node,
    png,
    run_job,
)

# These hand on assets that already exist (or store them explicitly), so there is nothing to
# auto-save.
PASS_THROUGH = {"asset.Load", "asset.Save", "input.Image"}
FEEDERS: dict[type[AssetRef], tuple[str, dict[str, Any]]] = {
    ImageRef: ("image.Create", {"width": 16, "height": 12, "color": "#336699"}),
    AudioRef: ("audio.Tone", {"duration": 0.05, "sample_rate": 8000}),
    VideoRef: ("video.TestPattern", {"width": 16, "height": 16, "duration": 0.25, "fps": 8}),
    # Any asset: a document holding an identity .cube LUT (what image.ApplyLUT needs).
    AssetRef: (
        "text.ToDocument",
        {
            "format": "plain",
            "text": "LUT_3D_SIZE 2\n"
            + "".join(f"{r} {g} {b}\n" for b in (0, 1) for g in (0, 1) for r in (0, 1)),
        },
    ),
}
EXPECTED_TYPES: dict[type[AssetRef], tuple[str, ...]] = {
    ImageRef: ("image/",),
    AudioRef: ("audio/",),
    VideoRef: ("video/",),
    DocumentRef: ("text/", "application/pdf"),
    JSONRef: ("application/json",),
}


def refs_in(annotation: Any) -> set[type[AssetRef]]:
    found = {ref_type(annotation)} - {None}
    for arg in get_args(annotation):
        found |= refs_in(arg)
    return found  # type: ignore[return-value]


def test_every_node_that_makes_assets_is_flagged() -> None:
    registry = NodeRegistry.discover()
    assert registry.errors == []
    for node_class in registry:
        spec = node_class.spec()
        makes_assets = any(refs_in(t) for t in spec.outputs.values())
        if spec.type in PASS_THROUGH:
            assert not node_class.auto_save_asset(), spec.type
        else:
            assert node_class.auto_save_asset() == makes_assets, spec.type
        assert node_class.auto_save_asset() == node_class.info().auto_save_asset


def flagged_node_graph() -> tuple[dict[str, Any], dict[str, set[type[AssetRef]]]]:
    """One graph running every auto-saving node, each fed by its own upstream nodes."""
    nodes: list[dict[str, Any]] = []
    edges: list[dict[str, Any]] = []
    produces: dict[str, set[type[AssetRef]]] = {}
    for node_class in NodeRegistry.discover():
        if not node_class.auto_save_asset():
            continue
        spec = node_class.spec()
        node_id = spec.type.replace(".", "-")
        nodes.append(node(node_id, spec.type))
        produces[node_id] = set().union(*(refs_in(t) for t in spec.outputs.values()))
        for name, field in node_class.model_fields.items():
            if not field.is_required():
                continue
            item = list_item_type(field.annotation)
            wanted = ref_type(item if item is not None else field.annotation)
            assert wanted in FEEDERS, f"{spec.type}.{name}: no sample input for {field.annotation}"
            feeder_type, data = FEEDERS[wanted]
            for i in range(2 if item is not None else 1):
                feeder_id = f"{node_id}-{name}-{i}"
                nodes.append(node(feeder_id, feeder_type, **data))
                edges.append(edge(feeder_id, node_id, name))
    return graph(nodes, edges), produces


ALL_ASSETS = (
    "query($jobId: String, $after: String) { assets(jobId: $jobId, first: 100, after: $after) { "
    "nodes { id name contentType nodeId } pageInfo { hasNextPage endCursor } } }"
)


async def all_job_assets(client: TroveClient, job_id: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    after = None
    while True:
        page = (await client.data(ALL_ASSETS, {"jobId": job_id, "after": after}))["assets"]
        found.extend(page["nodes"])
        if not page["pageInfo"]["hasNextPage"]:
            return found
        after = page["pageInfo"]["endCursor"]


async def test_every_flagged_node_produces_stored_assets(client: TroveClient) -> None:
    workflow, produces = flagged_node_graph()
    job = await run_job(client, graph=workflow)
    assert job["status"] == "COMPLETED", job

    saved = await all_job_assets(client, job["id"])
    by_node: dict[str, list[dict[str, Any]]] = {}
    for asset in saved:
        by_node.setdefault(asset["nodeId"], []).append(asset)
    missing = [node_id for node_id in produces if not by_node.get(node_id)]
    assert missing == [], f"flagged nodes that stored nothing: {missing}"
    for node_id, kinds in produces.items():
        allowed = tuple(prefix for kind in kinds for prefix in EXPECTED_TYPES[kind])
        for asset in by_node[node_id]:
            assert asset["contentType"].startswith(allowed), asset
            assert f"_{node_id[:8]}." in asset["name"], asset


def wav_samples(data: bytes) -> tuple[int, int, array.array[int]]:
    with wave.open(io.BytesIO(data)) as reader:
        frames = reader.readframes(reader.getnframes())
        return reader.getframerate(), reader.getnchannels(), array.array("h", frames)


async def outputs_of(client: TroveClient, nodes: list[dict[str, Any]], edges: list[Any]) -> Any:
    job = await run_job(client, graph=graph(nodes, edges))
    assert job["status"] == "COMPLETED", job
    return job["outputs"]


async def test_audio_nodes(sqlite_client: TroveClient) -> None:
    client = sqlite_client
    outputs = await outputs_of(
        client,
        [
            node(
                "tone", "audio.Tone", frequency=100, duration=0.5, sample_rate=8000, amplitude=0.25
            ),
            node("quiet", "audio.Silence", duration=0.25, sample_rate=16000),
            node("joined", "audio.Concat"),
            node("loud", "audio.Normalize", peak=1.0),
            node("o1", "control.Output", name="tone"),
            node("o2", "control.Output", name="joined"),
            node("o3", "control.Output", name="loud"),
        ],
        [
            edge("tone", "joined", "a"),
            edge("quiet", "joined", "b"),
            edge("tone", "loud", "audio"),
            edge("tone", "o1", "value"),
            edge("joined", "o2", "value"),
            edge("loud", "o3", "value"),
        ],
    )
    _, tone_bytes = await download(client, outputs["tone"]["url"])
    rate, channels, tone = wav_samples(tone_bytes)
    assert (rate, channels, len(tone)) == (8000, 1, 4000)
    assert max(tone) == pytest.approx(32767 * 0.25, abs=2)
    # A 100 Hz sine crosses zero upwards 100 times a second.
    rises = sum(1 for a, b in itertools.pairwise(tone) if a < 0 <= b)
    assert rises in (49, 50)

    _, joined_bytes = await download(client, outputs["joined"]["url"])
    rate, _, joined = wav_samples(joined_bytes)
    assert rate == 8000
    assert len(joined) == 4000 + 2000  # the silence, resampled to 8 kHz
    assert max(abs(s) for s in joined[4000:]) == 0

    _, loud_bytes = await download(client, outputs["loud"]["url"])
    assert max(abs(s) for s in wav_samples(loud_bytes)[2]) == 32767


OUTPUTS = ["paste", "crop", "blur", "grid", "text"]


async def test_image_nodes(sqlite_client: TroveClient) -> None:
    client = sqlite_client
    outputs = await outputs_of(
        client,
        [
            node("red", "image.Create", width=20, height=10, color="red"),
            node("blue", "image.Create", width=4, height=4, color="#0000ff"),
            node("paste", "image.Paste", x=2, y=3),
            node("crop", "image.Crop", left=1, top=2, width=5, height=4),
            node("blur", "image.Blur", radius=3),
            node("grid", "image.Grid", columns=2, gap=1, background="#00ff00"),
            node("text", "image.RenderText", text="Hi", width=64, height=32, font_size=20),
            *[node(f"o-{n}", "control.Output", name=n) for n in OUTPUTS],
        ],
        [
            edge("red", "paste", "image"),
            edge("blue", "paste", "overlay"),
            edge("paste", "crop", "image"),
            edge("paste", "blur", "image"),
            edge("red", "grid", "images"),
            edge("blue", "grid", "images"),
            edge("red", "grid", "images"),
            *[edge(n, f"o-{n}", "value") for n in OUTPUTS],
        ],
    )
    images = {
        name: image_of((await download(client, value["url"]))[1]).convert("RGB")
        for name, value in outputs.items()
    }
    assert images["paste"].size == (20, 10)
    assert images["paste"].getpixel((3, 4)) == (0, 0, 255)
    assert images["paste"].getpixel((10, 5)) == (255, 0, 0)
    assert images["crop"].size == (5, 4)
    assert images["crop"].getpixel((1, 1)) == (0, 0, 255)
    assert images["crop"].getpixel((0, 0)) == (255, 0, 0)
    blurred = images["blur"].getpixel((6, 5))
    assert blurred != (255, 0, 0) and blurred != (0, 0, 255)
    # Two columns of 20x10 cells with a 1 px gap, two rows for three images.
    assert images["grid"].size == (41, 21)
    assert images["grid"].getpixel((20, 0)) == (0, 255, 0)
    assert images["grid"].getpixel((21, 0)) == (0, 0, 255)
    assert images["grid"].getpixel((30, 15)) == (0, 255, 0)
    text = images["text"]
    assert text.size == (64, 32)
    assert {text.getpixel((x, y)) for x in range(64) for y in range(32)} > {(0, 0, 0)}


async def test_asset_load_and_input_image_check_the_stored_asset(
    sqlite_client: TroveClient,
) -> None:
    client = sqlite_client
    image_id = (await client.upload(png(6, 6, (9, 9, 9)), filename="a.png"))["data"]["createAsset"][
        "id"
    ]
    text_id = (await client.upload(b"just text", filename="a.txt"))["data"]["createAsset"]["id"]
    outputs = await outputs_of(
        client,
        [node("load", "asset.Load", asset_id=text_id), node("o", "control.Output", name="t")],
        [edge("load", "o", "value")],
    )
    assert outputs["t"]["id"] == text_id
    assert outputs["t"]["type"] == "text"
    assert outputs["t"]["contentType"] == "text/plain"

    workflow = graph([node("in", "input.Image", name="picture"), node("g", "image.Grayscale")])
    workflow["edges"] = [edge("in", "g", "image")]
    wrong = await run_job(client, graph=workflow, params={"picture": text_id})
    assert wrong["status"] == "FAILED" and wrong["failedNodeId"] == "in"
    assert "is text/plain, not an image" in wrong["error"]
    missing = await run_job(client, graph=workflow)
    assert "no image was given for input 'picture'" in missing["error"]
    right = await run_job(client, graph=workflow, params={"picture": image_id})
    assert right["status"] == "COMPLETED"


async def test_text_and_data_nodes(sqlite_client: TroveClient) -> None:
    client = sqlite_client
    outputs = await outputs_of(
        client,
        [
            node("fmt", "text.Format", template="{a} and {b:>3}", values={"a": "x", "b": 7}),
            node("doc", "text.ToDocument", format="plain"),
            node("json", "data.ToJSON", indent=0),
            node("wait", "control.Delay", seconds=0),
            node("o1", "control.Output", name="doc"),
            node("o2", "control.Output", name="json"),
            node("o3", "control.Output", name="text"),
        ],
        [
            edge("fmt", "doc", "text"),
            edge("doc", "json", "value"),
            edge("fmt", "wait", "trigger"),
            edge("wait", "o3", "value"),
            edge("doc", "o1", "value"),
            edge("json", "o2", "value"),
        ],
    )
    assert outputs["text"] == "x and   7"
    _, doc = await download(client, outputs["doc"]["url"])
    assert doc == b"x and   7"
    _, json_doc = await download(client, outputs["json"]["url"])
    assert json.loads(json_doc) == {
        "type": "document",
        "id": outputs["doc"]["id"],
        "contentType": "text/plain",
    }

    bad = await run_job(
        client, graph=graph([node("fmt", "text.Format", template="{a.__class__}", values={})])
    )
    assert bad["status"] == "FAILED"
    assert "is not a plain placeholder name" in bad["error"]
