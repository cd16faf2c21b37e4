"""The asset half of the GraphQL contract, driven over HTTP on SQLite and PostgreSQL."""

import hashlib
import io
from pathlib import Path
from typing import Any

from PIL import Image

from tests.conftest import TroveClient


def png_bytes(width: int = 64, height: int = 48, color: str = "red") -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), color).save(buffer, "PNG")
    return buffer.getvalue()


def jpeg_bytes() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (32, 32), "blue").save(buffer, "JPEG")
    return buffer.getvalue()


def blob_files(client: TroveClient) -> list[Path]:
    root = client.services.assets.storage.root
    return [
        p
        for p in root.rglob("*")
        if p.is_file() and ".staging" not in p.parts and ".trash" not in p.parts
    ]


async def test_content_type_is_detected_when_the_claim_is_absent_or_generic(
    client: TroveClient,
) -> None:
    generic = await client.upload(
        png_bytes(), filename="photo", file_content_type="application/octet-stream"
    )
    assert generic["data"]["createAsset"]["contentType"] == "image/png"
    jpeg = await client.upload(jpeg_bytes(), filename="x.png", file_content_type="")
    assert jpeg["data"]["createAsset"]["contentType"] == "image/jpeg"
    claimed = await client.upload(b"a,b\n1,2\n", filename="t.csv", file_content_type="text/csv")
    assert claimed["data"]["createAsset"]["contentType"] == "text/csv"
    explicit = await client.upload(b"{}", filename="d", contentType="application/json")
    assert explicit["data"]["createAsset"]["contentType"] == "application/json"
    bad = await client.upload(b"x", contentType="not a type")
    assert bad["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


async def test_names_are_sanitized(client: TroveClient) -> None:
    traversal = await client.upload(b"x", filename="../../etc/passwd")
    assert traversal["data"]["createAsset"]["name"] == "passwd"
    windows = await client.upload(b"x", name="C:\\temp\\..\\evil.txt")
    assert windows["data"]["createAsset"]["name"] == "evil.txt"
    control = await client.upload(b"x", name="a\x00b\nc.txt")
    assert control["data"]["createAsset"]["name"] == "abc.txt"
    dots = await client.upload(b"x", name="..")
    assert dots["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    long = await client.upload(b"x", name="n" * 400 + ".png")
    name = long["data"]["createAsset"]["name"]
    assert len(name.encode()) <= 255 and name.endswith(".png")


async def test_sha256_size_and_tracking_are_recorded(client: TroveClient) -> None:
    import hashlib

    content = png_bytes()
    body = await client.upload(
        content,
        filename="a.png",
        nodeId="node-a",
        jobId="job-a",
        workflowId="wf-a",
        metadata={"seed": 42, "prompt": "a red square"},
    )
    asset = body["data"]["createAsset"]
    assert asset["sha256"] == hashlib.sha256(content).hexdigest()
    assert asset["size"] == len(content)
    assert (asset["nodeId"], asset["jobId"], asset["workflowId"]) == ("node-a", "job-a", "wf-a")
    data = await client.data(
        "query($id: ID!) { asset(id: $id) { metadata createdAt updatedAt } }", {"id": asset["id"]}
    )
    assert data["asset"]["metadata"] == {"seed": 42, "prompt": "a red square"}
    assert data["asset"]["createdAt"].endswith("Z")


async def test_identical_bytes_are_stored_once_and_removed_with_the_last_asset(
    client: TroveClient,
) -> None:
    first = (await client.upload(b"same bytes", name="one"))["data"]["createAsset"]
    second = (await client.upload(b"same bytes", name="two"))["data"]["createAsset"]
    assert len(blob_files(client)) == 1
    await client.data(
        "mutation($id: ID!) { deleteAsset(id: $id) { deletedCount } }", {"id": first["id"]}
    )
    assert len(blob_files(client)) == 1
    content = await client.http.get(f"/assets/{second['id']}/content")
    assert content.content == b"same bytes"
    await client.data(
        "mutation($id: ID!) { deleteAsset(id: $id) { deletedCount } }", {"id": second["id"]}
    )
    assert blob_files(client) == []


async def test_folders_nest_and_delete_recursively(client: TroveClient) -> None:
    root = (
        await client.data(
            'mutation { createFolder(input: {name: "renders"}) { id contentType size } }'
        )
    )["createFolder"]
    assert root["contentType"] == "folder"
    inner = (
        await client.data(
            'mutation($p: ID) { createFolder(input: {name: "day 1", parentId: $p}) { id parentId parent { id } } }',
            {"p": root["id"]},
        )
    )["createFolder"]
    assert inner["parentId"] == root["id"] and inner["parent"]["id"] == root["id"]
    leaf = (await client.upload(b"leaf", name="leaf.txt", parentId=inner["id"]))["data"][
        "createAsset"
    ]
    other = (await client.upload(b"other", name="other.txt", parentId=root["id"]))["data"][
        "createAsset"
    ]
    children = await client.data(
        "query($id: ID!) { asset(id: $id) { children { nodes { id } } } }", {"id": root["id"]}
    )
    assert {n["id"] for n in children["asset"]["children"]["nodes"]} == {inner["id"], other["id"]}
    direct = await client.data(
        "query($p: ID) { assets(parentId: $p) { nodes { id } } }", {"p": inner["id"]}
    )
    assert [n["id"] for n in direct["assets"]["nodes"]] == [leaf["id"]]

    not_folder = await client.upload(b"x", name="x", parentId=leaf["id"])
    assert not_folder["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    cycle = await client.graphql(
        "mutation($id: ID!, $p: ID) { updateAsset(id: $id, input: {parentId: $p}) { id } }",
        {"id": root["id"], "p": inner["id"]},
    )
    assert cycle["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"

    deleted = await client.data(
        "mutation($id: ID!) { deleteAsset(id: $id) { deletedCount } }", {"id": root["id"]}
    )
    assert deleted["deleteAsset"]["deletedCount"] == 4
    left = await client.data("{ assets { totalCount } }")
    assert left["assets"]["totalCount"] == 0
    assert blob_files(client) == []


async def test_update_asset(client: TroveClient) -> None:
    folder = (await client.data('mutation { createFolder(input: {name: "f"}) { id } }'))[
        "createFolder"
    ]
    asset = (await client.upload(b"x", name="before.txt", metadata={"a": 1}))["data"]["createAsset"]
    renamed = await client.data(
        'mutation($id: ID!, $p: ID) { updateAsset(id: $id, input: {name: "after.txt", parentId: $p}) { name parentId metadata } }',
        {"id": asset["id"], "p": folder["id"]},
    )
    assert renamed["updateAsset"] == {
        "name": "after.txt",
        "parentId": folder["id"],
        "metadata": {"a": 1},
    }
    cleared = await client.data(
        "mutation($id: ID!) { updateAsset(id: $id, input: {parentId: null, metadata: {b: 2}}) { name parentId metadata } }",
        {"id": asset["id"]},
    )
    assert cleared["updateAsset"] == {"name": "after.txt", "parentId": None, "metadata": {"b": 2}}
    missing = await client.graphql(
        'mutation { updateAsset(id: "00000000-0000-7000-8000-000000000000", input: {name: "x"}) { id } }'
    )
    assert missing["errors"][0]["extensions"]["code"] == "NOT_FOUND"


async def test_delete_assets_by_filter_with_dry_run(client: TroveClient) -> None:
    for i in range(5):
        await client.upload(
            f"job-a {i}".encode(), name=f"a{i}", jobId="job-a", nodeId="n1" if i < 2 else "n2"
        )
    await client.upload(b"job-b", name="b", jobId="job-b")
    dry = await client.data(
        'mutation { deleteAssets(filter: {jobId: "job-a", nodeId: "n2"}, dryRun: true) { deletedCount } }'
    )
    assert dry["deleteAssets"]["deletedCount"] == 3
    assert (await client.data("{ assets { totalCount } }"))["assets"]["totalCount"] == 6
    real = await client.data('mutation { deleteAssets(filter: {jobId: "job-a"}) { deletedCount } }')
    assert real["deleteAssets"]["deletedCount"] == 5
    assert (await client.data("{ assets { totalCount } }"))["assets"]["totalCount"] == 1
    empty = await client.graphql("mutation { deleteAssets(filter: {}) { deletedCount } }")
    assert empty["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


async def test_asset_stats_group_by_node_job_workflow_and_type(client: TroveClient) -> None:
    await client.upload(png_bytes(), name="1.png", nodeId="gen", jobId="j1", workflowId="w")
    await client.upload(
        png_bytes(color="blue"), name="2.png", nodeId="gen", jobId="j2", workflowId="w"
    )
    await client.upload(b"caption", name="3.txt", nodeId="cap", jobId="j2")
    await client.upload(b"loose", name="4.txt")
    await client.data('mutation { createFolder(input: {name: "not counted"}) { id } }')
    by_node = await client.data("{ assetStats(groupBy: NODE) { key count totalSize newest } }")
    groups = {g["key"]: g for g in by_node["assetStats"]}
    assert set(groups) == {"gen", "cap", None}
    assert groups["gen"]["count"] == 2 and groups["cap"]["totalSize"] == len(b"caption")
    assert groups["gen"]["newest"].endswith("Z")
    by_type = await client.data('{ assetStats(groupBy: CONTENT_TYPE, jobId: "j2") { key count } }')
    assert {g["key"]: g["count"] for g in by_type["assetStats"]} == {
        "image/png": 1,
        "text/plain": 1,
    }
    by_job = await client.data('{ assetStats(groupBy: JOB, workflowId: "w") { key count } }')
    assert {g["key"]: g["count"] for g in by_job["assetStats"]} == {"j1": 1, "j2": 1}


async def test_node_resolves_assets_and_unknown_ids(client: TroveClient) -> None:
    asset = (await client.upload(b"x", name="x"))["data"]["createAsset"]
    data = await client.data(
        "query($id: ID!) { node(id: $id) { __typename id ... on Asset { name } } }",
        {"id": asset["id"]},
    )
    assert data["node"] == {"__typename": "Asset", "id": asset["id"], "name": "x"}
    for unknown in ("not-a-uuid", "00000000-0000-7000-8000-000000000000"):
        assert (await client.data("query($id: ID!) { node(id: $id) { id } }", {"id": unknown}))[
            "node"
        ] is None
        assert (await client.data("query($id: ID!) { asset(id: $id) { id } }", {"id": unknown}))[
            "asset"
        ] is None


async def test_filters_by_time_and_type_prefix(client: TroveClient) -> None:
    first = (await client.upload(png_bytes(), name="p.png"))["data"]["createAsset"]
    await client.upload(b"text", name="t.txt")
    created = (
        await client.data("query($id: ID!) { asset(id: $id) { createdAt } }", {"id": first["id"]})
    )["asset"]["createdAt"]
    after = await client.data(
        "query($t: DateTime) { assets(createdAfter: $t) { nodes { name } } }", {"t": created}
    )
    assert [n["name"] for n in after["assets"]["nodes"]] == ["t.txt"]
    before = await client.data(
        "query($t: DateTime) { assets(createdBefore: $t) { nodes { name } } }", {"t": created}
    )
    assert before["assets"]["nodes"] == []
    images = await client.data('{ assets(contentType: "image/") { nodes { name } } }')
    assert [n["name"] for n in images["assets"]["nodes"]] == ["p.png"]


async def test_errors_carry_codes_and_no_stack_traces(client: TroveClient) -> None:
    syntax = await client.graphql("{ assets(")
    assert syntax["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    unknown = await client.graphql("{ nope }")
    assert unknown["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    coercion = await client.graphql(
        "query($n: Int) { assets(first: $n) { totalCount } }", {"n": "ten"}
    )
    assert coercion["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    for body in (syntax, unknown, coercion):
        assert "Traceback" not in str(body)


async def test_query_depth_is_limited(client: TroveClient) -> None:
    nested = "parent { " * 20 + "id" + " }" * 20
    body = await client.graphql(f"{{ assets {{ nodes {{ {nested} }} }} }}")
    assert body["errors"] and "depth" in body["errors"][0]["message"].lower()
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


async def test_create_assets_uploads_several_files(client: TroveClient) -> None:
    import json

    operations = {
        "query": "mutation($inputs: [CreateAssetInput!]!) { createAssets(inputs: $inputs) { name size jobId } }",
        "variables": {
            "inputs": [
                {"file": None, "jobId": "batch"},
                {"file": None, "jobId": "batch", "name": "second.txt"},
            ]
        },
    }
    response = await client.http.post(
        "/graphql",
        data={
            "operations": json.dumps(operations),
            "map": json.dumps({"a": ["variables.inputs.0.file"], "b": ["variables.inputs.1.file"]}),
        },
        files={"a": ("first.txt", b"1", "text/plain"), "b": ("ignored.txt", b"22", "text/plain")},
        headers={"X-Apollo-Operation-Name": "upload"},
    )
    created = response.json()["data"]["createAssets"]
    assert created == [
        {"name": "first.txt", "size": 1, "jobId": "batch"},
        {"name": "second.txt", "size": 2, "jobId": "batch"},
    ]


async def test_malformed_multipart_gets_a_4xx_with_a_message(client: TroveClient) -> None:
    headers = {"Apollo-Require-Preflight": "1", "Content-Type": "multipart/form-data; boundary=xyz"}
    garbage = await client.http.post("/graphql", content=b"--xyz\r\nnot a part", headers=headers)
    assert 400 <= garbage.status_code < 500 and garbage.text
    missing_map = await client.http.post(
        "/graphql",
        data={
            "operations": '{"query": "mutation($f: Upload!) { createAsset(input: {file: $f}) { id } }", "variables": {"f": null}}',
            "map": '{"0": ["variables.f"]}',
        },
        files={"1": ("a", b"a")},
        headers={"Apollo-Require-Preflight": "1"},
    )
    assert 400 <= missing_map.status_code < 500 and missing_map.text
    not_a_file = await client.graphql(
        'mutation { createAsset(input: {file: "just a string"}) { id } }'
    )
    assert not_a_file["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


async def test_one_file_mapped_to_two_inputs(client: TroveClient) -> None:
    import json

    operations = {
        "query": "mutation($inputs: [CreateAssetInput!]!) { createAssets(inputs: $inputs) { name size sha256 } }",
        "variables": {"inputs": [{"file": None, "name": "a.txt"}, {"file": None, "name": "b.txt"}]},
    }
    response = await client.http.post(
        "/graphql",
        data={
            "operations": json.dumps(operations),
            "map": json.dumps({"0": ["variables.inputs.0.file", "variables.inputs.1.file"]}),
        },
        files={"0": ("shared.txt", b"shared bytes", "text/plain")},
        headers={"Apollo-Require-Preflight": "1"},
    )
    created = response.json()["data"]["createAssets"]
    assert [c["name"] for c in created] == ["a.txt", "b.txt"]
    assert created[0]["sha256"] == created[1]["sha256"] and created[0]["size"] == 12
    for asset in (await client.data("{ assets { nodes { id } } }"))["assets"]["nodes"]:
        body = await client.http.get(f"/assets/{asset['id']}/content")
        assert body.content == b"shared bytes"


async def test_files_before_operations_are_refused_and_leave_nothing(client: TroveClient) -> None:
    boundary = "b0undary"
    body = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="0"; filename="a.txt"\r\n\r\nearly\r\n'
        f'--{boundary}\r\nContent-Disposition: form-data; name="operations"\r\n\r\n{{}}\r\n'
        f"--{boundary}--\r\n"
    ).encode()
    response = await client.http.post(
        "/graphql",
        content=body,
        headers={
            "Content-Type": f"multipart/form-data; boundary={boundary}",
            "Apollo-Require-Preflight": "1",
        },
    )
    assert response.status_code == 400
    assert "before the files" in response.json()["errors"][0]["message"]
    assert blob_files(client) == []


async def test_an_upload_no_resolver_takes_is_discarded(client: TroveClient) -> None:
    body = await client.upload(
        b"orphan upload", name="x", parentId="00000000-0000-7000-8000-000000000000"
    )
    assert body["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    assert blob_files(client) == []
    staging = client.services.assets.storage.staging
    assert list(staging.iterdir()) == []


async def test_create_assets_is_all_or_nothing(client: TroveClient) -> None:
    import json

    async def create_two(second: dict[str, Any]) -> Any:
        operations = {
            "query": "mutation($inputs: [CreateAssetInput!]!) { createAssets(inputs: $inputs) { id } }",
            "variables": {"inputs": [{"file": None, "jobId": "atomic"}, {"file": None, **second}]},
        }
        return await client.http.post(
            "/graphql",
            data={
                "operations": json.dumps(operations),
                "map": json.dumps(
                    {"a": ["variables.inputs.0.file"], "b": ["variables.inputs.1.file"]}
                ),
            },
            files={"a": ("one.txt", b"first file", "text/plain"), "b": ("two.txt", b"2", "x/y")},
            headers={"Apollo-Require-Preflight": "1"},
        )

    storage = client.services.assets.storage
    for bad in (
        {"parentId": "00000000-0000-0000-0000-000000000000"},
        {"contentType": "not a type"},
        {"metadata": {"big": "x" * 70_000}},
        {"jobId": "j" * 300},
    ):
        response = await create_two(bad)
        body = response.json()
        assert body["data"] is None, bad
        assert body["errors"][0]["extensions"]["code"] in ("NOT_FOUND", "BAD_USER_INPUT"), body
        # The first file, valid on its own, was not kept either: no row, no blob, no staging.
        count = await client.data('{ assets(jobId: "atomic") { totalCount } }')
        assert count["assets"]["totalCount"] == 0, bad
        first_digest = hashlib.sha256(b"first file").hexdigest()
        assert not await storage.exists(first_digest), bad
        assert list(storage.staging.iterdir()) == [], bad

    ok = await create_two({"jobId": "atomic"})
    assert len(ok.json()["data"]["createAssets"]) == 2
    count = await client.data('{ assets(jobId: "atomic") { totalCount } }')
    assert count["assets"]["totalCount"] == 2
