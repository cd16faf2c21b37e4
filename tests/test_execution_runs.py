"""Workflows run through the GraphQL API of the real app, on SQLite and PostgreSQL."""

from typing import Any

import pytest

from models import Job, JobStatus, db
from tests.conftest import TroveClient
from tests.test_execution_support import (
    close_to,
    download,
    edge,
    graph,
    image_of,
    job_assets,
    jpeg,
    node,
    png,
    run_job,
    start_job,
    wait_for_job,
    wait_until,
)

PIPELINE = graph(
    [
        node("create", "image.Create", width=64, height=48, color="#ff0000"),
        node("resize", "image.Resize", width=32, height=24),
        node("grey", "image.Grayscale"),
        node("result", "control.Output", name="small"),
    ],
    [
        edge("create", "resize", "image"),
        edge("create", "grey", "image"),
        edge("resize", "result", "value"),
    ],
)


async def test_outputs_are_saved_tracked_and_downloadable(client: TroveClient) -> None:
    job = await run_job(client, graph=PIPELINE, jobId="job-pipeline")

    assert job["status"] == "COMPLETED", job
    assert job["id"] == "job-pipeline"
    assert job["startedAt"] and job["finishedAt"]
    saved = await job_assets(client, jobId="job-pipeline")
    by_node = {asset["nodeId"]: asset for asset in saved}
    assert set(by_node) == {"create", "resize", "grey"}
    assert by_node["create"]["name"] == "Create_Image_output_create.png"
    assert by_node["resize"]["name"] == "Resize_output_resize.png"
    for asset in saved:
        assert asset["contentType"] == "image/png"
        assert asset["jobId"] == "job-pipeline"
        assert asset["workflowId"] is None

    output = job["outputs"]["small"]
    assert output["id"] == by_node["resize"]["id"]
    assert output["contentType"] == "image/png"
    # Signed when read, so it is absolute and never stale.
    assert output["url"].startswith(f"http://testserver/assets/{output['id']}/content?expires=")
    content_type, content = await download(client, output["url"])
    assert content_type == "image/png"
    image = image_of(content)
    assert image.size == (32, 24)
    assert close_to(image.convert("RGB").getpixel((16, 12)), (255, 0, 0))

    _, grey = await download(client, by_node["grey"]["url"])
    grey_image = image_of(grey)
    assert grey_image.mode == "L"
    assert grey_image.size == (64, 48)
    assert close_to((grey_image.getpixel((0, 0)),), (76,), tolerance=2)


async def test_assets_are_found_by_job_node_and_workflow_across_jobs(client: TroveClient) -> None:
    created = await client.data(
        "mutation($input: WorkflowInput!) { createWorkflow(input: $input) { id } }",
        {"input": {"name": "thumbnails", "graph": PIPELINE}},
    )
    workflow_id = created["createWorkflow"]["id"]
    first = await run_job(client, workflowId=workflow_id)
    second = await run_job(client, workflowId=workflow_id)
    assert first["status"] == second["status"] == "COMPLETED"
    assert first["workflowId"] == second["workflowId"] == workflow_id

    resized = await job_assets(client, nodeId="resize")
    assert sorted(a["jobId"] for a in resized) == sorted([first["id"], second["id"]])
    for job in (first, second):
        of_job = await job_assets(client, jobId=job["id"])
        assert len(of_job) == 3
        assert {a["jobId"] for a in of_job} == {job["id"]}
        assert {a["workflowId"] for a in of_job} == {workflow_id}
    assert len(await job_assets(client, workflowId=workflow_id)) == 6

    data = await client.data(
        """query($id: ID!, $wf: ID!) {
          job(id: $id) { assets(nodeId: "grey") { totalCount nodes { id job { id status } } } }
          workflow(id: $wf) { jobs { totalCount } assets { totalCount } }
        }""",
        {"id": first["id"], "wf": workflow_id},
    )
    grey = data["job"]["assets"]
    assert grey["totalCount"] == 1
    assert grey["nodes"][0]["job"] == {"id": first["id"], "status": "COMPLETED"}
    assert data["workflow"]["jobs"]["totalCount"] == 2
    assert data["workflow"]["assets"]["totalCount"] == 6


