"""Who is calling: the local user (TROVE_AUTH=none) or the owner of a Bearer token."""

from collections.abc import Mapping

import models
from services import users
from services.errors import Unauthenticated


class Authenticator:
    def __init__(self, *, mode: str) -> None:
        self.mode = mode
        self._local_user: models.User | None = None

    async def start(self) -> None:
        if self.mode == "none":
            self._local_user = await users.get_or_create_user(name=users.LOCAL_USER_NAME)

    async def from_headers(self, headers: Mapping[str, str]) -> models.User:
        return await self.from_authorization(headers.get("authorization"))

    async def from_authorization(self, value: str | None) -> models.User:
        if self.mode == "none":
            assert self._local_user is not None, "Authenticator.start() was not awaited"
            return self._local_user
        if not value:
            raise Unauthenticated("Send `Authorization: Bearer <token>` (see `trove token create`)")
        scheme, _, token = value.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Unauthenticated("The Authorization header must be `Bearer <token>`")
        return await users.authenticate(token=token.strip())
