"""What a blob really is, and a safe name for it."""

import mimetypes
import re
import unicodedata

import puremagic

GENERIC_TYPES = frozenset(
    {"", "application/octet-stream", "binary/octet-stream", "application/unknown"}
)
# Types a browser would execute or render as a document when opened from our origin.
ACTIVE_TYPES = frozenset(
    {
        "text/html",
        "application/xhtml+xml",
        "image/svg+xml",
        "text/xml",
        "application/xml",
        "text/javascript",
        "application/javascript",
        "application/ecmascript",
        "text/ecmascript",
        "application/x-javascript",
    }
)
_ALIASES = {"audio/wave": "audio/wav", "audio/x-wav": "audio/wav", "image/jpg": "image/jpeg"}
_MIME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9!#$&^_.+-]{0,63}/[a-z0-9][a-z0-9!#$&^_.+-]{0,126}$")
_MAX_NAME = 255


def normalize_claim(claimed: str | None) -> str | None:
    """The client's content type without parameters, or None when it says nothing useful."""
    if claimed is None:
        return None
    essence = claimed.split(";", 1)[0].strip().lower()
    if essence in GENERIC_TYPES:
        return None
    if not _MIME_PATTERN.match(essence):
        raise ValueError(f"'{claimed}' is not a MIME type")
    return _ALIASES.get(essence, essence)


def detect(head: bytes) -> str:
    """Content type from the first bytes of the content itself."""
    if not head:
        return "application/octet-stream"
    try:
        detected = puremagic.from_string(head, mime=True)
    except (puremagic.PureError, ValueError):
        detected = ""
    if detected == "application/ogg":
        # Ogg is a container: name what it holds, so players and audio inputs accept it.
        return "video/ogg" if b"\x80theora" in head else "audio/ogg"
    if detected:
        return _ALIASES.get(detected, detected)
    if _looks_like_text(head):
        return "text/plain"
    return "application/octet-stream"


def _looks_like_text(head: bytes) -> bool:
    if b"\x00" in head:
        return False
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as error:
        # A multi-byte character cut at the end of the sniffed window is still text.
        return error.start >= len(head) - 3
    return True


def extension_for(content_type: str) -> str:
    special = {
        "text/plain": ".txt",
        "image/jpeg": ".jpg",
        "audio/mpeg": ".mp3",
        "audio/wav": ".wav",
    }
    return special.get(content_type) or mimetypes.guess_extension(content_type) or ".bin"


def sanitize_name(raw: str) -> str:
    """A display name with no path components, control characters or traversal tricks."""
    name = unicodedata.normalize("NFC", raw)
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C")
    name = name.strip().strip(".").strip()
    if len(name.encode("utf-8")) > _MAX_NAME:
        stem, dot, ext = name.rpartition(".")
        keep = ext if dot and len(ext) <= 16 else ""
        budget = _MAX_NAME - len(keep.encode("utf-8")) - (1 if keep else 0)
        trimmed = (stem if keep else name).encode("utf-8")[:budget].decode("utf-8", "ignore")
        name = f"{trimmed}.{keep}" if keep else trimmed
    return name
