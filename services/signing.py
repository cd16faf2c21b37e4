"""Signed, expiring content URLs, so `<img src>` works without an Authorization header."""

import hashlib
import hmac
import time


class UrlSigner:
    def __init__(self, secret: str, ttl_seconds: int) -> None:
        key = hashlib.sha256(b"trove-url-signing:" + secret.encode()).digest()
        # Keyed once; each signature copies it instead of redoing the key schedule.
        self._keyed = hmac.new(key, digestmod=hashlib.sha256)
        self.ttl_seconds = ttl_seconds

    def _mac(self, path: str, expires: int) -> str:
        mac = self._keyed.copy()
        mac.update(f"{path}\n{expires}".encode())
        return mac.hexdigest()

    def sign(self, path: str, *, now: float | None = None) -> str:
        return self.signed(path, self.expiry(now))

    def expiry(self, now: float | None = None) -> int:
        """When a link signed now expires (a Unix time)."""
        # Expiry is rounded up to a window so repeated listings return identical URLs,
        # which keeps browser caches warm.
        window = max(60, self.ttl_seconds // 4)
        start = int(now if now is not None else time.time())
        return (start + self.ttl_seconds + window - 1) // window * window

    def signed(self, path: str, expires: int) -> str:
        """`path` with its expiry and signature as query parameters."""
        return f"{path}?expires={expires}&signature={self._mac(path, expires)}"

    def verify(self, path: str, expires: str | None, signature: str | None) -> bool:
        if not expires or not signature or not expires.isdigit():
            return False
        if int(expires) < time.time():
            return False
        return hmac.compare_digest(self._mac(path, int(expires)), signature)