async def test_lineage_links_inputs_to_what_was_made_from_them(client: TroveClient) -> None:
    uploaded = (await client.upload(png(40, 30, (0, 0, 255)), filename="blue.png"))["data"]
    upload_id = uploaded["createAsset"]["id"]
    workflow = graph(
        [
            node("photo", "input.Image", name="photo"),
            node("grey", "image.Grayscale"),
            node("resize", "image.Resize", width=20, height=15),
        ],
        [edge("photo", "grey", "image"), edge("grey", "resize", "image")],
    )
    job = await run_job(client, graph=workflow, params={"photo": upload_id})
    assert job["status"] == "COMPLETED", job

    query = """query($id: ID!) { asset(id: $id) {
        derivedFrom { id } derivatives { totalCount nodes { id nodeId } } } }"""
    source = (await client.data(query, {"id": upload_id}))["asset"]
    assert source["derivedFrom"] == []
    assert [d["nodeId"] for d in source["derivatives"]["nodes"]] == ["grey"]
    grey_id = source["derivatives"]["nodes"][0]["id"]
    grey = (await client.data(query, {"id": grey_id}))["asset"]
    assert grey["derivedFrom"] == [{"id": upload_id}]
    assert [d["nodeId"] for d in grey["derivatives"]["nodes"]] == ["resize"]
    resized_id = grey["derivatives"]["nodes"][0]["id"]
    resized = (await client.data(query, {"id": resized_id}))["asset"]
    assert resized["derivedFrom"] == [{"id": grey_id}]


async def test_content_type_comes_from_the_bytes(client: TroveClient) -> None:
    uploaded = (await client.upload(jpeg(50, 40, (0, 200, 0)), filename="photo"))["data"]
    workflow = graph(
        [
            node("photo", "input.Image", name="photo"),
            node("resize", "image.Resize", width=25, height=20),
            node("doc", "text.ToDocument", text="# Report\n\nAll fine.", format="markdown"),
            node("pdf", "text.ToDocument", text="Page one", format="pdf"),
            node("json", "data.ToJSON", value=[1, 2, {"three": 3}]),
            node("tone", "audio.Tone", duration=0.1),
        ],
        [edge("photo", "resize", "image")],
    )
    job = await run_job(client, graph=workflow, params={"photo": uploaded["createAsset"]["id"]})
    assert job["status"] == "COMPLETED", job
    by_node = {a["nodeId"]: a for a in await job_assets(client, jobId=job["id"])}
    expected = {
        "resize": ("image/jpeg", ".jpg"),
        "doc": ("text/markdown", ".md"),
        "pdf": ("application/pdf", ".pdf"),
        "json": ("application/json", ".json"),
        "tone": ("audio/wav", ".wav"),
    }
    for node_id, (content_type, extension) in expected.items():
        asset = by_node[node_id]
        assert asset["contentType"] == content_type, asset
        assert asset["name"].endswith(extension), asset
    _, resized = await download(client, by_node["resize"]["url"])
    assert resized[:3] == b"\xff\xd8\xff"
    assert image_of(resized).size == (25, 20)
    _, json_bytes = await download(client, by_node["json"]["url"])
    assert json_bytes.decode().replace(" ", "").replace("\n", "") == '[1,2,{"three":3}]'


async def test_params_fill_input_nodes_and_outputs_hold_plain_values(client: TroveClient) -> None:
    workflow = graph(
        [
            node("who", "input.Text", name="who", value="nobody"),
            node("size", "input.Number", name="size", value=8),
            node("greet", "text.Format", template="Hello, {who}! ({n} px)"),
            node("square", "image.Create", color="#00ff00"),
            node("text", "control.Output", name="greeting"),
            node("image", "control.Output", name="image"),
        ],
        [
            edge("who", "greet", "values.who"),
            edge("size", "greet", "values.n"),
            edge("size", "square", "width"),
            edge("size", "square", "height"),
            edge("greet", "text", "value"),
            edge("square", "image", "value"),
        ],
    )
    job = await run_job(client, graph=workflow, params={"who": "Ada", "size": 16})
    assert job["status"] == "COMPLETED", job
    assert job["outputs"]["greeting"] == "Hello, Ada! (16.0 px)"
    _, content = await download(client, job["outputs"]["image"]["url"])
    assert image_of(content).size == (16, 16)

    defaults = await run_job(client, graph=workflow)
    assert defaults["outputs"]["greeting"] == "Hello, nobody! (8.0 px)"

    unknown = await run_job(client, graph=workflow, params={"whom": "Ada"})
    assert unknown["status"] == "FAILED"
    assert "Unknown parameter 'whom'" in unknown["error"]
    assert unknown["failedNodeId"] is None


async def test_a_failing_node_fails_the_job_and_keeps_what_was_saved(client: TroveClient) -> None:
    workflow = graph(
        [
            node("create", "image.Create", width=20, height=20),
            node("crop", "image.Crop", left=10, top=10, width=50, height=50),
            node("after", "image.Blur"),
        ],
        [edge("create", "crop", "image"), edge("crop", "after", "image")],
    )
    job = await run_job(client, graph=workflow)

    assert job["status"] == "FAILED"
    assert job["failedNodeId"] == "crop"
    assert job["error"].startswith("Node 'crop' (image.Crop) failed: ")
    assert "does not fit in the 20x20 image" in job["error"]
    assert job["outputs"] is None
    saved = await job_assets(client, jobId=job["id"])
    assert [a["nodeId"] for a in saved] == ["create"]


