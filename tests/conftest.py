"""Fixtures that run the real app: real HTTP handling, a real database, real files.

Every test gets its own data directory and its own database; PostgreSQL databases are
created for the test and dropped after it. With CI=true a missing PostgreSQL fails the
run instead of skipping.
"""

import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from asgi_lifespan import LifespanManager

from server.app import create_app
from server.settings import Settings

# Every query the tests send is checked against graphql-core's own executor (tests/parity.py).
pytest_plugins = ["tests.parity"]

POSTGRES_ADMIN_URL = os.environ.get(
    "TROVE_TEST_POSTGRES", "postgres://postgres@127.0.0.1:5432/postgres"
)
# Random-looking, as token mode requires (`trove secret` makes these); never used outside tests.
TEST_SECRET = "hvsy-wmqio47CUqVQ5q8CKx-QzqUpwVAsh1R4HorIOQ"
ROOT = Path(__file__).resolve().parent.parent


def _in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


async def create_postgres_database() -> str:
    name = f"trove_test_{uuid.uuid4().hex[:12]}"
    try:
        admin = await asyncpg.connect(POSTGRES_ADMIN_URL, timeout=5)
    except (OSError, asyncpg.PostgresError) as error:
        if _in_ci():
            pytest.fail(f"PostgreSQL is required in CI but unreachable: {error}")
        pytest.skip(f"PostgreSQL unreachable: {error}")
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    base = POSTGRES_ADMIN_URL.rsplit("/", 1)[0]
    return f"{base}/{name}"


async def drop_postgres_database(url: str) -> None:
    name = url.rsplit("/", 1)[1]
    admin = await asyncpg.connect(POSTGRES_ADMIN_URL, timeout=5)
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


@pytest.fixture(params=["sqlite", "postgres"])
async def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    if request.param == "sqlite":
        yield f"sqlite://{tmp_path / 'trove.db'}"
        return
    url = await create_postgres_database()
    try:
        yield url
    finally:
        await drop_postgres_database(url)


@pytest.fixture
async def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite://{tmp_path / 'trove.db'}"


def make_settings(tmp_path: Path, database_url: str, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "data_dir": tmp_path / "data",
        "database_url": database_url,
        "secret_key": TEST_SECRET,
    }
    values.update(overrides)
    return Settings(**values)


