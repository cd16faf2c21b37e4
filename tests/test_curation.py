"""Tags, metadata search, the AssetFilter additions and bulk actions, through the HTTP app
on SQLite and PostgreSQL."""

from typing import Any

from tests.conftest import TroveClient

SELECTION = "id name tags expiresAt metadata parentId"


async def make(client: TroveClient, name: str, **fields: Any) -> dict[str, Any]:
    body = await client.upload(name.encode(), filename=name, selection=SELECTION, **fields)
    assert "errors" not in body, body
    return body["data"]["createAsset"]


async def names(
    client: TroveClient, args: str, variables: dict[str, Any] | None = None
) -> list[str]:
    params = ", ".join(f"${k}: {t}" for k, t in (variables or {}).get("__types__", {}).items())
    query = (
        f"query{'(' + params + ')' if params else ''} {{ assets({args}) {{ nodes {{ name }} }} }}"
    )
    values = {k: v for k, v in (variables or {}).items() if k != "__types__"}
    data = await client.data(query, values)
    return [n["name"] for n in data["assets"]["nodes"]]


def error_code(body: dict[str, Any]) -> str:
    assert body.get("errors"), body
    return str(body["errors"][0]["extensions"]["code"])


async def test_tags_are_normalised_and_filter_newest_first(client: TroveClient) -> None:
    a = await make(client, "a.txt", tags=["  Cat ", "dog", "cat", "Outdoor"])
    assert a["tags"] == ["Cat", "dog", "Outdoor"]  # trimmed, de-duplicated, sorted
    await make(client, "b.txt", tags=["CAT"])
    await make(client, "c.txt", tags=["cat", "DOG"])
    await make(client, "d.txt")

    assert await names(client, 'tags: ["cat"]') == ["c.txt", "b.txt", "a.txt"]
    assert await names(client, 'tags: ["Cat", "dog"]') == ["c.txt", "a.txt"]
    assert await names(client, 'tags: ["cat", "dog"], first: 1') == ["c.txt"]
    assert await names(client, 'tags: ["nope"]') == []

    for bad in ['[""]', '["   "]', '["' + "x" * 65 + '"]']:
        body = await client.graphql(f"{{ assets(tags: {bad}) {{ nodes {{ id }} }} }}")
        assert error_code(body) == "BAD_USER_INPUT"
    body = await client.upload(b"x", filename="x.txt", tags=["y" * 65])
    assert error_code(body) == "BAD_USER_INPUT"


async def test_update_replaces_tags_and_counts_follow(client: TroveClient) -> None:
    a = await make(client, "a.txt", tags=["red", "square"])
    await make(client, "b.txt", tags=["Red"])
    await make(client, "c.txt", tags=["reduce", "blue"])
    counts = (await client.data('{ assetTags(prefix: "re") { tag count } }'))["assetTags"]
    assert counts == [{"tag": "Red", "count": 2}, {"tag": "reduce", "count": 1}]

    updated = await client.data(
        'mutation($id: ID!) { updateAsset(id: $id, input: {tags: ["Blue", "new"]}) { tags } }',
        {"id": a["id"]},
    )
    assert updated["updateAsset"]["tags"] == ["Blue", "new"]
    counts = (await client.data("{ assetTags { tag count } }"))["assetTags"]
    assert counts[0] == {"tag": "blue", "count": 2} or counts[0] == {"tag": "Blue", "count": 2}
    assert {c["tag"].lower(): c["count"] for c in counts} == {
        "blue": 2,
        "new": 1,
        "red": 1,
        "reduce": 1,
    }
    assert (await client.data('{ assetTags(prefix: "n", first: 1) { tag } }'))["assetTags"] == [
        {"tag": "new"}
    ]
    # Another user's tags are not visible (auth off: everyone is the same user, so just check
    # the untouched fields survive an update that does not mention tags).
    renamed = await client.data(
        'mutation($id: ID!) { updateAsset(id: $id, input: {name: "z.txt"}) { tags } }',
        {"id": a["id"]},
    )
    assert renamed["updateAsset"]["tags"] == ["Blue", "new"]