async def test_a_missing_input_asset_names_the_node(client: TroveClient) -> None:
    workflow = graph([node("load", "asset.Load", asset_id="00000000-0000-7000-8000-000000000000")])
    job = await run_job(client, graph=workflow)
    assert job["status"] == "FAILED"
    assert job["failedNodeId"] == "load"
    assert "No asset with id" in job["error"]


@pytest.fixture
async def small_limit_client(app_factory: Any, database_url: str) -> Any:
    async with app_factory(database_url, max_upload_bytes=2000) as trove:
        yield trove


async def test_a_save_failure_fails_the_job_naming_node_and_output(
    small_limit_client: TroveClient,
) -> None:
    client = small_limit_client
    workflow = graph([node("tone", "audio.Tone", duration=1.0)])
    job = await run_job(client, graph=workflow)

    assert job["status"] == "FAILED"
    assert job["failedNodeId"] == "tone"
    assert job["error"] == (
        "Node 'tone' (audio.Tone) failed: could not save its output 'output': "
        "The content is larger than 2000 bytes"
    )
    assert await job_assets(client, jobId=job["id"]) == []


async def test_cancel_stops_a_running_job(client: TroveClient) -> None:
    workflow = graph(
        [
            node("create", "image.Create", width=8, height=8),
            node("wait", "control.Delay", seconds=3600),
            node("after", "image.Blur"),
        ],
        [edge("create", "wait", "trigger"), edge("wait", "after", "image")],
    )
    started = await start_job(client, graph=workflow)

    async def delay_started() -> bool:
        # The Delay node runs once the node before it has saved its image.
        return bool(await job_assets(client, jobId=started["id"]))

    await wait_until(delay_started)

    data = await client.data(
        "mutation($id: ID!) { cancelJob(id: $id) { id status finishedAt error } }",
        {"id": started["id"]},
    )
    cancelled = data["cancelJob"]
    assert cancelled["status"] == "CANCELLED"
    assert cancelled["finishedAt"] is not None
    assert cancelled["error"] is None
    assert not client.services.jobs.executor.is_running(started["id"])
    assert [a["nodeId"] for a in await job_assets(client, jobId=started["id"])] == ["create"]

    again = await client.data(
        "mutation($id: ID!) { cancelJob(id: $id) { status } }", {"id": started["id"]}
    )
    assert again["cancelJob"]["status"] == "CANCELLED"


@pytest.mark.parametrize(
    ("workflow", "message"),
    [
        (graph([node("a", "image.Nope")]), "node 'a': unknown node type 'image.Nope'"),
        (graph([node("a", "image.Resize")]), "required input 'image' is neither set nor connected"),
        (
            graph(
                [node("a", "image.Blur"), node("b", "image.Blur")],
                [edge("a", "b", "image"), edge("b", "a", "image")],
            ),
            "the graph has a cycle",
        ),
        (
            graph(
                [node("a", "image.Create"), node("b", "image.Blur")],
                [edge("a", "b", "image", source_handle="picture")],
            ),
            "image.Create has no output 'picture' (outputs: output)",
        ),
        (
            graph(
                [node("a", "image.Create"), node("b", "image.Blur")],
                [edge("a", "b", "img")],
            ),
            "image.Blur has no input 'img'",
        ),
        (
            graph(
                [node("a", "audio.Tone"), node("b", "image.Blur")],
                [edge("a", "b", "image")],
            ),
            "output 'output' (audio) cannot feed input 'image' (image)",
        ),
        (
            graph([node("a", "image.Create", width="wide")]),
            "input 'width': Input should be a valid integer",
        ),
        (graph([node("a", "image.Create"), node("a", "image.Create")]), "used twice"),
        (
            graph([node("a", "image.Create"), node("b", "image.Blur")], [edge("a", "c", "image")]),
            "there is no node 'c'",
        ),
        ({"nodes": "all of them"}, "must be lists"),
    ],
)
async def test_invalid_graphs_are_refused_before_anything_runs(
    client: TroveClient, workflow: Any, message: str
) -> None:
    body = await client.graphql(
        "mutation($input: RunWorkflowInput!) { runWorkflow(input: $input) { id } }",
        {"input": {"graph": workflow}},
    )
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert message in body["errors"][0]["message"]
    jobs = await client.data("{ jobs { totalCount } assets { totalCount } }")
    assert jobs == {"jobs": {"totalCount": 0}, "assets": {"totalCount": 0}}