class TroveClient:
    """An HTTP client for the app, with GraphQL helpers."""

    def __init__(self, http: httpx.AsyncClient, app: Any) -> None:
        self.http = http
        self.app = app

    @property
    def services(self) -> Any:
        return self.app.state.services

    async def graphql(
        self,
        query: str,
        variables: dict[str, Any] | None = None,
        *,
        headers: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        response = await self.http.post(
            "/graphql", json={"query": query, "variables": variables or {}}, headers=headers
        )
        return response.json()

    async def data(self, query: str, variables: dict[str, Any] | None = None, **kw: Any) -> Any:
        body = await self.graphql(query, variables, **kw)
        assert "errors" not in body, body.get("errors")
        return body["data"]

    async def upload(
        self,
        content: bytes,
        *,
        filename: str = "file.bin",
        file_content_type: str = "application/octet-stream",
        headers: dict[str, str] | None = None,
        selection: str = "id name contentType size sha256 nodeId jobId workflowId",
        **fields: Any,
    ) -> dict[str, Any]:
        return await self.upload_raw(
            content,
            filename=filename,
            file_content_type=file_content_type,
            headers=headers,
            selection=selection,
            **fields,
        )

    async def upload_raw(
        self,
        content: bytes,
        *,
        filename: str,
        file_content_type: str,
        headers: dict[str, str] | None,
        selection: str,
        **fields: Any,
    ) -> dict[str, Any]:
        import json

        operations = {
            "query": "mutation($input: CreateAssetInput!) { createAsset(input: $input) { "
            + selection
            + " } }",
            "variables": {"input": {"file": None, **fields}},
        }
        response = await self.http.post(
            "/graphql",
            data={
                "operations": json.dumps(operations),
                "map": json.dumps({"0": ["variables.input.file"]}),
            },
            files={"0": (filename, content, file_content_type)},
            headers={"Apollo-Require-Preflight": "true", **(headers or {})},
        )
        return response.json()


@pytest.fixture
def app_factory(tmp_path: Path) -> Any:
    """Start the app for a database; returns an async context manager yielding a client."""
    import contextlib

    @contextlib.asynccontextmanager
    async def start(database_url: str, **overrides: Any) -> AsyncIterator[TroveClient]:
        settings = make_settings(tmp_path, database_url, **overrides)
        app = create_app(settings)
        async with LifespanManager(app, startup_timeout=60) as manager:
            transport = httpx.ASGITransport(app=manager.app)
            async with httpx.AsyncClient(
                transport=transport, base_url="http://testserver", timeout=60
            ) as http:
                yield TroveClient(http, app)

    return start


@pytest.fixture
async def client(app_factory: Any, database_url: str) -> AsyncIterator[TroveClient]:
    """The app on SQLite and on PostgreSQL (each test runs once per database)."""
    async with app_factory(database_url) as trove:
        yield trove


@pytest.fixture
async def sqlite_client(app_factory: Any, sqlite_url: str) -> AsyncIterator[TroveClient]:
    async with app_factory(sqlite_url) as trove:
        yield trove


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class LiveServer:
    """`trove serve` in a child process, as a user runs it."""

    def __init__(self, env: dict[str, str], data_dir: Path) -> None:
        self.env = env
        self.data_dir = data_dir
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def log_path(self) -> Path:
        return self.data_dir.parent / f"server-{self.port}.log"

    def start(self) -> None:
        for _ in range(3):
            if self._start_once():
                return
            # Another process took the port between choosing and binding it: choose again.
            self.port = free_port()
            self.url = f"http://127.0.0.1:{self.port}"
        raise RuntimeError("trove serve could not bind a free port")

    def _start_once(self) -> bool:
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "server.cli", "serve", "--port", str(self.port)],
                cwd=ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                output = self.log_path.read_text(errors="replace")
                if "address already in use" in output.lower():
                    return False
                raise RuntimeError(f"trove serve exited during start-up:\n{output[-3000:]}")
            try:
                if httpx.get(self.url + "/healthz", timeout=1).status_code == 200:
                    return True
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise RuntimeError("trove serve did not become healthy")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def kill(self) -> None:
        assert self.process is not None
        self.process.kill()
        self.process.wait()


@pytest.fixture
def live_server_factory(tmp_path: Path) -> Iterator[Any]:
    servers: list[LiveServer] = []

    def start(database_url: str | None = None, **env: str) -> LiveServer:
        data_dir = tmp_path / "live-data"
        data_dir.mkdir(exist_ok=True)
        full_env = {
            **os.environ,
            "TROVE_DATA_DIR": str(data_dir),
            "TROVE_SECRET_KEY": TEST_SECRET,
            **({"TROVE_DATABASE_URL": database_url} if database_url else {}),
            **env,
        }
        server = LiveServer(full_env, data_dir)
        server.start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


@pytest.fixture(scope="session")
def seaweedfs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """One SeaweedFS server for the session; each test gets its own bucket (`s3_bucket`).

    With CI=true a server that cannot start fails the tests that need it.
    """
    from tests.s3server import SeaweedFS

    server = SeaweedFS(tmp_path_factory.mktemp("seaweedfs"))
    try:
        server.start()
    except RuntimeError as error:
        if _in_ci():
            pytest.fail(f"SeaweedFS is required in CI but did not start: {error}")
        pytest.skip(f"SeaweedFS unavailable: {error}")
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def s3_bucket(seaweedfs: Any) -> Iterator[str]:
    """A fresh, empty bucket on the test S3 server, dropped with everything in it after."""
    name: str = seaweedfs.create_bucket()
    try:
        yield name
    finally:
        seaweedfs.drop_bucket(name)
