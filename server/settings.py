import json
import math
import os
from collections import Counter
from functools import cached_property
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

SUPPORTED_SCHEMES = {"sqlite", "postgres", "postgresql", "asyncpg"}
LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1"}
DEVELOPMENT_SECRET = "trove-development-secret-change-me"
MIN_SECRET_BYTES = 32
# What 32 random bytes, written in hex or base64, comfortably exceed (about 200 bits);
# words, repeated or keyboard patterns stay well below.
MIN_SECRET_BITS = 128


def estimated_bits(secret: str) -> float:
    """A lower-bound guess of a secret's entropy: its length times the Shannon entropy of
    its own characters (a repeated or dictionary-like secret scores low)."""
    if not secret:
        return 0.0
    total = len(secret)
    per_char = -sum(n / total * math.log2(n / total) for n in Counter(secret).values())
    return per_char * total


def secret_problem(secret: str) -> str | None:
    """Why `secret` cannot sign links in token mode, or None when it looks random enough."""
    value = secret.strip()
    hint = "generate one with `trove secret`"
    if value == DEVELOPMENT_SECRET:
        return f"must be set when TROVE_AUTH=token ({hint})"
    size = len(value.encode("utf-8"))
    if size < MIN_SECRET_BYTES:
        return (
            f"must be at least {MIN_SECRET_BYTES} bytes when TROVE_AUTH=token, not {size} ({hint})"
        )
    if estimated_bits(value) < MIN_SECRET_BITS:
        return f"does not look random: anyone who guesses it can forge content links ({hint})"
    return None


