from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from starlette.requests import Request
from starlette.websockets import WebSocket
from strawberry.dataloader import DataLoader
from strawberry.types import Info as StrawberryInfo

import models
from services.errors import Unauthenticated
from services.runtime import Services
from services.urls import AssetLink, AssetLinks


class AssetByIdLoader(DataLoader[UUID, models.Asset | None]):
    def __init__(self, services: Services, owner: models.User) -> None:
        async def load(ids: Sequence[UUID]) -> list[models.Asset | None]:
            found = await services.assets.get_many(owner_id=owner.id, ids=ids)
            return [found.get(i) for i in ids]

        super().__init__(load_fn=load)


class JobByIdLoader(DataLoader[str, models.Job | None]):
    def __init__(self, services: Services, owner: models.User) -> None:
        async def load(ids: Sequence[str]) -> list[models.Job | None]:
            found = await services.jobs.get_many(owner=owner, ids=ids)
            return [found.get(i) for i in ids]

        super().__init__(load_fn=load)


@dataclass
class Loaders:
    asset_by_id: AssetByIdLoader
    job_by_id: JobByIdLoader


@dataclass
class Context:
    request: Request | WebSocket
    response: Any
    # None only on a WebSocket whose connection_init has not been authenticated yet.
    authenticated_user: models.User | None
    services: Services
    request_id: str
    base_url: str
    connection_params: dict[str, Any] | None = None
    _loaders: Loaders | None = field(default=None, init=False)
    _links: AssetLinks | None = field(default=None, init=False)

    @property
    def user(self) -> models.User:
        if self.authenticated_user is None:
            raise Unauthenticated("Authentication required")
        return self.authenticated_user

    @property
    def loaders(self) -> Loaders:
        if self._loaders is None:
            self._loaders = Loaders(
                asset_by_id=AssetByIdLoader(self.services, self.user),
                job_by_id=JobByIdLoader(self.services, self.user),
            )
        return self._loaders

    def asset_url(self, asset_id: str | UUID, link: AssetLink = "content") -> str:
        """A signed link for an asset the caller loaded through an owner-scoped read."""
        links = self._links
        if links is None:
            links = self._links = AssetLinks(self.services.signer, self.base_url)
        return links.url(asset_id, link)


Info = StrawberryInfo[Context, None]
