"""Automatic persisted queries: Apollo's `extensions.persistedQuery` protocol.

A client first sends only the SHA-256 of its query; on PERSISTED_QUERY_NOT_FOUND it sends
the query with the hash once, and from then on the hash alone is enough (and short enough
for a cacheable GET). The cache is in-process and bounded: a miss only costs a retry.
"""

import hashlib
from collections import OrderedDict
from typing import Any

PROTOCOL_VERSION = 1
# A longer document is not worth keeping: it would push many typical queries out.
MAX_QUERY_CHARS = 100_000


class PersistedQueryError(Exception):
    """The request broke the protocol. An unknown hash is answered like a document that
    fails to parse; a bad hash or version is a malformed request (`invalid_parameters`)."""

    def __init__(self, message: str, code: str, *, invalid_parameters: bool) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.invalid_parameters = invalid_parameters


class PersistedQueryCache:
    def __init__(self, *, max_entries: int) -> None:
        self.max_entries = max_entries
        self._queries: OrderedDict[str, str] = OrderedDict()

    def __len__(self) -> int:
        return len(self._queries)

    def resolve(self, query: str | None, extensions: dict[str, Any] | None) -> str | None:
        """The query to execute: the one sent, or the one stored under the sent hash."""
        persisted = (extensions or {}).get("persistedQuery")
        if persisted is None:
            return query
        if not isinstance(persisted, dict):
            raise PersistedQueryError(
                "`extensions.persistedQuery` must be an object",
                "BAD_USER_INPUT",
                invalid_parameters=True,
            )
        if persisted.get("version") != PROTOCOL_VERSION:
            raise PersistedQueryError(
                "Unsupported persisted query version", "BAD_USER_INPUT", invalid_parameters=True
            )
        digest = persisted.get("sha256Hash")
        if not isinstance(digest, str) or not digest:
            raise PersistedQueryError(
                "`extensions.persistedQuery.sha256Hash` must be a string",
                "BAD_USER_INPUT",
                invalid_parameters=True,
            )
        digest = digest.lower()
        if query is None:
            stored = self._queries.get(digest)
            if stored is None:
                raise PersistedQueryError(
                    "PersistedQueryNotFound", "PERSISTED_QUERY_NOT_FOUND", invalid_parameters=False
                )
            self._queries.move_to_end(digest)
            return stored
        if hashlib.sha256(query.encode()).hexdigest() != digest:
            raise PersistedQueryError(
                "provided sha does not match query", "BAD_USER_INPUT", invalid_parameters=True
            )
        self._store(digest, query)
        return query

    def _store(self, digest: str, query: str) -> None:
        if self.max_entries == 0 or len(query) > MAX_QUERY_CHARS:
            return
        self._queries[digest] = query
        self._queries.move_to_end(digest)
        while len(self._queries) > self.max_entries:
            self._queries.popitem(last=False)
