"""How the runner schedules, streams and auto-saves, shown with nodes written for the test.

The nodes are registered on the running app's registry, as a plugin's would be.
"""

import asyncio
import dataclasses
import time
from collections import defaultdict
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any, ClassVar, TypedDict

import pytest
from PIL import Image
from pydantic import BaseModel

from execution import BaseNode, ImageRef, ProcessingContext, TextRef
from tests.conftest import TroveClient
from tests.test_execution_support import (
    download,
    edge,
    graph,
    image_of,
    job_assets,
    node,
    run_job,
)


class StreamProbe(BaseNode):
    """Emits images; before each one, checks the previous emission is already stored."""

    _auto_save_asset = True
    _namespace = "testing"

    count: int = 3

    async def process(self, context: ProcessingContext) -> AsyncIterator[ImageRef]:
        for i in range(self.count):
            stored = await context.get_assets_by_node(self.id)
            of_this_job = [a for a in stored if a.job_id == context.job_id]
            if len(of_this_job) != i:
                raise RuntimeError(f"{len(of_this_job)} stored before emission {i}")
            yield await context.image_to_ref(Image.new("RGB", (4, 4), (i, i, i)))


class Rendezvous(BaseNode):
    """Waits until `parties` nodes with the same key are running at the same time."""

    _namespace = "testing"
    arrived: ClassVar[dict[str, int]] = defaultdict(int)

    key: str
    parties: int
    patience: float = 10.0

    async def process(self, context: ProcessingContext) -> int:
        slot = f"{context.job_id}:{self.key}"
        Rendezvous.arrived[slot] += 1
        deadline = time.monotonic() + self.patience
        while Rendezvous.arrived[slot] < self.parties:
            if time.monotonic() > deadline:
                raise RuntimeError(f"only {Rendezvous.arrived[slot]} of {self.parties} arrived")
            await asyncio.sleep(0.01)
        return Rendezvous.arrived[slot]


@dataclasses.dataclass(frozen=True)
class Pair:
    left: ImageRef
    right: ImageRef


class Album(BaseModel):
    title: str
    cover: ImageRef
    pages: list[ImageRef]


class NestedOutputs(TypedDict):
    pair: Pair
    album: Album
    notes: dict[str, Any]


class Nested(BaseNode):
    """References deep inside dataclasses, models, tuples and dicts."""

    _auto_save_asset = True
    _namespace = "testing"

    async def process(self, context: ProcessingContext) -> NestedOutputs:
        def image(shade: int) -> ImageRef:
            return ImageRef(data=context.image_to_bytes(Image.new("L", (2, 2), shade)))

        shared = image(50)
        return {
            "pair": Pair(left=image(10), right=image(20)),
            "album": Album(title="a", cover=shared, pages=[image(30), shared]),
            "notes": {"readme": (TextRef(data=b"plain words"),), "count": 2},
        }


class Untracked(BaseNode):
    """Produces a reference but does not ask for auto-save."""

    _namespace = "testing"

    async def process(self, context: ProcessingContext) -> ImageRef:
        return ImageRef(data=context.image_to_bytes(Image.new("RGB", (2, 2))))


@pytest.fixture
def runner_client(client: TroveClient) -> TroveClient:
    registry = client.services.jobs.executor.registry
    for node_class in (StreamProbe, Rendezvous, Nested, Untracked):
        registry.register(node_class)
    return client


async def test_streamed_assets_are_saved_as_they_are_emitted(runner_client: TroveClient) -> None:
    client = runner_client
    workflow = graph(
        [
            node("probe", "testing.StreamProbe", count=3),
            node("grid", "image.Grid", columns=3),
            node("out", "control.Output", name="frames"),
        ],
        [edge("probe", "grid", "images"), edge("probe", "out", "value")],
    )
    job = await run_job(client, graph=workflow)
    assert job["status"] == "COMPLETED", job
    saved = await job_assets(client, nodeId="probe", jobId=job["id"])
    assert len(saved) == 3
    assert [frame["id"] for frame in job["outputs"]["frames"]] == [a["id"] for a in saved]
    grid = (await job_assets(client, nodeId="grid", jobId=job["id"]))[0]
    _, content = await download(client, grid["url"])
    assert image_of(content).size == (12, 4)


