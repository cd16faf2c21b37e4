"""What a blob really is, and a safe name for it."""

import mimetypes
import re
import unicodedata

import puremagic

GENERIC_TYPES = frozenset(
    {"", "application/octet-stream", "binary/octet-stream", "application/unknown"}
)
# The only types served inline: a browser shows them as media or plain data and runs
# nothing. Everything else (HTML, SVG, any XML, script, multipart, unknown) is an attachment
# under `Content-Security-Policy: sandbox`, whatever the uploader claimed.
INLINE_RASTER_IMAGES = frozenset(
    {
        "image/png",
        "image/jpeg",
        "image/gif",
        "image/webp",
        "image/avif",
        "image/bmp",
        "image/x-icon",
        "image/vnd.microsoft.icon",
        "image/apng",
        "image/tiff",
        "image/heic",
        "image/heif",
    }
)
INLINE_DOCUMENTS = frozenset({"text/plain", "application/pdf", "application/json"})


def is_passive(content_type: str) -> bool:
    """True for the allowlisted types a browser may render inline from our origin."""
    essence = content_type.split(";", 1)[0].strip().lower()
    if essence in INLINE_RASTER_IMAGES or essence in INLINE_DOCUMENTS:
        return True
    kind, _, subtype = essence.partition("/")
    # Audio and video are played, never parsed as a document; a +xml suffix (a browser
    # renders any XML type as a document) is refused even there.
    return kind in ("audio", "video") and bool(subtype) and "xml" not in subtype


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


ZIP = "application/zip"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PPTX = "application/vnd.openxmlformats-officedocument.presentationml.presentation"
# An Office Open XML package is a ZIP whose parts say what it is; [Content_Types].xml and
# _rels/ come first in the writers we know (Office, openpyxl, python-docx), the
# application's folder right after.
_OFFICE_PARTS = (("word/", DOCX), ("xl/", XLSX), ("ppt/", PPTX))
_PACKAGE_MARKERS = frozenset({"[Content_Types].xml", "_rels/.rels"})
_ZIP_LOCAL_HEADER = b"PK\x03\x04"
_ZIP_EMPTY = b"PK\x05\x06"
# Claims that name a ZIP container more precisely than "application/zip" can.
_ZIP_BASED_PREFIXES = (
    "application/vnd.openxmlformats-officedocument.",
    "application/vnd.oasis.opendocument.",
    "application/vnd.ms-word.",
    "application/vnd.ms-excel.",
    "application/vnd.ms-powerpoint.",
)
_ZIP_BASED_TYPES = frozenset(
    {
        ZIP,
        "application/epub+zip",
        "application/java-archive",
        "application/vnd.android.package-archive",
        "application/x-zip-compressed",
    }
)


def _zip_entries(head: bytes) -> list[tuple[str, bytes]]:
    """(name, stored bytes when uncompressed) of the local file headers within `head`."""
    entries: list[tuple[str, bytes]] = []
    position = head.find(_ZIP_LOCAL_HEADER)
    while position != -1 and position + 30 <= len(head):
        method = int.from_bytes(head[position + 8 : position + 10], "little")
        size = int.from_bytes(head[position + 18 : position + 22], "little")
        name_length = int.from_bytes(head[position + 26 : position + 28], "little")
        extra_length = int.from_bytes(head[position + 28 : position + 30], "little")
        name_end = position + 30 + name_length
        name = head[position + 30 : name_end].decode("utf-8", "replace")
        body_start = name_end + extra_length
        stored = head[body_start : body_start + size] if method == 0 else b""
        entries.append((name, stored))
        position = head.find(_ZIP_LOCAL_HEADER, position + 4)
    return entries


def _zip_type(head: bytes) -> str:
    """Office Open XML by its parts, OpenDocument and EPUB by their `mimetype` entry."""
    entries = _zip_entries(head)
    names = {name for name, _ in entries}
    # A package has its manifest or its relationships; a ZIP that merely has a `word/`
    # folder is not a Word document.
    if names & _PACKAGE_MARKERS:
        for name, _ in entries:
            for prefix, content_type in _OFFICE_PARTS:
                if name.startswith(prefix):
                    return content_type
    if entries and entries[0][0] == "mimetype":
        declared = entries[0][1].decode("ascii", "replace").strip().lower()
        if _MIME_PATTERN.match(declared) and is_zip_based(declared):
            return declared
    return ZIP


def is_zip_based(content_type: str) -> bool:
    """Whether a type names a format stored as a ZIP container (Office, OpenDocument, ...)."""
    return (
        content_type in _ZIP_BASED_TYPES
        or content_type.endswith("+zip")
        or content_type.startswith(_ZIP_BASED_PREFIXES)
    )


def refine(detected: str, claimed: str | None) -> str:
    """The detected type, or the claim when it says the same thing more precisely.

    A claim of `...spreadsheetml.sheet` for bytes detected as a plain ZIP is kept; a claim
    of `image/png` for the same bytes is not.
    """
    if claimed is None or claimed == detected:
        return detected
    if detected == ZIP and is_zip_based(claimed):
        return claimed
    return detected


def settle(claimed: str | None, head: bytes) -> str:
    """What an upload is stored as: the client's claim unless it says nothing useful, or
    only "a ZIP" for bytes whose parts say which Office or OpenDocument format they are."""
    if claimed is None:
        return detect(head)
    if claimed in (ZIP, "application/x-zip-compressed"):
        detected = detect(head)
        if detected != ZIP and is_zip_based(detected):
            return detected
    return claimed


def claim_fits(claimed: str, detected: str) -> bool:
    """Whether a claim is a fair name for bytes detected as `detected`: the same type, a
    precise name for a generic detection (a ZIP-based format for a ZIP, any text type for
    plain text), or anything for bytes nothing was recognised in."""
    if claimed == detected or detected == "application/octet-stream":
        return True
    if detected == ZIP:
        return is_zip_based(claimed)
    if detected == "text/plain":
        return claimed.startswith("text/") or claimed in ("application/json", "application/xml")
    return False


def family_prefix(content_type: str) -> str | None:
    """The prefix a content type filter stands for: `image/` for `image` or `image/`;
    None for an exact type (`image/png`, `folder`)."""
    if content_type.endswith("/"):
        return content_type
    if "/" not in content_type and content_type != "folder":
        return content_type + "/"
    return None


def detect(head: bytes) -> str:
    """Content type from the first bytes of the content itself."""
    if not head:
        return "application/octet-stream"
    if head.startswith(_ZIP_LOCAL_HEADER):
        return _zip_type(head)
    if head.startswith(_ZIP_EMPTY):
        return ZIP
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
