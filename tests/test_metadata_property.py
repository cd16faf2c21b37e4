"""Property: `assets(metadata:)` returns exactly the assets a Python containment function
selects, on SQLite (json_each) and PostgreSQL (jsonb @>), for random documents and queries."""

import uuid
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from models import User
from services.assets import Tracking
from services.metadata_search import contains
from tests.conftest import TroveClient

# Few keys and values, so that random queries often hit (a query that never matches proves
# little); numbers mix ints and floats with equal values (1 and 1.0 must match).
KEYS = st.sampled_from(["seed", "model", "a", "b", "tags", "k'ey", "ünï", ""])
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.sampled_from([0, 1, 2, 42, -7, 1.0, 2.5, 42.0, 10**12]),
    st.sampled_from(["", "x", "sdxl", "42", "true", "null", "a'b", 'q"t']),
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(KEYS, inner, max_size=4)),
    max_leaves=8,
)
DOCUMENTS = st.one_of(
    st.dictionaries(KEYS, VALUES, max_size=5),
    st.lists(VALUES, max_size=3),
    st.none(),
)


def sub_query(document: Any, draw: st.DrawFn) -> Any:
    """A query likely to be contained: parts of a document, sometimes altered."""
    if isinstance(document, dict):
        keys = draw(st.lists(st.sampled_from(sorted(document)), unique=True)) if document else []
        return {k: sub_query(document[k], draw) for k in keys}
    if isinstance(document, list):
        picked = draw(st.lists(st.sampled_from(document), max_size=2)) if document else []
        return [sub_query(v, draw) for v in picked]
    if draw(st.integers(0, 5)) == 0:
        return draw(SCALARS)  # occasionally a different scalar
    return document


@st.composite
def cases(draw: st.DrawFn) -> tuple[list[Any], list[dict[str, Any]]]:
    documents = draw(st.lists(DOCUMENTS, min_size=1, max_size=6))
    queries: list[dict[str, Any]] = []
    for _ in range(draw(st.integers(1, 4))):
        if draw(st.booleans()):
            source = draw(st.sampled_from(documents))
            query = sub_query(source if isinstance(source, dict) else {}, draw)
        else:
            query = draw(st.dictionaries(KEYS, VALUES, max_size=3))
        queries.append(query)
    return documents, queries


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(case=cases())
async def test_metadata_search_matches_python_containment(
    client: TroveClient, case: tuple[list[Any], list[dict[str, Any]]]
) -> None:
    documents, queries = case
    service = client.services.assets
    owner = await User.get(name="local")
    # Each example's assets share a job id of their own, so examples never see each other.
    job = uuid.uuid4().hex
    ids: dict[str, Any] = {}
    for index, document in enumerate(documents):
        asset = await service.create_asset(
            owner=owner,
            content=_bytes(b"%d" % index),
            name=f"{index}.txt",
            tracking=Tracking(job_id=job),
            metadata=document,
        )
        ids[str(asset.id)] = asset.metadata
    for query in queries:
        data = await client.data(
            "query($job: String, $m: JSON) { assets(jobId: $job, metadata: $m, first: 100) "
            "{ nodes { id } } }",
            {"job": job, "m": query},
        )
        got = {node["id"] for node in data["assets"]["nodes"]}
        expected = {asset_id for asset_id, doc in ids.items() if contains(doc, query)}
        assert got == expected, (query, ids)


async def _bytes(data: bytes) -> Any:
    yield data


def test_reference_containment_follows_postgresql() -> None:
    # Cases from PostgreSQL's documentation of jsonb containment.
    assert contains({"product": "PostgreSQL", "version": 9.4, "jsonb": True}, {"version": 9.4})
    assert contains([1, 2, 3], [1, 3])
    assert contains([1, 2, 3], [3, 1])
    assert contains([1, 2, 3], [1, 2, 2])
    assert not contains([1, 2, [1, 3]], [1, 3])
    assert contains([1, 2, [1, 3]], [[1, 3]])
    assert contains({"foo": {"bar": "baz"}}, {"foo": {}})
    assert not contains({"foo": {"bar": "baz"}}, {"bar": "baz"})
    assert not contains({"a": [1, 2]}, {"a": 1})
    assert not contains({"a": 1}, {"a": True})
    assert contains({"a": 1}, {"a": 1.0})
    assert not contains(None, {})
