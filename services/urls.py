"""Every link to asset bytes (content, thumbnail, archive) is made here, and only here.

A signed link grants its holder the bytes without credentials, so callers make one only for
an asset they loaded through an owner-scoped read. Links are always http(s): a request that
arrived over a WebSocket (ws://, wss://) still gets links a browser can fetch.
"""

from __future__ import annotations

import time
from functools import lru_cache
from typing import Literal
from uuid import UUID

from services.signing import UrlSigner

AssetLink = Literal["content", "thumbnail", "archive"]
_HTTP_SCHEMES = {"http": "http", "https": "https", "ws": "http", "wss": "https"}


@lru_cache(maxsize=64)
def http_base(base_url: str) -> str:
    """`base_url` (scheme://host[:port][/prefix]) with an http(s) scheme and no trailing /."""
    scheme, separator, rest = base_url.partition("://")
    if not separator:
        return base_url.rstrip("/")
    return f"{_HTTP_SCHEMES.get(scheme.lower(), scheme.lower())}://{rest}".rstrip("/")


def asset_path(asset_id: str | UUID, link: AssetLink = "content") -> str:
    """The route a link points at (what server/content.py serves)."""
    return f"/assets/{asset_id}/{link}"


def asset_url(
    signer: UrlSigner, base_url: str, asset_id: str | UUID, link: AssetLink = "content"
) -> str:
    """An absolute, signed, expiring URL of one of an asset's links."""
    return http_base(base_url) + signer.sign(asset_path(asset_id, link))


class AssetLinks:
    """`asset_url` for the many links of one response (a list page, a subscription):
    the base URL is worked out once and the expiry once a second, not once per link."""

    __slots__ = ("_base", "_expires", "_second", "_signer")

    def __init__(self, signer: UrlSigner, base_url: str) -> None:
        self._signer = signer
        self._base = http_base(base_url)
        self._second = -1
        self._expires = 0

    def url(self, asset_id: str | UUID, link: AssetLink = "content") -> str:
        now = int(time.time())
        if now != self._second:
            self._second, self._expires = now, self._signer.expiry(now)
        return self._base + self._signer.signed(asset_path(asset_id, link), self._expires)


ARCHIVE_PREFIX = "/archives/"


def archive_path(token: str) -> str:
    """The route of an archive link; `token` carries its owner and filter (services/archives)."""
    return f"{ARCHIVE_PREFIX}{token}"


def archive_url(signer: UrlSigner, base_url: str, token: str) -> str:
    """An absolute, signed, expiring URL that streams the zip a filter selects."""
    return http_base(base_url) + signer.sign(archive_path(token))