async def test_independent_nodes_run_at_the_same_time(runner_client: TroveClient) -> None:
    workflow = graph(
        [node(f"r{i}", "testing.Rendezvous", key="k", parties=3) for i in range(3)]
        + [node("out", "control.Output", name="met")],
        [edge("r2", "out", "value")],
    )
    job = await run_job(runner_client, graph=workflow)
    assert job["status"] == "COMPLETED", job
    assert job["outputs"] == {"met": 3}


async def test_concurrency_is_bounded(runner_client: TroveClient) -> None:
    bound = runner_client.services.jobs.executor.max_parallel_nodes
    workflow = graph(
        [
            node(f"r{i}", "testing.Rendezvous", key="k", parties=bound + 1, patience=0.3)
            for i in range(bound + 1)
        ]
    )
    job = await run_job(runner_client, graph=workflow)
    assert job["status"] == "FAILED"
    assert f"only {bound} of {bound + 1} arrived" in job["error"]


async def test_references_nested_anywhere_are_saved(runner_client: TroveClient) -> None:
    client = runner_client
    workflow = graph(
        [
            node("nested", "testing.Nested"),
            node("album", "control.Output", name="album"),
            node("notes", "control.Output", name="notes"),
        ],
        [
            edge("nested", "album", "value", source_handle="album"),
            edge("nested", "notes", "value", source_handle="notes"),
        ],
    )
    job = await run_job(client, graph=workflow)
    assert job["status"] == "COMPLETED", job
    saved = {a["name"]: a for a in await job_assets(client, jobId=job["id"])}
    assert sorted(saved) == [
        "Nested_album-cover_nested.png",
        "Nested_album-pages-0_nested.png",
        "Nested_notes-readme-0_nested.txt",
        "Nested_pair-left_nested.png",
        "Nested_pair-right_nested.png",
    ]
    album = job["outputs"]["album"]
    assert album["title"] == "a"
    # One object reached twice is stored once, and both places point at it.
    assert album["cover"]["id"] == album["pages"][1]["id"]
    assert album["cover"]["id"] == saved["Nested_album-cover_nested.png"]["id"]
    readme = job["outputs"]["notes"]["readme"][0]
    assert readme["contentType"] == "text/plain"
    _, text = await download(client, readme["url"])
    assert text == b"plain words"


async def test_nodes_without_the_flag_save_nothing(runner_client: TroveClient) -> None:
    workflow = graph(
        [node("raw", "testing.Untracked"), node("out", "control.Output", name="raw")],
        [edge("raw", "out", "value")],
    )
    job = await run_job(runner_client, graph=workflow)
    assert job["status"] == "COMPLETED", job
    assert await job_assets(runner_client, jobId=job["id"]) == []
    assert job["outputs"]["raw"]["id"] is None
    assert job["outputs"]["raw"]["url"] is None


async def test_save_node_stores_into_a_folder(runner_client: TroveClient) -> None:
    client = runner_client
    folder = await client.data('mutation { createFolder(input: {name: "keep"}) { id } }')
    folder_id = folder["createFolder"]["id"]
    workflow = graph(
        [
            node("raw", "testing.Untracked"),
            node("save", "asset.Save", name="kept.png", parent_id=folder_id),
            node("out", "control.Output", name="kept"),
        ],
        [edge("raw", "save", "asset"), edge("save", "out", "value")],
    )
    job = await run_job(client, graph=workflow)
    assert job["status"] == "COMPLETED", job
    kept = await client.data(
        "query($id: ID!) { asset(id: $id) { name contentType parentId nodeId jobId } }",
        {"id": job["outputs"]["kept"]["id"]},
    )
    assert kept["asset"] == {
        "name": "kept.png",
        "contentType": "image/png",
        "parentId": folder_id,
        "nodeId": "save",
        "jobId": job["id"],
    }


def test_the_executor_is_injected_when_services_are_built(tmp_path: Path) -> None:
    from execution.executor import Executor
    from server.app import build_services
    from tests.conftest import make_settings

    services = build_services(make_settings(tmp_path, f"sqlite://{tmp_path / 'x.db'}"))
    executor = services.jobs.executor
    assert isinstance(executor, Executor)
    # Wired to the very services it was built with, before any server start-up ran.
    assert executor.services is services
    assert any(info.type == "control.Output" for info in services.jobs.node_types())
