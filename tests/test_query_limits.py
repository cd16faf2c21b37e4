"""Query limits (schema/validation.py): depth, aliases, root fields, tokens and cost are
measured in one linear walk and refused as BAD_USER_INPUT naming the measured value."""

from typing import Any

from graphql import get_introspection_query

from tests.conftest import TroveClient


def fragment_bomb(levels: int) -> str:
    """Each fragment spreads the previous one twice: under 2 KB, 2^levels fields expanded."""
    fragments = ["fragment F0 on Query { __typename }"] + [
        f"fragment F{i} on Query {{ ...F{i - 1} ...F{i - 1} }}" for i in range(1, levels + 1)
    ]
    return f"query {{ ...F{levels} }}\n" + "\n".join(fragments)


def refusal(body: dict[str, Any], limit: str) -> dict[str, Any]:
    assert "data" not in body, body
    errors = body["errors"]
    assert all(e["extensions"]["code"] == "BAD_USER_INPUT" for e in errors), errors
    error = next(e for e in errors if e["extensions"].get("limit") == limit)
    extensions = error["extensions"]
    assert str(extensions["measured"]) in error["message"]
    return extensions


async def test_doubling_fragments_are_measured_linearly_and_refused(client: TroveClient) -> None:
    # 39 levels: the old depth limiter walked 2^39 spreads (minutes of CPU, server frozen).
    for levels in (22, 39):
        query = fragment_bomb(levels)
        assert len(query) < 2048
        body = await client.graphql(query)
        extensions = refusal(body, "root fields")
        assert extensions["measured"] == 2**levels
        assert (await client.http.get("/healthz")).status_code == 200


async def test_deep_fragments_are_refused_by_depth(client: TroveClient) -> None:
    fragments = ["fragment D0 on Asset { id }"] + [
        f"fragment D{i} on Asset {{ parent {{ ...D{i - 1} ...D{i - 1} }} }}" for i in range(1, 30)
    ]
    query = 'query { asset(id: "x") { ...D29 } }\n' + "\n".join(fragments)
    extensions = refusal(await client.graphql(query), "depth")
    assert extensions["measured"] == 31
    assert extensions["maximum"] == 12


async def test_many_aliases_of_a_page_are_refused(app_factory: Any, sqlite_url: str) -> None:
    fields = " ".join(f"a{i}: assets(first: 100) {{ totalCount }}" for i in range(3000))
    query = "{ " + fields + " }"
    async with app_factory(sqlite_url) as trove:
        # 30,000 tokens: refused before it is even parsed.
        (error,) = (await trove.graphql(query))["errors"]
        assert error["extensions"]["code"] == "BAD_USER_INPUT"
        assert "5000 tokens" in error["message"]
        few = " ".join(f"a{i}: assets(first: 100) {{ totalCount }}" for i in range(200))
        extensions = refusal(await trove.graphql("{ " + few + " }"), "aliases")
        assert (extensions["measured"], extensions["maximum"]) == (200, 30)
    async with app_factory(sqlite_url, query_max_tokens=0) as trove:
        extensions = refusal(await trove.graphql(query), "aliases")
        assert extensions["measured"] == 3000


async def test_too_many_root_fields_are_refused(client: TroveClient) -> None:
    query = "{ " + " ".join(["assets { totalCount }"] * 21) + " }"
    refusal(await client.graphql(query), "root fields")


async def test_cost_multiplies_by_first_and_last_also_from_variables(client: TroveClient) -> None:
    query = """query($n: Int, $m: Int) {
      assets(first: $n) { edges { node { id children(first: $m) { edges { node {
        id children(first: 100) { edges { node { id name } } } } } } } } }
    }"""
    extensions = refusal(await client.graphql(query, {"n": 100, "m": 100}), "cost")
    assert extensions["measured"] > extensions["maximum"] == 100_000
    # The same shape asking for few items is cheap, and runs.
    assert (await client.data(query, {"n": 2, "m": 2}))["assets"]["edges"] == []
    # Absent page sizes count as the default page (50).
    unsized = (
        "{ assets { edges { node { children { edges { node { children { totalCount } } } } } } } }"
    )
    refusal(await client.graphql(unsized), "cost")
    last = "{ assets(last: 100) { edges { node { derivatives(first: 100) { edges { node { children(first: 100) { totalCount } } } } } } } }"
    refusal(await client.graphql(last), "cost")


