"""Seeded data for the asset browser's browser tests and screenshots, made through the
public API of a live `trove serve` the way a user's scripts would make it."""

import io
import json
import time
from typing import Any

import httpx
from PIL import Image, ImageDraw

TILES = 60  # more than one page of the gallery (48)
FAVOURITES = 5  # tiles tagged "favourite"
WORKFLOW_NAME = "Poster pipeline"


def png(width: int, height: int, color: tuple[int, int, int], label: str = "") -> bytes:
    image = Image.new("RGB", (width, height), color)
    if label:
        ImageDraw.Draw(image).text((8, 8), label, fill=(255, 255, 255))
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def node(node_id: str, node_type: str, **data: Any) -> dict[str, Any]:
    return {"id": node_id, "type": node_type, "data": data}


def edge(source: str, target: str, handle: str) -> dict[str, Any]:
    return {"source": source, "sourceHandle": "output", "target": target, "targetHandle": handle}


# Images, a video made from two of them, audio, Markdown and PDF: every viewer, with lineage
# create -> resize -> grey -> video.
PIPELINE = {
    "nodes": [
        node("title", "input.Text", name="title", value="Hello from Trove"),
        node("create", "image.Create", width=480, height=320, color="#4f46e5"),
        node("resize", "image.Resize", width=240, height=160),
        node("grey", "image.Grayscale"),
        node("video", "video.FromImages", fps=2),
        node("tone", "audio.Tone", frequency=440, duration=1),
        node("notes", "text.ToDocument", format="markdown"),
        node("poster", "text.ToDocument", format="pdf"),
    ],
    "edges": [
        edge("create", "resize", "image"),
        edge("resize", "grey", "image"),
        edge("create", "video", "frames"),
        edge("grey", "video", "frames"),
        edge("title", "notes", "text"),
        edge("title", "poster", "text"),
    ],
}

# Waits, then renders its text: the asset arrives while the page is open.
SLOW = {
    "nodes": [
        node("caption", "input.Text", name="caption", value="arrived live"),
        node("wait", "control.Delay", seconds=3),
        node("banner", "image.RenderText", width=320, height=96, background="#0f766e"),
    ],
    "edges": [edge("caption", "wait", "trigger"), edge("wait", "banner", "text")],
}


class Api:
    def __init__(self, url: str, token: str | None = None) -> None:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self.http = httpx.Client(base_url=url, headers=headers, timeout=60)

    def __enter__(self) -> "Api":
        return self

    def __exit__(self, *exc: object) -> None:
        self.http.close()

    def data(self, query: str, variables: dict[str, Any] | None = None) -> Any:
        response = self.http.post("/graphql", json={"query": query, "variables": variables or {}})
        body = response.json()
        assert response.status_code == 200 and "errors" not in body, body
        return body["data"]

    def upload_many(self, files: list[tuple[str, bytes, str, dict[str, Any]]]) -> list[str]:
        operations = {
            "query": "mutation($inputs: [CreateAssetInput!]!) { createAssets(inputs: $inputs) { id } }",
            "variables": {"inputs": [{"file": None, **fields} for _, _, _, fields in files]},
        }
        mapping = {str(i): [f"variables.inputs.{i}.file"] for i in range(len(files))}
        response = self.http.post(
            "/graphql",
            data={"operations": json.dumps(operations), "map": json.dumps(mapping)},
            files={
                str(i): (name, content, kind) for i, (name, content, kind, _) in enumerate(files)
            },
            headers={"Apollo-Require-Preflight": "true"},
        )
        body = response.json()
        assert "errors" not in body, body
        return [asset["id"] for asset in body["data"]["createAssets"]]

    def run(self, **run_input: Any) -> str:
        job = self.data(
            "mutation($input: RunWorkflowInput!) { runWorkflow(input: $input) { id } }",
            {"input": run_input},
        )
        return str(job["runWorkflow"]["id"])

    def wait(self, job_id: str, seconds: float = 120) -> dict[str, Any]:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            job = self.data("query($id: ID!) { job(id: $id) { status error } }", {"id": job_id})[
                "job"
            ]
            if job["status"] not in ("QUEUED", "RUNNING"):
                assert job["status"] == "COMPLETED", job
                return dict(job)
            time.sleep(0.2)
        raise AssertionError(f"job {job_id} did not finish")


def seed(url: str, token: str | None = None) -> dict[str, Any]:
    """Everything the browser tests look at; returns the ids they need."""
    with Api(url, token) as api:
        return _seed(api)


def _seed(api: Api) -> dict[str, Any]:
    folder = api.data('mutation { createFolder(input: {name: "Renders"}) { id } }')["createFolder"][
        "id"
    ]
    tiles = [
        (
            f"tile-{i:02d}.png",
            png(96, 96, ((i * 37) % 256, (i * 91) % 256, (i * 53) % 256), f"{i:02d}"),
            "image/png",
            {
                "nodeId": "tiler",
                "workflowId": "tiles",
                # Tiles 1-5 are favourites; rows of ten carry their row in the metadata.
                "tags": ["favourite"] if i <= FAVOURITES else [],
                "metadata": {"grid": {"row": (i - 1) // 10}},
            },
        )
        for i in range(1, TILES + 1)
    ]
    tile_ids = api.upload_many(tiles)
    files = [
        ("notes.txt", b"Plain text notes\nline two\n", "text/plain", {}),
        (
            "params.json",
            json.dumps(
                {"seed": 42, "steps": 30, "sampler": {"name": "euler", "eta": 0.5}}
            ).encode(),
            "application/json",
            {
                "metadata": {
                    "prompt": "a lighthouse at dusk",
                    "seed": 42,
                    "loras": ["film", "grain"],
                }
            },
        ),
        ("archive.bin", bytes(range(256)) * 8, "application/octet-stream", {"parentId": folder}),
    ]
    other_ids = api.upload_many(files)
    workflow = api.data(
        "mutation($input: WorkflowInput!) { createWorkflow(input: $input) { id } }",
        {"input": {"name": WORKFLOW_NAME, "graph": PIPELINE}},
    )["createWorkflow"]["id"]
    job = api.run(workflowId=workflow, jobId="poster-1")
    api.wait(job)
    by_node = {
        asset["nodeId"]: asset
        for asset in api.data(
            "query($id: ID!) { job(id: $id) { assets(first: 50) { nodes { id name nodeId contentType } } } }",
            {"id": job},
        )["job"]["assets"]["nodes"]
    }
    return {
        "folder": folder,
        "tiles": tile_ids,
        "notes": other_ids[0],
        "params": other_ids[1],
        "binary": other_ids[2],
        "workflow": workflow,
        "job": job,
        "byNode": by_node,
        "slowGraph": SLOW,
    }
