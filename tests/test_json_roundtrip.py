"""Property: a JSON value stored is the JSON value read back, on SQLite and PostgreSQL, for
asset metadata (createAsset, updateAsset, the `metadata` of a direct upload) and for a
job's params and outputs. Top-level strings that are themselves JSON text ("123", "[1]",
"true", "null") came back as a number, a list, a boolean or null before models/json_value.py,
and a string that is not JSON text ("hello") was an internal error."""

import json
import math
import uuid
from typing import Any

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from models import DirectUpload, Job, JobStatus, User
from models.ids import new_id
from tests.conftest import TroveClient

# What the API accepts (services/validation.py): no NUL, no lone surrogates, 64-bit integers.
TEXT = st.text(st.characters(exclude_categories=["Cs"], exclude_characters="\x00"))
LOOKS_LIKE_JSON = st.sampled_from(
    ["123", "-1.5", "[1]", "[]", "{}", '{"a": 1}', "true", "false", "null", '"q"', " 1 ", ""]
)
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**63), 2**64 - 1),
    st.floats(allow_nan=False, allow_infinity=False),
    TEXT,
    LOOKS_LIKE_JSON,
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.one_of(TEXT, LOOKS_LIKE_JSON), inner)
    ),
    max_leaves=10,
)
SETTINGS = settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
ASSET = "query($id: ID!) { asset(id: $id) { metadata } }"
LIST = "query($job: String) { assets(jobId: $job, first: 5) { nodes { metadata } } }"
UPDATE = "mutation($id: ID!, $m: JSON) { updateAsset(id: $id, input: {metadata: $m}) { metadata } }"


def same_json(got: Any, sent: Any) -> bool:
    """Equal as JSON values: types included (1 is not True, "1" is not 1), floats by value
    (a float with no fraction may come back as that integer: JSON has one number type)."""
    if isinstance(sent, bool) or sent is None or isinstance(sent, str):
        return type(got) is type(sent) and got == sent
    if isinstance(sent, int | float):
        return (
            isinstance(got, int | float)
            and not isinstance(got, bool)
            and math.isclose(got, sent, rel_tol=1e-15, abs_tol=0)
        )
    if isinstance(sent, list):
        return (
            isinstance(got, list)
            and len(got) == len(sent)
            and all(same_json(g, s) for g, s in zip(got, sent, strict=True))
        )
    assert isinstance(sent, dict)
    return (
        isinstance(got, dict)
        and got.keys() == sent.keys()
        and all(same_json(got[k], sent[k]) for k in sent)
    )


@SETTINGS
@example(metadata="123")
@example(metadata="[1]")
@example(metadata="true")
@example(metadata="null")
@example(metadata="hello")
@example(metadata='"q"')
@given(metadata=VALUES)
async def test_asset_metadata_round_trips(client: TroveClient, metadata: Any) -> None:
    job = uuid.uuid4().hex
    body = await client.upload(b"x", selection="id metadata", metadata=metadata, jobId=job)
    assert "errors" not in body, body
    created = body["data"]["createAsset"]
    assert same_json(created["metadata"], metadata), (created["metadata"], metadata)
    read = (await client.data(ASSET, {"id": created["id"]}))["asset"]["metadata"]
    assert same_json(read, metadata), (read, metadata)
    # List pages read rows through services/records.py rather than the model.
    listed = (await client.data(LIST, {"job": job}))["assets"]["nodes"]
    assert len(listed) == 1 and same_json(listed[0]["metadata"], metadata), (listed, metadata)

    # Replaced, by a value of another shape and back.
    other = {"wrapped": metadata}
    await client.data(UPDATE, {"id": created["id"], "m": other})
    assert same_json((await client.data(ASSET, {"id": created["id"]}))["asset"]["metadata"], other)
    updated = await client.data(UPDATE, {"id": created["id"], "m": metadata})
    assert same_json(updated["updateAsset"]["metadata"], metadata)
    read = (await client.data(ASSET, {"id": created["id"]}))["asset"]["metadata"]
    assert same_json(read, metadata), (read, metadata)


@SETTINGS
@example(metadata="123")
@example(metadata="hello")
@given(metadata=VALUES)
async def test_direct_upload_metadata_round_trips(client: TroveClient, metadata: Any) -> None:
    started = await client.data(
        "mutation($input: CreateUploadInput!) { createUpload(input: $input) { id } }",
        {"input": {"name": "d.bin", "size": 1, "metadata": metadata}},
    )
    row = await DirectUpload.get(id=started["createUpload"]["id"])
    assert same_json(row.metadata, metadata), (row.metadata, metadata)


@SETTINGS
@example(value="123")
@example(value="hello")
@given(value=VALUES)
async def test_job_params_and_outputs_round_trip(client: TroveClient, value: Any) -> None:
    """Straight through the models and JobService (params are an object, so the value sits
    one level down there; outputs are whatever a run produced)."""
    owner = await User.get(name="local")
    job = await Job.create(
        id=str(new_id()),
        owner_id=owner.id,
        graph={"nodes": [], "edges": []},
        params={"p": value},
        outputs=value,
        status=JobStatus.RUNNING,
        worker_id="w",
    )
    assert same_json(job.outputs, value)
    row = await Job.get(id=job.id)
    assert same_json(row.params, {"p": value}) and same_json(row.outputs, value)
    assert await client.services.jobs.finish(row, JobStatus.COMPLETED, outputs=value)
    finished = await Job.get(id=job.id)
    assert same_json(finished.outputs, value), (finished.outputs, value)
    # And as the API shows them.
    data = await client.data("query($id: ID!) { job(id: $id) { outputs } }", {"id": job.id})
    assert same_json(data["job"]["outputs"], value)


def test_same_json_tells_types_apart() -> None:
    assert same_json(1, 1.0) and same_json([1.5], [1.5])
    assert not same_json(123, "123") and not same_json([1], "[1]")
    assert not same_json(True, "true") and not same_json(None, "null")
    assert not same_json(1, True) and not same_json(True, 1)
    assert json.loads('"123"') == "123"