async def test_every_problem_is_reported_at_once(client: TroveClient) -> None:
    # A structural problem (an unknown input) and a bad value (a string for an int), in
    # one answer: fixing the first must not reveal the second.
    workflow = graph(
        [node("a", "image.Create", width="wide"), node("b", "image.Blur")],
        [edge("a", "b", "image", source_handle="picture")],
    )
    body = await client.graphql(
        "mutation($input: RunWorkflowInput!) { runWorkflow(input: $input) { id } }",
        {"input": {"graph": workflow}},
    )
    message = body["errors"][0]["message"]
    assert "image.Create has no output 'picture'" in message
    assert "input 'width': Input should be a valid integer" in message
    # The broken edge was aimed at `image`: one problem, not also a missing input.
    assert "'image' is neither set nor connected" not in message


async def test_job_ids_are_unique(client: TroveClient) -> None:
    workflow = graph([node("a", "input.Text")])
    await run_job(client, graph=workflow, jobId="once")
    body = await client.graphql(
        "mutation($input: RunWorkflowInput!) { runWorkflow(input: $input) { id } }",
        {"input": {"graph": workflow, "jobId": "once"}},
    )
    assert body["errors"][0]["extensions"]["code"] == "CONFLICT"


async def test_streamed_frames_become_a_video(client: TroveClient) -> None:
    import av

    workflow = graph(
        [
            node("frames", "image.Frames", width=32, height=24, count=4, end_color="#ff0000"),
            node("video", "video.FromImages", fps=4),
            node("out", "control.Output", name="video"),
        ],
        [edge("frames", "video", "frames"), edge("video", "out", "value")],
    )
    job = await run_job(client, graph=workflow)
    assert job["status"] == "COMPLETED", job

    frames = await job_assets(client, nodeId="frames", jobId=job["id"])
    assert [f["name"] for f in frames] == [f"Frames_output-{i}_frames.png" for i in range(4)]
    video = job["outputs"]["video"]
    assert video["contentType"] == "video/mp4"
    content_type, content = await download(client, video["url"])
    assert content_type == "video/mp4"
    import io

    with av.open(io.BytesIO(content), mode="r") as container:
        decoded = [frame.to_image() for frame in container.decode(video=0)]
    assert len(decoded) == 4
    assert decoded[0].size == (32, 24)
    assert close_to(decoded[-1].getpixel((16, 12)), (255, 0, 0), tolerance=24)
    lineage = await client.data(
        "query($id: ID!) { asset(id: $id) { derivedFrom { id } } }", {"id": video["id"]}
    )
    assert {a["id"] for a in lineage["asset"]["derivedFrom"]} == {f["id"] for f in frames}


AUTO_SAVING = [
    "image.Create",
    "image.Resize",
    "image.Crop",
    "image.Blur",
    "image.Grayscale",
    "image.Paste",
    "image.Grid",
    "image.RenderText",
    "audio.Tone",
    "audio.Silence",
    "audio.Concat",
    "audio.Normalize",
    "video.FromImages",
    "text.ToDocument",
    "data.ToJSON",
]
NOT_AUTO_SAVING = [
    "asset.Load",
    "asset.Save",
    "input.Text",
    "input.Number",
    "input.Image",
    "control.Delay",
    "control.Output",
    "text.Format",
]


async def test_node_types_lists_every_builtin_with_its_flag(client: TroveClient) -> None:
    data = await client.data(
        """{ nodeTypes { type title autoSaveAsset
             inputs { name type required default } outputs { name type } } }"""
    )
    types = {t["type"]: t for t in data["nodeTypes"]}
    assert {name for name, t in types.items() if t["autoSaveAsset"]} >= set(AUTO_SAVING)
    for name in NOT_AUTO_SAVING:
        assert types[name]["autoSaveAsset"] is False, name
    resize = types["image.Resize"]
    assert resize["inputs"][0] == {
        "name": "image",
        "type": "image",
        "required": True,
        "default": None,
    }
    assert {"name": "width", "type": "int", "required": False, "default": 256} in resize["inputs"]
    assert resize["outputs"] == [{"name": "output", "type": "image"}]
    assert types["control.Delay"]["inputs"][0]["name"] == "seconds"


async def test_stopping_the_server_fails_its_running_jobs(
    app_factory: Any, database_url: str
) -> None:
    async with app_factory(database_url) as client:
        started = await start_job(
            client, graph=graph([node("wait", "control.Delay", seconds=3600)])
        )
        await wait_for_job(client, started["id"], statuses=("RUNNING",))

    # Read the row before another start-up could settle it: the shutdown itself recorded this.
    await db.connect(database_url)
    try:
        row = await Job.get(id=started["id"])
    finally:
        await db.disconnect()
    assert row.status == JobStatus.FAILED
    assert row.error == "The server stopped while this job was running"
    assert row.finished_at is not None