async def test_tag_and_untag_by_filter(client: TroveClient) -> None:
    a = await make(client, "a.txt", jobId="j1", tags=["keep"])
    await make(client, "b.txt", jobId="j1")
    await make(client, "c.txt", jobId="j2")
    changed = await client.data(
        'mutation { tagAssets(filter: {jobId: "j1"}, tags: ["Best", "keep"]) }'
    )
    assert changed["tagAssets"] == 2
    assert await names(client, 'tags: ["best", "KEEP"]') == ["b.txt", "a.txt"]
    again = await client.data('mutation { tagAssets(filter: {jobId: "j1"}, tags: ["best"]) }')
    assert again["tagAssets"] == 0  # nothing changed
    removed = await client.data(
        'mutation($ids: [ID!]) { untagAssets(filter: {ids: $ids}, tags: ["KEEP"]) }',
        {"ids": [a["id"]]},
    )
    assert removed["untagAssets"] == 1
    asset = await client.data("query($id: ID!) { asset(id: $id) { tags } }", {"id": a["id"]})
    assert asset["asset"]["tags"] == ["Best"]
    assert await names(client, 'tags: ["keep"]') == ["b.txt"]


async def test_bulk_mutations_refuse_an_empty_filter(client: TroveClient) -> None:
    await make(client, "a.txt")
    for mutation in (
        'tagAssets(filter: {}, tags: ["x"])',
        'untagAssets(filter: {}, tags: ["x"])',
        "moveAssets(filter: {}, parentId: null)",
        "deleteAssets(filter: {}) { deletedCount }",
        'tagAssets(filter: {tags: [], metadata: {}, search: ""}, tags: ["x"])',
    ):
        body = await client.graphql(f"mutation {{ {mutation} }}")
        assert error_code(body) == "BAD_USER_INPUT", mutation
        assert "at least one filter field" in body["errors"][0]["message"]
    assert await names(client, "first: 10") == ["a.txt"]


async def test_metadata_containment(client: TroveClient) -> None:
    await make(client, "one.png", metadata={"seed": 42, "model": "sdxl", "lora": ["a", "b"]})
    await make(client, "two.png", metadata={"seed": 42.0, "model": "flux", "opts": {"hires": True}})
    await make(client, "three.png", metadata={"seed": "42", "model": "sdxl", "neg": None})
    await make(client, "four.png")

    typed = {"__types__": {"m": "JSON"}}

    async def match(query: Any) -> list[str]:
        return await names(client, "metadata: $m", {**typed, "m": query})

    assert await match({"seed": 42}) == ["two.png", "one.png"]  # 42 == 42.0, not "42"
    assert await match({"seed": 42, "model": "sdxl"}) == ["one.png"]
    assert await match({"lora": ["b"]}) == ["one.png"]
    assert await match({"lora": ["b", "c"]}) == []
    assert await match({"opts": {"hires": True}}) == ["two.png"]
    assert await match({"opts": {"hires": 1}}) == []
    assert await match({"neg": None}) == ["three.png"]
    assert await match({}) == ["three.png", "two.png", "one.png"]
    # Combined with the other filters, and as an AssetFilter in a bulk mutation.
    assert await names(client, 'metadata: {model: "sdxl"}, search: "three"') == ["three.png"]
    tagged = await client.data(
        'mutation { tagAssets(filter: {metadata: {model: "sdxl"}}, tags: ["sdxl"]) }'
    )
    assert tagged["tagAssets"] == 2

    for bad in ("[1]", "3", '"x"'):
        body = await client.graphql(f"{{ assets(metadata: {bad}) {{ nodes {{ id }} }} }}")
        assert error_code(body) == "BAD_USER_INPUT", bad


