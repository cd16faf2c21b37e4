"""Blobs in an S3-compatible bucket, with the same stage/commit contract as local storage.

Layout under `s3://bucket/prefix/`:
  blobs/<sha256>                       published, content-addressed blobs
  .staging/<writer>.<uuid>             uploads being received (multipart while streaming)
  .trash/<writer>.<uuid>.<sha256>      blobs a delete moved aside until its row change commits

`<writer>` is `<host>-<pid>-<unix time>`: a restarted process on the same host can tell
leftovers of dead writers from live uploads; writers on other hosts are judged by age.

The client is aiobotocore rather than obstore: obstore cannot list or abort multipart
uploads (the crash recovery below needs both) nor presign UploadPart for direct uploads,
and it measured no faster against SeaweedFS here (see docs/deploy.md).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import hashlib
import inspect
import logging
import os
import socket
import time
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar, cast

import aiohttp
from aiobotocore.config import AioConfig
from aiobotocore.session import get_session
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    HTTPClientError,
    IncompleteReadError,
    NoCredentialsError,
    PartialCredentialsError,
    ResponseStreamingError,
)
from botocore.exceptions import ConnectionError as BotoConnectionError

from storage.base import (
    SNIFF_BYTES,
    BlobTooLarge,
    StagedBlob,
    StorageError,
    StorageFull,
    StorageMisconfigured,
)

logger = logging.getLogger(__name__)

# S3's smallest part is 5 MiB (except the last); 8 MiB parts keep a 1 GiB upload to 128 parts.
PART_SIZE = 8 << 20
# Parts in flight per upload: bounds memory at PART_SIZE * (PARALLEL_PARTS + 1) per upload.
PARALLEL_PARTS = 4
READ_CHUNK = 1 << 20
# CopyObject copies at most 5 GiB; larger blobs are copied part by part.
MAX_SINGLE_COPY = 5 << 30
# Staging and trash of writers on other hosts count as abandoned after this long.
ABANDONED_AFTER_SECONDS = 24 * 3600
DIRECT_TOKEN = "upload:"
# Seconds to connect, and to wait for each read of a response, before an attempt counts
# as failed (botocore's default of 60 makes a hung store look like a hung Trove).
DEFAULT_TIMEOUT_SECONDS = 20.0
ATTEMPTS = 3
# A request that carries a body is bounded in all, too: a hung store that stops reading
# stalls the write itself, which no socket timeout covers (nor the wait for `100 Continue`).
# Its bound allows every attempt its timeouts plus the body sent at this slowest rate.
MIN_SEND_BYTES_PER_SECOND = 1 << 20
# botocore's standard retries wait up to 1 s, then up to 2 s, between the three attempts.
RETRY_WAITS_SECONDS = 3 + 2
_HOST = socket.gethostname().replace(".", "_").replace("-", "_") or "host"


def _writer_id() -> str:
    return f"{_HOST}-{os.getpid()}-{int(time.time())}"


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _writer_gone(writer: str, last_modified: datetime, now: float) -> bool:
    """Whether the process that wrote a staging/trash key can no longer finish its work."""
    host, _, rest = writer.partition("-")
    pid_text = rest.split("-", 1)[0]
    if host == _HOST and pid_text.isdigit():
        pid = int(pid_text)
        if pid == os.getpid():
            return False
        return not _process_alive(pid)
    return now - last_modified.timestamp() > ABANDONED_AFTER_SECONDS


# S3 error codes by what they mean for the caller (AWS's list plus MinIO's and Ceph's).
_MISCONFIGURED_CODES = frozenset(
    {
        "NoSuchBucket",
        "AccessDenied",
        "AllAccessDisabled",
        "InvalidAccessKeyId",
        "SignatureDoesNotMatch",
        "InvalidToken",
        "ExpiredToken",
        "TokenRefreshRequired",
        "AccountProblem",
        "InvalidBucketName",
        "AuthorizationHeaderMalformed",
        "PermanentRedirect",
        "IllegalLocationConstraintException",
    }
)
_FULL_CODES = frozenset(
    {
        "EntityTooLarge",
        "QuotaExceeded",
        "InsufficientStorage",
        "XMinioStorageFull",
        "XMinioAdminBucketQuotaExceeded",
    }
)
_UNAVAILABLE_CODES = frozenset(
    {"SlowDown", "ServiceUnavailable", "InternalError", "RequestTimeout", "RequestTimeTooSkewed"}
)


def _misconfiguration(code: str, status: int) -> str:
    """What an operator must fix, in words safe to show a client (no keys, no endpoint)."""
    if code in ("NoSuchBucket", "404"):
        return "the storage bucket does not exist"
    if code in ("InvalidAccessKeyId", "SignatureDoesNotMatch", "InvalidToken", "ExpiredToken",
                "TokenRefreshRequired", "401"):  # fmt: skip
        return "the object store rejects Trove's credentials"
    if code in ("AccessDenied", "AllAccessDisabled", "AccountProblem", "403"):
        return "the object store denies Trove access to the bucket"
    if code in ("PermanentRedirect", "AuthorizationHeaderMalformed", "301"):
        return "the storage bucket is in another region than the one configured"
    return f"the object store refuses the configured bucket ({code or status})"


def translate_error(
    error: BaseException, doing: str, *, bucket: str, endpoint: str | None
) -> StorageError | None:
    """The contract's error for what S3 (or the way to it) answered; None when `error` is
    not the store's (a bug, a missing key the caller handles), to be raised as it is.

    Misconfigurations are logged at ERROR with what the operator needs (never the secret);
    the returned message is for clients.
    """
    where = f"bucket {bucket!r} at {endpoint or 'AWS'}"
    if isinstance(error, ClientError):
        details = error.response.get("Error", {})
        code = str(details.get("Code") or "")
        status = int(error.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0)
        # Before the statuses: quotas come as 403 from some stores.
        if code in _FULL_CODES or status == 507:
            return StorageFull(f"the object store refused more data ({code or status})")
        if code in _MISCONFIGURED_CODES or status in (301, 401, 403):
            reason = _misconfiguration(code, status)
            logger.error(
                "S3 misconfigured: %s while %s (%s %s: %s); fix the TROVE_S3_* settings "
                "or the bucket",
                where, doing, status, code, details.get("Message", ""),
            )  # fmt: skip
            return StorageMisconfigured(f"{reason} (while {doing})")
        if code in _UNAVAILABLE_CODES or status >= 500 or status in (408, 429):
            logger.warning("S3 unavailable: %s while %s (%s %s)", where, doing, status, code)
            return StorageError(
                f"the object store failed while {doing} ({code or status}); try again later"
            )
        return None
    if isinstance(error, (NoCredentialsError, PartialCredentialsError)):
        logger.error(
            "S3 misconfigured: no usable credentials for %s (%s); set "
            "TROVE_S3_ACCESS_KEY_ID and TROVE_S3_SECRET_ACCESS_KEY",
            where, type(error).__name__,
        )  # fmt: skip
        return StorageMisconfigured(
            f"Trove has no credentials for the object store (while {doing})"
        )
    if isinstance(
        error,
        (
            BotoConnectionError,
            HTTPClientError,
            ResponseStreamingError,
            IncompleteReadError,
            aiohttp.ClientError,
            TimeoutError,
            ConnectionError,
        ),
    ):
        timed_out = isinstance(error, TimeoutError) or "timeout" in type(error).__name__.lower()
        what = "did not answer in time" if timed_out else "could not be reached"
        logger.warning("S3 unavailable: %s %s while %s: %s", where, what, doing, error)
        return StorageError(f"the object store {what} while {doing}")
    if isinstance(error, BotoCoreError):
        logger.warning("S3 failed: %s while %s: %s", where, doing, error)
        return StorageError(f"the object store failed while {doing}")
    return None


_Method = TypeVar("_Method", bound=Callable[..., Any])


def _store_call(doing: str) -> Callable[[_Method], _Method]:
    """Run a method (a coroutine or an async generator) under `S3BlobStorage._errors`."""

    def decorate(method: _Method) -> _Method:
        if inspect.isasyncgenfunction(method):

            @functools.wraps(method)
            async def generator(self: S3BlobStorage, *args: Any, **kwargs: Any) -> Any:
                async with self._errors(doing):
                    async for item in method(self, *args, **kwargs):
                        yield item

            return cast(_Method, generator)

        @functools.wraps(method)
        async def call(self: S3BlobStorage, *args: Any, **kwargs: Any) -> Any:
            async with self._errors(doing):
                return await method(self, *args, **kwargs)

        return cast(_Method, call)

    return decorate


@dataclass(frozen=True)
class S3Location:
    bucket: str
    prefix: str

    @classmethod
    def parse(cls, url: str) -> S3Location:
        """`s3://bucket` or `s3://bucket/some/prefix`."""
        if not url.startswith("s3://"):
            raise ValueError("an S3 storage URL looks like s3://bucket/prefix")
        bucket, _, prefix = url.removeprefix("s3://").partition("/")
        if not bucket:
            raise ValueError("the S3 storage URL names no bucket (s3://bucket/prefix)")
        prefix = prefix.strip("/")
        return cls(bucket=bucket, prefix=f"{prefix}/" if prefix else "")


@dataclass(frozen=True)
class S3Config:
    """Where and as whom to connect; None leaves a value to botocore (AWS_* variables)."""

    endpoint_url: str | None = None
    region: str | None = None
    access_key_id: str | None = None
    secret_access_key: str | None = None
    timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS


class S3BlobStorage:
    def __init__(self, location: S3Location, config: S3Config = S3Config()) -> None:
        self.location = location
        self.bucket = location.bucket
        self.config = config
        self._client: Any = None
        self._exit_stack: contextlib.AsyncExitStack | None = None
        self._lock = asyncio.Lock()
        # Whether the bucket was seen to exist: some stores (SeaweedFS) create a bucket on
        # the first PUT, which would hide a misspelled name until the data is looked for.
        self._bucket_seen = False
        # A writer id per storage object: pid plus start time, so a reused pid on the same
        # host is not mistaken for the dead writer.
        self._writer = _writer_id()

    # Keys -------------------------------------------------------------------------------

    def blob_key(self, sha256: str) -> str:
        if len(sha256) != 64 or not all(c in "0123456789abcdef" for c in sha256):
            raise ValueError("not a sha256 digest")
        return f"{self.location.prefix}blobs/{sha256}"

    @property
    def _blobs_prefix(self) -> str:
        return f"{self.location.prefix}blobs/"

    @property
    def _staging_prefix(self) -> str:
        return f"{self.location.prefix}.staging/"

    @property
    def _trash_prefix(self) -> str:
        return f"{self.location.prefix}.trash/"

    def _staging_key(self, token: str) -> str:
        if token.startswith(DIRECT_TOKEN):
            # A direct upload, completed in place under .uploads/.
            return self._uploads_prefix + token.removeprefix(DIRECT_TOKEN)
        return self._staging_prefix + token

    @property
    def _uploads_prefix(self) -> str:
        return f"{self.location.prefix}.uploads/"

    # Client -----------------------------------------------------------------------------

    @contextlib.asynccontextmanager
    async def _errors(self, doing: str) -> AsyncIterator[None]:
        """S3's and the network's failures as the contract's StorageError family."""
        try:
            yield
        except (FileNotFoundError, BlobTooLarge):
            raise
        except StorageError:
            raise
        except Exception as error:
            translated = translate_error(
                error, doing, bucket=self.bucket, endpoint=self.config.endpoint_url
            )
            if translated is None:
                raise
            if isinstance(translated, StorageMisconfigured):
                self._bucket_seen = False  # Look again: the bucket may come (back).
            raise translated from error

    async def client(self) -> Any:
        """The client, once the bucket was seen to exist (StorageError if it cannot be)."""
        client = await self._open_client()
        if not self._bucket_seen:
            async with self._errors("checking the bucket"):
                # A listing rather than HeadBucket: a HEAD answer has no body, so a bare 403
                # cannot tell refused credentials from a denied bucket. (Recovery lists the
                # bucket anyway, so this asks for no permission Trove does not need.)
                await client.list_objects_v2(
                    Bucket=self.bucket, Prefix=self.location.prefix, MaxKeys=1
                )
            self._bucket_seen = True
        return client

    async def _open_client(self) -> Any:
        """The aiobotocore client, opened on first use in the running event loop."""
        if self._client is None:
            async with self._lock:
                if self._client is None:
                    stack = contextlib.AsyncExitStack()
                    session = get_session()
                    self._client = await stack.enter_async_context(
                        session.create_client(
                            "s3",
                            endpoint_url=self.config.endpoint_url,
                            region_name=self.config.region,
                            aws_access_key_id=self.config.access_key_id,
                            aws_secret_access_key=self.config.secret_access_key,
                            config=AioConfig(
                                signature_version="s3v4",
                                s3={"addressing_style": "path"},
                                max_pool_connections=50,
                                connect_timeout=self.config.timeout_seconds,
                                read_timeout=self.config.timeout_seconds,
                                retries={"max_attempts": ATTEMPTS, "mode": "standard"},
                                # Compute no CRC32 checksum of every part: we hash already.
                                request_checksum_calculation="when_required",
                                response_checksum_validation="when_required",
                            ),
                        )
                    )
                    self._exit_stack = stack
        return self._client

    async def close(self) -> None:
        if self._exit_stack is not None:
            await self._exit_stack.aclose()
        self._client = None
        self._exit_stack = None

    async def check(self) -> None:
        """Fail early (StorageError, saying why) when the bucket cannot be used."""
        self._bucket_seen = False
        await self.client()

    # Writing ----------------------------------------------------------------------------

    @_store_call("receiving content")
    async def stage(self, chunks: AsyncIterator[bytes], *, max_bytes: int) -> StagedBlob:
        """Stream into a private staging key, hashing as the bytes pass.

        Small content is one PUT; larger content becomes a multipart upload whose parts are
        sent while the next ones are read (at most PARALLEL_PARTS in flight). Any failure,
        including cancellation, aborts the multipart upload so no parts stay billed.
        """
        client = await self.client()
        token = f"{self._writer}.{uuid.uuid4().hex}"
        key = self._staging_key(token)
        digest = hashlib.sha256()
        size = 0
        head = bytearray()
        buffer = bytearray()
        upload_id: str | None = None
        parts: dict[int, asyncio.Task[str]] = {}
        in_flight = asyncio.Semaphore(PARALLEL_PARTS)

        async def send_part(number: int, body: bytes) -> str:
            try:
                async with asyncio.timeout(self._send_bound(len(body))):
                    response = await client.upload_part(
                        Bucket=self.bucket,
                        Key=key,
                        UploadId=upload_id,
                        PartNumber=number,
                        Body=body,
                    )
                return str(response["ETag"])
            finally:
                in_flight.release()

        async def flush_part() -> None:
            nonlocal upload_id, buffer
            if upload_id is None:
                created = await client.create_multipart_upload(Bucket=self.bucket, Key=key)
                upload_id = created["UploadId"]
            await in_flight.acquire()
            number = len(parts) + 1
            body = bytes(buffer)
            buffer = bytearray()
            parts[number] = asyncio.create_task(send_part(number, body))
            # Surface a failed part now rather than after the whole body was read.
            for task in parts.values():
                if task.done() and task.exception() is not None:
                    raise task.exception()  # type: ignore[misc]

        try:
            async for chunk in chunks:
                if not chunk:
                    continue
                size += len(chunk)
                if size > max_bytes:
                    raise BlobTooLarge(max_bytes)
                if len(head) < SNIFF_BYTES:
                    head += chunk[: SNIFF_BYTES - len(head)]
                if len(chunk) >= 64 * 1024:
                    # hashlib releases the GIL on large buffers: hash beside the event loop.
                    await asyncio.to_thread(digest.update, chunk)
                else:
                    digest.update(chunk)
                buffer += chunk
                if len(buffer) >= PART_SIZE:
                    await flush_part()
            if upload_id is None:
                async with asyncio.timeout(self._send_bound(len(buffer))):
                    await client.put_object(Bucket=self.bucket, Key=key, Body=bytes(buffer))
            else:
                if buffer:
                    await flush_part()
                etags = await asyncio.gather(*parts.values())
                await client.complete_multipart_upload(
                    Bucket=self.bucket,
                    Key=key,
                    UploadId=upload_id,
                    MultipartUpload={
                        "Parts": [
                            {"PartNumber": number, "ETag": etag}
                            for number, etag in zip(parts, etags, strict=True)
                        ]
                    },
                )
        except BaseException:
            for task in parts.values():
                task.cancel()
            await asyncio.gather(*parts.values(), return_exceptions=True)
            if upload_id is not None:
                # Shielded: a cancelled request must still release the parts it sent.
                await asyncio.shield(self._abort(key, upload_id))
            raise
        return StagedBlob(sha256=digest.hexdigest(), size=size, head=bytes(head), token=token)

    def _send_bound(self, size: int) -> float:
        """Seconds a request sending `size` bytes may take, retries included."""
        per_attempt = self.config.timeout_seconds + size / MIN_SEND_BYTES_PER_SECOND
        return ATTEMPTS * per_attempt + RETRY_WAITS_SECONDS

    async def _abort(self, key: str, upload_id: str) -> None:
        try:
            client = await self.client()
            await client.abort_multipart_upload(Bucket=self.bucket, Key=key, UploadId=upload_id)
        except Exception:
            # Called while another failure is on its way up: that one matters more, and
            # `recover` aborts the leftover upload at the next start.
            logger.warning("could not abort the multipart upload of %s", key, exc_info=True)

    @_store_call("storing content")
    async def commit(self, staged: StagedBlob) -> None:
        source = self._staging_key(staged.token)
        target = self.blob_key(staged.sha256)
        if not await self._key_exists(target):
            await self._copy(source, target, staged.size)
        await self._delete_key(source)

    async def _copy(self, source: str, target: str, size: int) -> None:
        client = await self.client()
        copy_source = {"Bucket": self.bucket, "Key": source}
        if size <= MAX_SINGLE_COPY:
            await client.copy_object(Bucket=self.bucket, Key=target, CopySource=copy_source)
            return
        created = await client.create_multipart_upload(Bucket=self.bucket, Key=target)
        upload_id = created["UploadId"]
        try:
            part_size = 1 << 30
            parts = []
            for number, start in enumerate(range(0, size, part_size), start=1):
                end = min(start + part_size, size) - 1
                response = await client.upload_part_copy(
                    Bucket=self.bucket,
                    Key=target,
                    UploadId=upload_id,
                    PartNumber=number,
                    CopySource=copy_source,
                    CopySourceRange=f"bytes={start}-{end}",
                )
                parts.append({"PartNumber": number, "ETag": response["CopyPartResult"]["ETag"]})
            await client.complete_multipart_upload(
                Bucket=self.bucket,
                Key=target,
                UploadId=upload_id,
                MultipartUpload={"Parts": parts},
            )
        except BaseException:
            await asyncio.shield(self._abort(target, upload_id))
            raise

    @_store_call("discarding received content")
    async def discard(self, staged: StagedBlob) -> None:
        await self._delete_key(self._staging_key(staged.token))

    # Reading ----------------------------------------------------------------------------

    async def _key_exists(self, key: str) -> bool:
        client = await self.client()
        try:
            await client.head_object(Bucket=self.bucket, Key=key)
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return False
            raise
        return True

    async def _confirm_bucket(self) -> None:
        """After a bare 404 to a HEAD: the key is missing, or the whole bucket is (which
        raises StorageMisconfigured rather than pass for a lost blob or a done delete)."""
        self._bucket_seen = False
        await self.client()

    @_store_call("looking for content")
    async def exists(self, sha256: str) -> bool:
        if await self._key_exists(self.blob_key(sha256)):
            return True
        await self._confirm_bucket()
        return False

    @_store_call("reading content")
    async def read(
        self, sha256: str, start: int = 0, end: int | None = None
    ) -> AsyncIterator[bytes]:
        if end is not None and end <= start:
            return
        client = await self.client()
        request: dict[str, Any] = {"Bucket": self.bucket, "Key": self.blob_key(sha256)}
        if start or end is not None:
            request["Range"] = f"bytes={start}-{'' if end is None else end - 1}"
        try:
            response = await client.get_object(**request)
        except ClientError as error:
            code = error.response.get("Error", {}).get("Code")
            if code == "InvalidRange":
                return  # Reading from the end of an empty blob.
            if code in ("404", "NoSuchKey"):
                raise FileNotFoundError(sha256) from error
            raise
        body = response["Body"]
        try:
            async for chunk in body.iter_chunks(READ_CHUNK):
                yield chunk
        finally:
            body.close()

    @_store_call("signing a download link")
    async def presigned_get(
        self, sha256: str, *, expires_in: int, disposition: str, content_type: str
    ) -> str:
        """A time-limited URL to GET the blob from the bucket itself."""
        client = await self.client()
        url: str = await client.generate_presigned_url(
            "get_object",
            Params={
                "Bucket": self.bucket,
                "Key": self.blob_key(sha256),
                "ResponseContentType": content_type,
                "ResponseContentDisposition": disposition,
            },
            ExpiresIn=expires_in,
        )
        return url

    # Deleting ---------------------------------------------------------------------------

    async def _delete_key(self, key: str) -> None:
        client = await self.client()
        await client.delete_object(Bucket=self.bucket, Key=key)

    @_store_call("deleting content")
    async def delete(self, sha256: str) -> None:
        await self._delete_key(self.blob_key(sha256))

    @_store_call("deleting content")
    async def trash(self, sha256: str) -> str | None:
        source = self.blob_key(sha256)
        client = await self.client()
        try:
            head = await client.head_object(Bucket=self.bucket, Key=source)
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                await self._confirm_bucket()
                return None
            raise
        token = f"{self._writer}.{uuid.uuid4().hex}.{sha256}"
        await self._copy(source, self._trash_prefix + token, int(head["ContentLength"]))
        await self._delete_key(source)
        return token

    @_store_call("restoring content")
    async def restore(self, token: str) -> None:
        sha256 = token.rsplit(".", 1)[-1]
        key = self._trash_prefix + token
        client = await self.client()
        try:
            head = await client.head_object(Bucket=self.bucket, Key=key)
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                await self._confirm_bucket()
                return
            raise
        await self._copy(key, self.blob_key(sha256), int(head["ContentLength"]))
        await self._delete_key(key)

    @_store_call("deleting content")
    async def purge(self, token: str) -> None:
        await self._delete_key(self._trash_prefix + token)

    # Direct uploads ---------------------------------------------------------------------
    # The client PUTs each part to a presigned UploadPart URL of a multipart upload under
    # .uploads/<id>; completion joins them in the bucket, then Trove reads the object once
    # to hash it (S3's own SHA-256 of a multipart object is a checksum of part checksums).

    @_store_call("starting an upload")
    async def start_parts(self, upload_id: str) -> str:
        client = await self.client()
        key = self._uploads_prefix + upload_id
        created = await client.create_multipart_upload(Bucket=self.bucket, Key=key)
        return f"{upload_id}:{created['UploadId']}"

    @_store_call("signing upload links")
    async def part_url(self, handle: str, number: int, *, expires_in: int) -> str | None:
        upload_id, _, multipart_id = handle.partition(":")
        client = await self.client()
        url: str = await client.generate_presigned_url(
            "upload_part",
            Params={
                "Bucket": self.bucket,
                "Key": self._uploads_prefix + upload_id,
                "UploadId": multipart_id,
                "PartNumber": number,
            },
            ExpiresIn=expires_in,
        )
        return url

    async def write_part(
        self, handle: str, number: int, chunks: AsyncIterator[bytes], *, max_bytes: int
    ) -> str:
        raise NotImplementedError("parts go to the bucket through presigned URLs")

    @_store_call("joining uploaded parts")
    async def finish_parts(self, handle: str, parts: list[tuple[int, str]]) -> StagedBlob:
        upload_id, _, multipart_id = handle.partition(":")
        key = self._uploads_prefix + upload_id
        client = await self.client()
        await client.complete_multipart_upload(
            Bucket=self.bucket,
            Key=key,
            UploadId=multipart_id,
            MultipartUpload={
                "Parts": [{"PartNumber": n, "ETag": etag} for n, etag in sorted(parts)]
            },
        )
        digest = hashlib.sha256()
        size = 0
        head = bytearray()
        response = await client.get_object(Bucket=self.bucket, Key=key)
        body = response["Body"]
        try:
            async for chunk in body.iter_chunks(READ_CHUNK):
                size += len(chunk)
                if len(head) < SNIFF_BYTES:
                    head += chunk[: SNIFF_BYTES - len(head)]
                await asyncio.to_thread(digest.update, chunk)
        finally:
            body.close()
        return StagedBlob(
            sha256=digest.hexdigest(), size=size, head=bytes(head), token=DIRECT_TOKEN + upload_id
        )

    @_store_call("aborting an upload")
    async def abort_parts(self, handle: str) -> None:
        upload_id, _, multipart_id = handle.partition(":")
        key = self._uploads_prefix + upload_id
        await self._abort(key, multipart_id)
        await self._delete_key(key)  # In case it was completed before the abort.

    # Listing and recovery ---------------------------------------------------------------

    async def _list(self, prefix: str) -> AsyncIterator[dict[str, Any]]:
        client = await self.client()
        paginator = client.get_paginator("list_objects_v2")
        async for page in paginator.paginate(Bucket=self.bucket, Prefix=prefix):
            for item in page.get("Contents", ()):
                yield item

    @_store_call("listing deleted content")
    async def trashed(self) -> list[tuple[str, str]]:
        now = time.time()
        found = []
        async for item in self._list(self._trash_prefix):
            token = item["Key"].removeprefix(self._trash_prefix)
            if _writer_gone(token.split(".", 1)[0], item["LastModified"], now):
                found.append((token, token.rsplit(".", 1)[-1]))
        return found

    @_store_call("listing content")
    async def iter_digests(self, *, older_than_seconds: float) -> AsyncIterator[str]:
        cutoff = datetime.fromtimestamp(time.time() - older_than_seconds, UTC)
        async for item in self._list(self._blobs_prefix):
            if item["LastModified"] < cutoff:
                yield item["Key"].removeprefix(self._blobs_prefix)

    @_store_call("recovering interrupted uploads")
    async def recover(self) -> int:
        """Abort multipart uploads and delete staged objects whose writers are gone."""
        client = await self.client()
        now = time.time()
        removed = 0
        paginator = client.get_paginator("list_multipart_uploads")
        async for page in paginator.paginate(Bucket=self.bucket, Prefix=self._staging_prefix):
            for upload in page.get("Uploads", ()):
                token = upload["Key"].removeprefix(self._staging_prefix)
                if _writer_gone(token.split(".", 1)[0], upload["Initiated"], now):
                    await self._abort(upload["Key"], upload["UploadId"])
                    removed += 1
        async for item in self._list(self._staging_prefix):
            token = item["Key"].removeprefix(self._staging_prefix)
            if _writer_gone(token.split(".", 1)[0], item["LastModified"], now):
                await self._delete_key(item["Key"])
                removed += 1
        return removed
