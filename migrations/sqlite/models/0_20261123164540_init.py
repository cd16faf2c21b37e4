from tortoise import BaseDBAsyncClient

RUN_IN_TRANSACTION = True


async def upgrade(db: BaseDBAsyncClient) -> str:
    return """
        CREATE TABLE IF NOT EXISTS "users" (
    "id" CHAR(36) NOT NULL PRIMARY KEY,
    "name" VARCHAR(150) NOT NULL UNIQUE,
    "created_at" TIMESTAMP NOT NULL
);
CREATE TABLE IF NOT EXISTS "api_tokens" (
    "id" CHAR(36) NOT NULL PRIMARY KEY,
    "token_hash" VARCHAR(64) NOT NULL UNIQUE,
    "created_at" TIMESTAMP NOT NULL,
    "user_id" CHAR(36) NOT NULL REFERENCES "users" ("id") ON DELETE CASCADE
);
CREATE TABLE IF NOT EXISTS "assets" (
    "id" CHAR(36) NOT NULL PRIMARY KEY,
    "name" VARCHAR(255) NOT NULL,
    "content_type" VARCHAR(255) NOT NULL,
    "size" BIGINT NOT NULL,
    "sha256" VARCHAR(64) NOT NULL,
    "node_id" VARCHAR(255),
    "job_id" VARCHAR(255),
    "workflow_id" VARCHAR(255),
    "metadata" JSON,
    "created_at" TIMESTAMP NOT NULL,
    "updated_at" TIMESTAMP NOT NULL,
    "owner_id" CHAR(36) NOT NULL REFERENCES "users" ("id") ON DELETE CASCADE,
    "parent_id" CHAR(36) REFERENCES "assets" ("id") ON DELETE CASCADE
);
CREATE INDEX IF NOT EXISTS "ix_assets_owner_id" ON "assets" ("owner_id", "id");
CREATE INDEX IF NOT EXISTS "ix_assets_owner_node" ON "assets" ("owner_id", "node_id", "id");
CREATE INDEX IF NOT EXISTS "ix_assets_owner_job" ON "assets" ("owner_id", "job_id", "id");
CREATE INDEX IF NOT EXISTS "ix_assets_owner_workflow" ON "assets" ("owner_id", "workflow_id", "id");
CREATE INDEX IF NOT EXISTS "ix_assets_owner_parent" ON "assets" ("owner_id", "parent_id", "id");
CREATE INDEX IF NOT EXISTS "ix_assets_owner_type" ON "assets" ("owner_id", "content_type", "id");
CREATE INDEX IF NOT EXISTS "ix_assets_owner_name" ON "assets" ("owner_id", "name", "id");
CREATE INDEX IF NOT EXISTS "ix_assets_owner_size" ON "assets" ("owner_id", "size", "id");
CREATE INDEX IF NOT EXISTS "ix_assets_sha256" ON "assets" ("sha256");
CREATE TABLE IF NOT EXISTS "asset_lineage" (
    "id" CHAR(36) NOT NULL PRIMARY KEY,
    "derived_id" CHAR(36) NOT NULL REFERENCES "assets" ("id") ON DELETE CASCADE,
    "source_id" CHAR(36) NOT NULL REFERENCES "assets" ("id") ON DELETE CASCADE,
    CONSTRAINT "uid_asset_linea_source__4c5975" UNIQUE ("source_id", "derived_id")
) /* One edge of provenance: `derived` was produced by a node run that consumed `source`. */;
CREATE INDEX IF NOT EXISTS "ix_lineage_derived" ON "asset_lineage" ("derived_id");
CREATE TABLE IF NOT EXISTS "jobs" (
    "id" VARCHAR(255) NOT NULL PRIMARY KEY,
    "workflow_id" VARCHAR(255),
    "status" VARCHAR(16) NOT NULL /* QUEUED: QUEUED\nRUNNING: RUNNING\nCOMPLETED: COMPLETED\nFAILED: FAILED\nCANCELLED: CANCELLED */,
    "graph" JSON NOT NULL,
    "params" JSON,
    "outputs" JSON,
    "error" TEXT,
    "failed_node_id" VARCHAR(255),
    "created_at" TIMESTAMP NOT NULL,
    "started_at" TIMESTAMP,
    "finished_at" TIMESTAMP,
    "owner_id" CHAR(36) NOT NULL REFERENCES "users" ("id") ON DELETE CASCADE
);
CREATE INDEX IF NOT EXISTS "ix_jobs_owner_created" ON "jobs" ("owner_id", "created_at", "id");
CREATE INDEX IF NOT EXISTS "ix_jobs_owner_wf" ON "jobs" ("owner_id", "workflow_id", "created_at", "id");
CREATE INDEX IF NOT EXISTS "ix_jobs_status" ON "jobs" ("status");
CREATE TABLE IF NOT EXISTS "workflows" (
    "id" CHAR(36) NOT NULL PRIMARY KEY,
    "name" VARCHAR(255) NOT NULL,
    "graph" JSON NOT NULL,
    "created_at" TIMESTAMP NOT NULL,
    "updated_at" TIMESTAMP NOT NULL,
    "owner_id" CHAR(36) NOT NULL REFERENCES "users" ("id") ON DELETE CASCADE
);
CREATE INDEX IF NOT EXISTS "ix_workflows_owner_id" ON "workflows" ("owner_id", "id");
CREATE TABLE IF NOT EXISTS "aerich" (
    "id" INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    "version" VARCHAR(255) NOT NULL,
    "app" VARCHAR(100) NOT NULL,
    "content" JSON NOT NULL
);"""