async def test_asset_filter_additions_and_move(client: TroveClient) -> None:
    folder = (await client.data('mutation { createFolder(input: {name: "Best"}) { id } }'))[
        "createFolder"
    ]
    other = (await client.data('mutation { createFolder(input: {name: "Other"}) { id } }'))[
        "createFolder"
    ]
    a = await make(client, "cat.png", tags=["pick"], contentType="image/png")
    b = await make(client, "dog.txt", tags=["pick"])
    c = await make(client, "cat-2.txt")

    moved = await client.data(
        'mutation($p: ID) { moveAssets(filter: {tags: ["pick"], search: "cat"}, parentId: $p) }',
        {"p": folder["id"]},
    )
    assert moved["moveAssets"] == 1
    children = await client.data(
        "query($p: ID!) { asset(id: $p) { children { nodes { name } } } }", {"p": folder["id"]}
    )
    assert [n["name"] for n in children["asset"]["children"]["nodes"]] == ["cat.png"]

    moved = await client.data(
        "mutation($ids: [ID!], $p: ID) { moveAssets(filter: {ids: $ids}, parentId: $p) }",
        {"ids": [b["id"], c["id"], "not-an-id"], "p": folder["id"]},
    )
    assert moved["moveAssets"] == 2
    in_folder = await client.data(
        "query($p: ID!) { assets(parentId: $p) { totalCount } }", {"p": folder["id"]}
    )
    assert in_folder["assets"]["totalCount"] == 3

    # AssetFilter's contentType (exact or family), parentId and createdAfter.
    count = await client.data(
        'mutation($p: ID) { tagAssets(filter: {parentId: $p, contentType: "text/"}, tags: ["t"]) }',
        {"p": folder["id"]},
    )
    assert count["tagAssets"] == 2
    created = await client.data("query($id: ID!) { asset(id: $id) { createdAt } }", {"id": a["id"]})
    after = await client.data(
        'mutation($t: DateTime) { tagAssets(filter: {createdAfter: $t}, tags: ["late"]) }',
        {"t": created["asset"]["createdAt"]},
    )
    assert after["tagAssets"] >= 2  # dog.txt and cat-2.txt were created after cat.png

    # Into itself, or into a descendant, is refused; to the top level works.
    body = await client.graphql(
        "mutation($ids: [ID!], $p: ID) { moveAssets(filter: {ids: $ids}, parentId: $p) }",
        {"ids": [folder["id"]], "p": folder["id"]},
    )
    assert error_code(body) == "BAD_USER_INPUT"
    await client.data(
        "mutation($ids: [ID!], $p: ID) { moveAssets(filter: {ids: $ids}, parentId: $p) }",
        {"ids": [other["id"]], "p": folder["id"]},
    )
    body = await client.graphql(
        "mutation($ids: [ID!], $p: ID) { moveAssets(filter: {ids: $ids}, parentId: $p) }",
        {"ids": [folder["id"]], "p": other["id"]},
    )
    assert error_code(body) == "BAD_USER_INPUT"
    top = await client.data(
        "mutation($p: ID) { moveAssets(filter: {parentId: $p}, parentId: null) }",
        {"p": folder["id"]},
    )
    assert top["moveAssets"] == 4
    body = await client.graphql(
        'mutation { moveAssets(filter: {search: "cat"}, parentId: "00000000-0000-7000-8000-000000000000") }'
    )
    assert error_code(body) == "NOT_FOUND"


async def test_expires_at_on_create_and_update(client: TroveClient) -> None:
    a = await make(client, "a.txt", expiresAt="2030-01-02T03:04:05Z")
    assert a["expiresAt"] == "2030-01-02T03:04:05Z"
    cleared = await client.data(
        "mutation($id: ID!) { updateAsset(id: $id, input: {expiresAt: null}) { expiresAt } }",
        {"id": a["id"]},
    )
    assert cleared["updateAsset"]["expiresAt"] is None
    set_again = await client.data(
        'mutation($id: ID!) { updateAsset(id: $id, input: {expiresAt: "2031-01-01T00:00:00+02:00"}) { expiresAt } }',
        {"id": a["id"]},
    )
    assert set_again["updateAsset"]["expiresAt"] == "2030-12-31T22:00:00Z"


async def explain(client: TroveClient, where: Any) -> str:
    from tortoise import connections

    from models import User

    owner = await User.get(name="local")
    query = client.services.assets._filtered(owner, where).order_by("-id").limit(51)
    query._choose_db_if_not_chosen()
    query._make_query()
    sql, values = query.query.get_parameterized_sql()
    dialect = query._db.capabilities.dialect
    conn = connections.get(dialect)
    if dialect == "postgres":
        async with conn.acquire_connection() as raw:
            # Tiny test tables would be scanned whole: ask which index the query can use.
            await raw.execute("SET enable_seqscan = off")
            rows = await raw.fetch("EXPLAIN " + sql, *values)
            await raw.execute("RESET enable_seqscan")
        return "\n".join(row[0] for row in rows)
    rows = await conn.execute_query_dict("EXPLAIN QUERY PLAN " + sql, values)
    return "\n".join(str(row["detail"]) for row in rows)


async def test_tag_and_metadata_filters_are_index_backed(client: TroveClient) -> None:
    from services.assets import AssetFilter

    await make(client, "a.txt", tags=["x", "y"], metadata={"seed": 1})
    plan = await explain(client, AssetFilter(tags=["x", "Y"]))
    assert plan.count("ix_asset_tags_owner_key") == 2, plan
    if "Index" in plan:  # PostgreSQL: the GIN index serves containment (`@>`)
        from tortoise import connections

        async with connections.get("postgres").acquire_connection() as raw:
            await raw.execute("SET enable_seqscan = off")
            rows = await raw.fetch(
                "EXPLAIN SELECT id FROM assets WHERE metadata @> $1::jsonb", '{"seed": 1}'
            )
            await raw.execute("RESET enable_seqscan")
        plan = "\n".join(row[0] for row in rows)
        assert "ix_assets_metadata_gin" in plan, plan