class Settings(BaseSettings):
    """Everything Trove reads from the environment (TROVE_*)."""

    model_config = SettingsConfigDict(env_prefix="TROVE_", extra="ignore")

    host: str = "127.0.0.1"
    port: int = 8000
    data_dir: Path = Path("data")
    database_url: str | None = None
    # PostgreSQL connections each process keeps at most (a maxsize= in the URL wins).
    db_pool_size: int = Field(default=10, gt=0)
    # API processes `trove serve` starts (uvicorn workers).
    workers: int = Field(default=1, gt=0)
    auth: Literal["none", "token"] = "none"
    secret_key: str = DEVELOPMENT_SECRET
    max_upload_bytes: int = Field(default=1 << 30, gt=0)
    # TROVE_AUTH=none on a non-loopback host exposes every asset; it must be asked for.
    allow_insecure_host: bool = False
    # Query limits (docs/security.md); 0 turns one off.
    query_depth_limit: int = Field(default=12, ge=0)
    query_max_aliases: int = Field(default=30, ge=0)
    query_max_root_fields: int = Field(default=20, ge=0)
    query_max_tokens: int = Field(default=5000, ge=0)
    query_max_cost: int = Field(default=100_000, ge=0)
    url_ttl_seconds: int = 3600
    # Thumbnails: images/videos over this many pixels get none (read from the header, never
    # decoded); at most this many are rendered at once.
    thumbnail_max_pixels: int = Field(default=50_000_000, gt=0)
    thumbnail_concurrency: int = Field(default=2, gt=0)
    # The server's address as clients see it (behind a proxy); else taken from each request.
    public_url: str = ""
    # Browser origins allowed to call the API from their pages ("*" for any); none by default.
    # NoDecode: a comma-separated list reads better in an env file than a JSON array.
    cors_origins: Annotated[list[str], NoDecode] = []
    persisted_query_cache_size: int = Field(default=1000, ge=0)
    # Slow or stalled clients: a request's headers must arrive within this many seconds, and
    # each piece of its body within `body_timeout` seconds of the previous one (408 otherwise).
    header_timeout: float = Field(default=10.0, gt=0)
    body_timeout: float = Field(default=30.0, gt=0)
    # Open connections per server process; past it requests answer 503 at once.
    max_connections: int = Field(default=1000, gt=0)
    # Uploads received at once per server process; past it uploads answer 503 at once.
    max_concurrent_uploads: int = Field(default=64, gt=0)
    # Workflow graphs (stored or run inline): nodes, edges and encoded size.
    max_graph_nodes: int = Field(default=2000, gt=0)
    max_graph_edges: int = Field(default=10000, gt=0)
    max_graph_bytes: int = Field(default=1 << 20, gt=0)
    # How often the server deletes assets whose expiresAt has passed (retention).
    retention_interval_seconds: float = Field(default=60, gt=0)
    # Where `npm ci` put GraphiQL; unset means node_modules beside the code.
    node_modules: Path | None = None
    # Where blobs live: file:///path (default: <data_dir>/blobs) or s3://bucket/prefix.
    storage_url: str = ""
    # S3 connection; each falls back to the standard AWS variable (AWS_ENDPOINT_URL, ...).
    s3_endpoint_url: str | None = None
    s3_region: str | None = None
    s3_access_key_id: str | None = None
    s3_secret_access_key: str | None = None
    # Seconds to connect to S3 and to wait for each read of its answer; each request is
    # tried three times, so a hung store is answered 503 after about three times this.
    s3_timeout_seconds: float = Field(default=20, gt=0)
    # Content links answer with a redirect to a presigned GET on the bucket.
    s3_presigned_downloads: bool = False
    # Live events between processes: "" picks LISTEN/NOTIFY on PostgreSQL and in-process on
    # SQLite; or "inprocess", "postgres", "redis://host:6379/0".
    broker_url: str = ""
    # The PostgreSQL NOTIFY channel / Redis pub/sub channel the processes share.
    broker_channel: str = "trove_events"
    # How long durable events stay available for subscribers that reconnect.
    event_retention_seconds: int = Field(default=24 * 3600, gt=0)
    # How long a direct upload (createUpload) stays open; its part URLs last as long.
    upload_ttl_seconds: int = Field(default=24 * 3600, gt=0)
    # A job whose holder sent no heartbeat for this long is failed (its worker is presumed
    # dead); holders beat every third of it.
    job_lease_seconds: float = Field(default=30, gt=0)
    # inprocess: jobs run in the API process that started them (the embedded default);
    # queue: they wait in a procrastinate queue on PostgreSQL for `trove worker` processes.
    job_runner: Literal["inprocess", "queue"] = "inprocess"
    # Jobs one `trove worker` runs at once.
    worker_concurrency: int = Field(default=4, gt=0)
    # Where `make install` built the asset browser; unset means web/dist beside the code.
    web_dist: Path | None = None

    @field_validator("cors_origins", mode="before")
    @classmethod
    def _split_origins(cls, value: object) -> object:
        if isinstance(value, str):
            text = value.strip()
            if text.startswith("["):
                return json.loads(text)
            return [origin.strip().rstrip("/") for origin in text.split(",") if origin.strip()]
        return value

    @field_validator("database_url")
    @classmethod
    def _known_database(cls, value: str | None) -> str | None:
        if value is not None and value.split(":", 1)[0] not in SUPPORTED_SCHEMES:
            raise ValueError("use sqlite:///path/to/file.db or postgres://user@host:5432/db")
        return value

    @field_validator("storage_url")
    @classmethod
    def _known_storage(cls, value: str) -> str:
        if value and not value.startswith(("file://", "s3://")):
            raise ValueError("use file:///path/to/blobs or s3://bucket/prefix")
        if value.startswith("s3://") and not value.removeprefix("s3://").split("/", 1)[0]:
            raise ValueError("the S3 URL names no bucket: use s3://bucket/prefix")
        return value

    @field_validator("broker_url")
    @classmethod
    def _known_broker(cls, value: str) -> str:
        if (
            value
            and value not in ("inprocess", "postgres")
            and not value.startswith(("redis://", "rediss://", "unix://"))
        ):
            raise ValueError("use inprocess, postgres or redis://host:6379/0")
        return value

    @model_validator(mode="after")
    def _refuse_unsafe_configuration(self) -> "Settings":
        if self.auth == "token" and (problem := secret_problem(self.secret_key)):
            raise ValueError(f"TROVE_SECRET_KEY {problem}")
        if self.job_runner == "queue" and self.dialect != "postgres":
            raise ValueError("TROVE_JOB_RUNNER=queue needs a PostgreSQL TROVE_DATABASE_URL")
        if self.broker_url == "postgres" and self.dialect != "postgres":
            raise ValueError("TROVE_BROKER_URL=postgres needs a PostgreSQL TROVE_DATABASE_URL")
        return self

    @property
    def broker_kind(self) -> str:
        """inprocess, postgres or redis: what carries live events between processes."""
        if self.broker_url.startswith(("redis://", "rediss://", "unix://")):
            return "redis"
        if self.broker_url:
            return self.broker_url
        return "postgres" if self.dialect == "postgres" else "inprocess"

    @cached_property
    def resolved_database_url(self) -> str:
        if not self.database_url:
            return f"sqlite://{self.data_dir.resolve() / 'trove.db'}"
        url = self.database_url
        if not url.startswith("sqlite") and "maxsize=" not in url:
            # One bounded pool per process: processes x pool size <= max_connections.
            url += ("&" if "?" in url else "?") + f"maxsize={self.db_pool_size}"
        return url

    @property
    def dialect(self) -> str:
        return "sqlite" if self.resolved_database_url.startswith("sqlite") else "postgres"

    def external_base_url(self, request_base_url: object) -> str:
        """Where absolute links (content URLs) point: TROVE_PUBLIC_URL, or the request's own."""
        return (self.public_url or str(request_base_url)).rstrip("/")

    @property
    def storage_dir(self) -> Path:
        if self.storage_url.startswith("file://"):
            return Path(self.storage_url.removeprefix("file://"))
        return self.data_dir / "blobs"

    @property
    def uses_s3(self) -> bool:
        return self.storage_url.startswith("s3://")

    def s3_connection(self) -> dict[str, str | None]:
        """TROVE_S3_* settings, else the standard AWS variables (None: botocore decides)."""
        env = os.environ
        return {
            "endpoint_url": self.s3_endpoint_url
            or env.get("AWS_ENDPOINT_URL_S3")
            or env.get("AWS_ENDPOINT_URL"),
            "region": self.s3_region
            or env.get("AWS_REGION")
            or env.get("AWS_DEFAULT_REGION")
            or "us-east-1",
            "access_key_id": self.s3_access_key_id or env.get("AWS_ACCESS_KEY_ID"),
            "secret_access_key": self.s3_secret_access_key or env.get("AWS_SECRET_ACCESS_KEY"),
        }

    def check_bind(self, host: str) -> None:
        if self.auth == "none" and host not in LOOPBACK_HOSTS and not self.allow_insecure_host:
            raise SystemExit(
                f"Refusing to serve without authentication on {host}: set TROVE_AUTH=token, "
                "or TROVE_ALLOW_INSECURE_HOST=1 if this network is trusted."
            )
