"""The `trove` command as users run it."""

import os
import subprocess
import sys
from pathlib import Path

import httpx

from tests.conftest import TEST_SECRET, free_port

ROOT = Path(__file__).resolve().parent.parent


def trove(*args: str, data_dir: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "server.cli", *args],
        cwd=ROOT,
        env={**os.environ, "TROVE_DATA_DIR": str(data_dir), **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_schema_prints_the_sdl(tmp_path: Path) -> None:
    result = trove("schema", data_dir=tmp_path)
    assert result.returncode == 0
    assert "type Asset implements Node" in result.stdout
    assert "createAsset(input: CreateAssetInput!): Asset!" in result.stdout


def test_migrate_is_idempotent(tmp_path: Path) -> None:
    first = trove("migrate", data_dir=tmp_path)
    assert first.returncode == 0 and "applied" in first.stdout
    second = trove("migrate", data_dir=tmp_path)
    assert second.returncode == 0 and "up to date" in second.stdout
    assert (tmp_path / "trove.db").is_file()


def test_token_create_prints_a_working_token_last(tmp_path: Path) -> None:
    env = {"TROVE_AUTH": "token", "TROVE_SECRET_KEY": TEST_SECRET}
    result = trove("token", "create", "--user", "dana", data_dir=tmp_path, **env)
    assert result.returncode == 0, result.stderr
    token = result.stdout.strip().splitlines()[-1]
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "server.cli", "serve", "--port", str(port)],
        cwd=ROOT,
        env={**os.environ, "TROVE_DATA_DIR": str(tmp_path), **env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        url = f"http://127.0.0.1:{port}"
        for _ in range(300):
            try:
                if httpx.get(url + "/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            subprocess.run(["sleep", "0.1"], check=True)
        query = {"query": "{ assets { totalCount } }"}
        assert httpx.post(url + "/graphql", json=query).status_code == 401
        ok = httpx.post(url + "/graphql", json=query, headers={"Authorization": f"Bearer {token}"})
        assert ok.json() == {"data": {"assets": {"totalCount": 0}}}
    finally:
        server.terminate()
        server.wait(10)


def test_serve_refuses_a_public_interface_without_auth(tmp_path: Path) -> None:
    result = trove("serve", "--host", "0.0.0.0", data_dir=tmp_path)
    assert result.returncode != 0
    assert "TROVE_AUTH=token" in result.stderr + result.stdout


def test_bad_configuration_is_one_clear_message(tmp_path: Path) -> None:
    cases = {
        ("serve",): ({"TROVE_PORT": "eighty"}, "TROVE_PORT"),
        ("migrate",): ({"TROVE_DATABASE_URL": "mysql://db/trove"}, "TROVE_DATABASE_URL"),
        ("token", "create", "--user", "x"): ({"TROVE_AUTH": "token"}, "TROVE_SECRET_KEY"),
        ("migrate", ""): (
            {"TROVE_DATABASE_URL": f"postgres://postgres:hunter2@127.0.0.1:{free_port()}/none"},
            "cannot use the database",
        ),
    }
    for args, (env, expected) in cases.items():
        result = trove(*[a for a in args if a], data_dir=tmp_path, **env)
        assert result.returncode != 0, args
        assert expected in result.stderr, (args, result.stderr)
        assert "Traceback" not in result.stderr
        assert "hunter2" not in result.stderr


def test_token_mode_refuses_weak_secrets_and_trove_secret_makes_good_ones(
    tmp_path: Path,
) -> None:
    weak = {
        "": "at least 32 bytes",
        "   ": "at least 32 bytes",
        "s3cret": "at least 32 bytes",
        "a" * 64: "does not look random",
        "password" * 4: "does not look random",
        "trove-development-secret-change-me": "must be set",
    }
    for value, expected in weak.items():
        result = trove(
            "serve", "--port", str(free_port()), data_dir=tmp_path,
            TROVE_AUTH="token", TROVE_SECRET_KEY=value,
        )  # fmt: skip
        assert result.returncode != 0, value
        assert "TROVE_SECRET_KEY" in result.stderr and expected in result.stderr, result.stderr
        assert "Traceback" not in result.stderr

    made = {trove("secret", data_dir=tmp_path).stdout.strip() for _ in range(2)}
    assert len(made) == 2
    for value in made:
        env = {"TROVE_AUTH": "token", "TROVE_SECRET_KEY": value}
        assert trove("token", "list", data_dir=tmp_path, **env).returncode == 0


def test_token_list_and_revoke(tmp_path: Path) -> None:
    env = {"TROVE_AUTH": "token", "TROVE_SECRET_KEY": TEST_SECRET}
    first = trove("token", "create", "--user", "erin", data_dir=tmp_path, **env)
    second = trove("token", "create", "--user", "frank", data_dir=tmp_path, **env)
    erin_token = first.stdout.strip().splitlines()[-1]
    frank_token = second.stdout.strip().splitlines()[-1]

    listed = trove("token", "list", data_dir=tmp_path, **env)
    assert listed.returncode == 0, listed.stderr
    lines = listed.stdout.strip().splitlines()
    assert [line.split()[1] for line in lines] == ["erin", "frank"]
    assert erin_token not in listed.stdout and frank_token not in listed.stdout
    only = trove("token", "list", "--user", "frank", data_dir=tmp_path, **env)
    assert len(only.stdout.strip().splitlines()) == 1

    erin_id = lines[0].split()[0]
    revoked = trove("token", "revoke", erin_id[:13], data_dir=tmp_path, **env)
    assert revoked.returncode == 0, revoked.stderr
    assert "revoked" in revoked.stdout and "erin" in revoked.stdout
    by_value = trove("token", "revoke", frank_token, data_dir=tmp_path, **env)
    assert by_value.returncode == 0 and "frank" in by_value.stdout
    assert trove("token", "list", data_dir=tmp_path, **env).stdout.strip() == "no tokens"
    missing = trove("token", "revoke", erin_id, data_dir=tmp_path, **env)
    assert missing.returncode != 0 and "No token matches" in missing.stderr
