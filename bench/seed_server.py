"""The seed system for `python -m bench seed`: nodetool's asset REST API, run by the seed venv.

This file runs under `.bench/seed-venv/bin/python` (made by `make bench-seed`), never under
Trove's venv, and imports nothing of Trove. nodetool 0.5.3 is the last release of nodetool
on PyPI whose own package serves the FastAPI REST API (`nodetool.api`); nodetool-core
0.7.0-0.8.2 are only the node library and worker (the HTTP API moved to a TypeScript
server), so they have no `/api/assets` to measure.

  seed_server.py seed  --data DIR --count N --jobs J   fill DIR through nodetool's models
  seed_server.py serve --data DIR --port P             serve DIR as `nodetool serve` would

Both read nodetool's settings from DIR only (HOME, DB_PATH and ASSET_FOLDER point there).
"""

import argparse
import json
import os
import sys
import types
from pathlib import Path


def stand_in_torch() -> None:
    """nodetool.workflows.base_node imports torch at module level (for isinstance checks and
    inference_mode while nodes run), and the asset router imports it through
    models.workflow -> workflows.graph. The asset routes never run a node, so a stand-in
    module replaces a multi-GB install; it has only what import-time code touches."""
    torch = types.ModuleType("torch")

    class Tensor:  # never instantiated: `isinstance(value, torch.Tensor)` is then False
        pass

    torch.Tensor = Tensor  # type: ignore[attr-defined]
    sys.modules["torch"] = torch


def configure(data: Path) -> None:
    data.mkdir(parents=True, exist_ok=True)
    os.environ["HOME"] = str(data)  # nodetool's settings.yaml / secrets.yaml: ~/.config/nodetool
    os.environ["DB_PATH"] = str(data / "nodetool.sqlite3")
    os.environ["ASSET_FOLDER"] = str(data / "assets")
    os.environ.setdefault("ENV", "development")
    os.environ.setdefault("REMOTE_AUTH", "0")  # nodetool's local mode: one user, id "1"
    stand_in_torch()


def create_seed_app():
    """nodetool.api.server.create_app with the asset router alone: the same FastAPI app,
    middleware (CORS, the Permissions-Policy middleware), validation handler and router.
    server.py itself is not imported: at module level it pulls in every other router and
    the chat/Hugging Face modules (chromadb, ollama, ...), none of which serve assets."""
    from fastapi import FastAPI, Request
    from fastapi.exceptions import RequestValidationError
    from fastapi.middleware.cors import CORSMiddleware
    from fastapi.responses import JSONResponse
    from nodetool.api import asset
    from nodetool.common.environment import Environment
    from starlette.middleware.base import BaseHTTPMiddleware

    class PermissionsPolicyMiddleware(BaseHTTPMiddleware):  # as in nodetool.api.server
        async def dispatch(self, request, call_next):
            response = await call_next(request)
            response.headers["Permissions-Policy"] = "microphone=self"
            return response

    app = FastAPI()
    app.add_middleware(
        CORSMiddleware,
        allow_origins=["*"],
        allow_credentials=True,
        allow_methods=["*"],
        allow_headers=["*"],
        expose_headers=["*"],
        max_age=3600,
    )
    app.add_middleware(PermissionsPolicyMiddleware)
    app.include_router(asset.router)

    if not Environment.is_production():

        @app.exception_handler(RequestValidationError)
        async def validation_exception_handler(request: Request, exc: RequestValidationError):
            print(f"Request validation error: {exc}")
            return JSONResponse({"detail": exc.errors()}, status_code=422)

    @app.get("/health")
    async def health_check() -> str:
        return "OK"

    return app


def seed(count: int, jobs: int, workflows: int) -> dict[str, str]:
    """The bench's rows (bench/seed.py asset_rows: same names, types, jobs and workflows,
    no metadata), stored through nodetool's own models: its local user, one folder per job
    (its list filters by folder, not by job; its asset has no node id, size or hash) and
    `Asset.create` for every asset, oldest first. Returns {job name: folder id}."""
    from nodetool.api.utils import get_local_user
    from nodetool.models.asset import Asset

    user = get_local_user()
    # nodetool opens a new adapter (connection, schema check) on every call: DBModel.adapter
    # tests `hasattr(cls, "__adapter")`, which never finds the name-mangled attribute it
    # sets. Here one adapter serves the whole seeding, without an fsync per row (durability
    # only: the rows are what Asset.create stores).
    adapter = Asset.adapter()
    adapter.connection.execute("PRAGMA synchronous=OFF")
    Asset.adapter = classmethod(lambda cls: adapter)
    folders = {
        f"job-{j}": Asset.create(user_id=user.id, name=f"job-{j}", content_type="folder").id
        for j in range(jobs)
    }
    for i in range(count):
        Asset.create(
            user_id=user.id,
            name=f"render-{i:07d}.png",
            content_type="image/png" if i % 4 else "text/plain",
            parent_id=folders[f"job-{i % jobs}"],
            workflow_id=f"workflow-{i % workflows}",
        )
    adapter.connection.commit()
    return folders


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    seed_args = commands.add_parser("seed")
    seed_args.add_argument("--data", type=Path, required=True)
    seed_args.add_argument("--count", type=int, required=True)
    seed_args.add_argument("--jobs", type=int, default=100)
    seed_args.add_argument("--workflows", type=int, default=10)
    serve_args = commands.add_parser("serve")
    serve_args.add_argument("--data", type=Path, required=True)
    serve_args.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    configure(args.data)
    if args.command == "seed":
        folders = seed(args.count, args.jobs, args.workflows)
        print(json.dumps({"user_id": "1", "folders": folders}))
    else:
        import uvicorn

        # As nodetool.api.server.run_uvicorn_server (`nodetool serve`) calls it, without reload.
        uvicorn.run(app=create_seed_app(), host="127.0.0.1", port=args.port)


if __name__ == "__main__":
    main()