async def downgrade(db: BaseDBAsyncClient) -> str:
    return """
        """


MODELS_STATE = (
    "eJztnFtT2zgUgP+Kx0/dGZYJgQSW2dmZAKFNC0kXwrbTyxglVhIXR3ZtmcCy/PeV5Ps1ik"
    "mIk+oFHEnHkr8jyUfnyHqSp4YKdXu3ZWp94w4i+Vh6khGYQnKRytuRZGCaYQ5NwGCgs8LA"
    "1BRMi7FkMLCxBYaY5IyAbkOSpEJ7aGkm1gxaC3J0nSYaQ1JQQ+MwyUHaTweSe40hnkCLZH"
    "z9TpI1pMIHaPs/zTtlpEFdjTVYU2ndLF3BjyZLu7npnJ2zkrS6gTI0dGeKwtLmI54YKCju"
    "OJq6S2Vo3hgiaAEM1chj0FZ6z+wnuS0mCdhyYNBUNUxQ4Qg4OoUh/zly0JAykDy6mmrvIj"
    "hTNPUvr4WR0orS7fWV63ZfUeQFEA4NRPFrCFNeT8/ufUMuLFWmFZy+a1292W/+xkgYNh5b"
    "LJNRk5+ZIMDAFWXsQ9hM2coE2JM09NMJsLKhx6US8EmjV4PdR7UCuPIUPCg6RGM8IT+bBw"
    "Ww/2ldMd7NA8bbIAPEHTtdL6fOsij2EPPQghSFAnAa8xnJwdoUZqOOSyZQq57orn9RBryf"
    "EJIPB/troCcPqPaQ/uipvAB9v3PZvu63Lj/S6qa2/VNn/Fr9Ns2ps9THROqbZkJNwU2kT5"
    "3+O4n+lL70uu3k4AnK9b/ItE3AwYaCjJkC1Ejv9FN9ajGtOza0lMWms4jIMue0Neu4/NxF"
    "3xKju8ypi6JKoz03LKiN0Qf4yAB3SDsAGsIMoN7UfePdZjORhqlhn7TALHitRjsUeXbyxB"
    "C7k3vr+rR11pYZ4QEY3s2ApSox1DTHqBuJlKBsOmtanyZTAAJjBoc+BW2zb47YNsSZdgrL"
    "KDZSaJHVGyhPcvgssjFDAUfylxaFDybpqzapKHjcwIR5UNxGKlE5v+PJTJg0nP1gM0ZOTY"
    "g8fOlKqXC5an8Yg9K1Etlylc4M626kG7PSNfs3KFe9CSyIcOnKXfFyVZMxjGndTLJU7b5k"
    "iR4GpiXr9CUXr9PW/i1Zpy/JV6c9AfVGk78Or3z+/cWSpQpLFr/j8S5W/PLLWaas21qOLV"
    "TqjQbHSoWUyl2qsLzEWiUxHfFyTsoJ3ny8/UktzvlEG3cQzibtSyQIa+4LaBWEa6vCO6Yt"
    "+P2Pen1//7Be228eNQ4ODxtHtSNSljU3nXVYoIKTzttOtx+HTxMSxIOJnrdvhxJb2KuX7+"
    "6I2K3cs3QoUgqx98arJuGVzBuhlc7LOJQQiLkQJ9YkvJwTYgI2F+wpxIAafWnS76973WzS"
    "UZmkb1QbYuk/SddsnrdixXAX0KUwYv5PH+qby9bnJO/Ti95J0sSmNzgR/mnhn5YdUy2p9b"
    "ik0HpVtO4ziqjda32o9agrhtdlEfOUibhEfPKMuQ55icaEXoB0c15c5SM9rPeJUM+8UE90"
    "kGbHetK9dglUg4jNRvbUuVRjA3XREFrEwppoumq5+28Snh5P8vzDFdQBe4xfhXXcK2M41h"
    "Aquobu7CVQutAQBONNtD24aKnQ0u4Jh3tBrIDYykPYPrO8SHaE6ZyANlVjUHReXFvuIShB"
    "dQwlYySZlnEPEZ2kj6Vb1i+geivNgE1zVGcIVWnwKAGJutgky0ESngAsUVjOlOTdugPvdl"
    "dOsF5ZJRmx96/e8Hc7Abu7/L0oIO8VUriCiB5axb/zjgjxrd3e2ykI8UWUuwD0uJRYpiSj"
    "Hu77dTGmMSGBtHidEk5hr2RSV5TqXJs61qvmL1Ui07YAWwg2PgVWacPfe2OQZSS9d7eL5d"
    "tGP4zBGrf6xb3bXLYGbbC3XcmTLjA3+PfDvawlsxF/I8gYwo7Ne3+v9JIsqvyY2gtCaVX+"
    "1GCJkbR8c0qEMV9zO08wINKc28iZpt5UcXsrkH69jSby3zftm/bZgksET+pYcv9/Q1c33W"
    "6n+/ZY8i6+odPe5ceLdp8WCi6/ofNW54Imuf9JqVb3tH3BkoLL5FKUR5t7TQ5l7iUDL6Eu"
    "aVZclWMLmBnfReWHowOBF8WiK2p8vFow2gQWmGaMoHzuoYTYBFCeu+Fg08ELgY+ICPLlyU"
    "PLMjICXH1iRmVzDwS24aVcFFtvf+4X0w5C6xe97lu/eFIFcdojoOnEki6xSTEtuQ38X2NP"
    "udhftGU7TXj2FxFj1iqn9bjkErResSG3IUrO2E6U1vJIQ5o9KaXmhKjQc5X1LPaNiV1OFX"
    "Bxz9/ltB4HN8Oe4eH21ZHv4qaf6Ivzdn6NyPZ6P16tkON7r1Hjcdc1avn+Oponlhm/5jIj"
    "9R7l2YMZnmz2gp1ykXPUNqwLcO0rDA9XWf0u1Y0E5Aeky+PxYt7bCMcPGb6Q0KfIUS7bgm"
    "mVtmfAK8P+jLLMt0FjiqvwsUpBO3lOVhImrzB51212rd63LqLU4pPpaqliy9Ya4pPpbdZ6"
    "hu9bfDItXN9VWDPsbIjruwUtbTiRs76Bc3N2Cr9+C8tUxv+de/Ra5njOOHjNU191nbHuwW"
    "v1vYPDg6P95kFw3lqQUnTMmn+kWr7Rfw8t21vi89r9ERFh+vOZ/nRQLUDYK76FdPdqXNGE"
    "WkE0oZaOJrgHWi6ytIqIiMXVgourBVz6y3+ZPf8P+NGJdA=="
)
