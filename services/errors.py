"""Domain failures. Services raise these; the API layers map `code` to their own vocabulary."""


class TroveError(Exception):
    code = "INTERNAL_SERVER_ERROR"
    http_status = 500

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
