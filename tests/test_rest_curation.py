"""The REST adapter's curation fields and filters (tags, metadata search, expiry), on SQLite
and PostgreSQL."""

from typing import Any

from tests.conftest import TroveClient
from tests.test_rest import create


async def made(client: TroveClient, name: str, fields: dict[str, Any]) -> dict[str, Any]:
    response = await create(client, name.encode(), {"name": name, **fields})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def listed(client: TroveClient, **params: str) -> list[str]:
    response = await client.http.get("/api/assets", params=params)
    assert response.status_code == 200, response.text
    return [asset["name"] for asset in response.json()["assets"]]


async def test_rest_creates_filters_and_updates_curation_fields(client: TroveClient) -> None:
    a = await made(
        client,
        "a.png",
        {
            "tags": ["Cat", " cat ", "best"],
            "metadata": {"seed": 42, "model": "sdxl"},
            "expires_at": "2030-01-01T00:00:00Z",
        },
    )
    assert a["tags"] == ["best", "Cat"] and a["expires_at"] == "2030-01-01T00:00:00Z"
    await made(client, "b.png", {"tags": ["cat"], "metadata": {"seed": 7}})
    await made(client, "c.png", {})

    assert await listed(client, tags="CAT") == ["b.png", "a.png"]
    assert await listed(client, tags="cat,best") == ["a.png"]
    assert await listed(client, metadata='{"seed": 42}') == ["a.png"]
    assert await listed(client, metadata='{"seed": 7}', tags="cat") == ["b.png"]

    updated = await client.http.put(
        f"/api/assets/{a['id']}", json={"tags": ["new"], "expires_at": None}
    )
    assert updated.status_code == 200, updated.text
    assert updated.json()["tags"] == ["new"] and updated.json()["expires_at"] is None
    kept = await client.http.put(f"/api/assets/{a['id']}", json={"name": "renamed.png"})
    assert kept.json()["tags"] == ["new"]

    for fields in (
        {"tags": "cat"},
        {"tags": ["x" * 65]},
        {"expires_at": "tomorrow"},
        {"expires_at": 5},
    ):
        response = await create(client, b"x", fields)
        assert response.status_code == 400, (fields, response.text)
        assert response.json()["code"] == "BAD_USER_INPUT"
    for params in ({"metadata": "[1]"}, {"metadata": "{bad"}):
        response = await client.http.get("/api/assets", params=params)
        assert response.status_code == 400, params