async def test_documents_over_the_token_limit_are_not_parsed(client: TroveClient) -> None:
    query = "{ " + "__typename " * 6000 + "}"
    response = await client.http.post(
        "/graphql", json={"query": query}, headers={"accept": "application/graphql-response+json"}
    )
    assert response.status_code == 400
    (error,) = response.json()["errors"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert "5000 tokens" in error["message"]


async def test_ordinary_queries_and_graphiql_introspection_pass(client: TroveClient) -> None:
    introspection = get_introspection_query(
        descriptions=True,
        specified_by_url=True,
        directive_is_repeatable=True,
        schema_description=True,
        input_value_deprecation=True,
    )
    assert (await client.data(introspection))["__schema"]["queryType"]["name"] == "Query"
    page = """{ assets(first: 100) { totalCount edges { cursor node { id name url thumbnailUrl
      parent { id } job { id status outputs } children(first: 20) { totalCount } } } } }"""
    assert (await client.data(page))["assets"]["totalCount"] == 0


async def test_each_limit_is_a_setting(app_factory: Any, sqlite_url: str) -> None:
    async with app_factory(
        sqlite_url,
        query_max_aliases=2,
        query_max_root_fields=0,
        query_max_cost=0,
        query_max_tokens=20,
        query_depth_limit=2,
    ) as trove:
        refusal(await trove.graphql("{ a: __typename b: __typename c: __typename }"), "aliases")
        refusal(await trove.graphql('{ asset(id: "x") { parent { id } } }'), "depth")
        too_long = await trove.graphql("{ " + "__typename " * 21 + "}")
        assert "20 tokens" in too_long["errors"][0]["message"]
        # Root fields and cost are off (0).
        assert await trove.data("{ __typename __typename }") == {"__typename": "Query"}


async def test_hostile_page_sizes_and_several_operations_are_still_measured(
    client: TroveClient,
) -> None:
    query = "query($n: Int) { assets(first: $n) { edges { node { id } } } }"
    for value in (10**23, "1" * 5000, {"a": 1}, -5):
        response = await client.http.post(
            "/graphql", json={"query": query, "variables": {"n": value}}
        )
        assert response.status_code == 200
        for error in response.json()["errors"]:
            assert error["extensions"]["code"] == "BAD_USER_INPUT", error
    # Without an operation name the one that runs (the first) is the one measured.
    many = " ".join(f"a{i}: __typename" for i in range(40))
    body = await client.graphql("query Big { " + many + " } query Small { __typename }")
    refusal(body, "aliases")
    response = await client.http.post(
        "/graphql",
        json={
            "query": "query Small { __typename } query Big { " + many + " }",
            "operationName": "Big",
        },
    )
    refusal(response.json(), "aliases")


async def test_a_left_out_variable_counts_with_its_default(
    app_factory: Any, sqlite_url: str
) -> None:
    query = """query($n: Int%s) { assets(first: $n) { edges { node { id name
      children(first: $n) { edges { node { id name contentType size } } } } } } }"""
    async with app_factory(sqlite_url, query_max_cost=30_000) as trove:
        # Unset and undeclared: the default page (50) is assumed, 15,251.
        assert "errors" not in await trove.graphql(query % "")
        # Declared `= 100`: that is what runs, 60,501.
        extensions = refusal(await trove.graphql(query % " = 100"), "cost")
        assert extensions["measured"] == 60_501
        assert "errors" not in await trove.graphql(query % " = 100", {"n": 10})
