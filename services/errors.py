"""Domain failures. Services raise these; the API layers map `code` to their own vocabulary."""


class TroveError(Exception):
    code = "INTERNAL_SERVER_ERROR"
    http_status = 500
    # Seconds after which the same request may work (sent as `Retry-After`); None: unknown.
    retry_after: int | None = None

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidInput(TroveError):
    code = "BAD_USER_INPUT"
    http_status = 400


class NotFound(TroveError):
    code = "NOT_FOUND"
    http_status = 404


class Unauthenticated(TroveError):
    code = "UNAUTHENTICATED"
    http_status = 401


class Forbidden(TroveError):
    code = "FORBIDDEN"
    http_status = 403


class TooLarge(TroveError):
    code = "PAYLOAD_TOO_LARGE"
    http_status = 413


class UnsupportedMediaType(TroveError):
    code = "UNSUPPORTED_MEDIA_TYPE"
    http_status = 415


class Conflict(TroveError):
    code = "CONFLICT"
    http_status = 409


class ContentMissing(TroveError):
    """An asset's row exists but its bytes are not in storage: an integrity fault of the
    server (a lost or deleted blob), never the caller's doing."""

    code = "CONTENT_MISSING"
    http_status = 500


class InsufficientStorage(TroveError):
    """The disk (or bucket quota) is full: nothing was stored, and deleting frees space."""

    code = "INSUFFICIENT_STORAGE"
    http_status = 507


class StorageUnavailable(TroveError):
    """The blob store failed for another reason (I/O error, unreachable, misconfigured).

    A passing failure carries `retry_after`; a misconfiguration (a missing bucket, refused
    credentials) does not, since only an operator can fix it."""

    code = "SERVICE_UNAVAILABLE"
    http_status = 503

    def __init__(self, message: str, *, retry_after: int | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class Overloaded(TroveError):
    """Too much of something at once (e.g. uploads in progress); retry shortly."""

    code = "SERVICE_UNAVAILABLE"
    http_status = 503
    retry_after = 1
