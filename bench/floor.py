"""The floor for the list benchmark: the least a server can do to answer the same request.

Same process model (uvicorn, one worker), same driver (Tortoise's connection), same SQL,
same JSON; no GraphQL. Run: python -m bench.floor --port P (reads TROVE_* like trove)."""

import argparse
import base64
import contextlib
import json
from collections.abc import AsyncIterator
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from tortoise import Tortoise

from models import db
from server.cli import uvicorn_log_config
from server.settings import Settings
from server.timeouts import PROTOCOL
from services.signing import UrlSigner
from services.urls import asset_url

LIST_SQL = (
    'SELECT "metadata","owner_id","sha256","node_id","created_at","id","job_id","size",'
    '"updated_at","name","workflow_id","content_type","parent_id" FROM "assets" '
    'WHERE "owner_id"={p1} AND "job_id"={p2} ORDER BY "id" DESC LIMIT {p3}'
)


def create_floor_app(settings: Settings) -> Starlette:
    url = settings.resolved_database_url
    dialect = db.dialect_of(url)
    sql = LIST_SQL.format(
        **(
            {"p1": "?", "p2": "?", "p3": "?"}
            if dialect == "sqlite"
            else {"p1": "$1", "p2": "$2", "p3": "$3"}
        )
    )
    signer = UrlSigner(settings.secret_key, settings.url_ttl_seconds)
    state: dict[str, Any] = {}

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        # In-process beside Trove (bench.cpu) the ORM is already open: share its connection.
        owns_connection = not Tortoise.is_inited()
        if owns_connection:
            await db.connect(url)
        connection = Tortoise.get_connection(dialect)
        rows = await connection.execute_query_dict(
            'SELECT "id" FROM "users" WHERE "name" = \'local\''
        )
        state["owner"] = rows[0]["id"]
        state["connection"] = connection
        yield
        if owns_connection:
            await db.disconnect()

    async def graphql(request: Request) -> Response:
        payload = json.loads(await request.body())
        job_id = payload["variables"]["jobId"]
        first = 50
        rows = await state["connection"].execute_query_dict(
            sql, [state["owner"], job_id, first + 1]
        )
        base = str(request.base_url).rstrip("/")
        edges = []
        for row in rows[:first]:
            asset_id = str(row["id"])
            created = row["created_at"]
            edges.append(
                {
                    "node": {
                        "id": asset_id,
                        "name": row["name"],
                        "contentType": row["content_type"],
                        "size": row["size"],
                        "url": asset_url(signer, base, asset_id),
                        "createdAt": created if isinstance(created, str) else created.isoformat(),
                        "nodeId": row["node_id"],
                    }
                }
            )
        last = str(rows[min(len(rows), first) - 1]["id"]) if rows else None
        cursor = (
            base64.urlsafe_b64encode(json.dumps(["CREATED_AT_DESC", last]).encode())
            .decode()
            .rstrip("=")
            if last
            else None
        )
        body = {
            "data": {
                "assets": {
                    "edges": edges,
                    "pageInfo": {"hasNextPage": len(rows) > first, "endCursor": cursor},
                }
            }
        }
        return Response(json.dumps(body), media_type="application/json")

    return Starlette(routes=[Route("/graphql", graphql, methods=["POST"])], lifespan=lifespan)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    # Served as `trove serve` serves Trove (server/cli.py): the same uvicorn protocol class,
    # log level and access log, so the comparison is of the two apps' work per request.
    uvicorn.run(
        create_floor_app(Settings()),
        host="127.0.0.1",
        port=args.port,
        log_level="info",
        http=PROTOCOL,
        log_config=uvicorn_log_config(),
    )


if __name__ == "__main__":
    main()
