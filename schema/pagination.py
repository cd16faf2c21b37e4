from collections.abc import Awaitable, Callable
from typing import Any, Generic, TypeVar

import strawberry

from services.pagination import Page

NodeType = TypeVar("NodeType")


@strawberry.type
class PageInfo:
    start_cursor: str | None
    end_cursor: str | None
    _has_next: strawberry.Private[Callable[[], Awaitable[bool]]]
    _has_previous: strawberry.Private[Callable[[], Awaitable[bool]]]

    @strawberry.field
    async def has_next_page(self) -> bool:
        return await self._has_next()

    @strawberry.field
    async def has_previous_page(self) -> bool:
        # Costs a query only when the client asks for it.
        return await self._has_previous()


@strawberry.type
class Edge(Generic[NodeType]):
    cursor: str
    node: NodeType


@strawberry.type
class Connection(Generic[NodeType]):
    """Named `<Type>Connection` in the schema (strawberry prefixes the type argument)."""

    edges: list[Edge[NodeType]]
    nodes: list[NodeType] = strawberry.field(description="Shortcut to edges { node }.")
    page_info: PageInfo
    _total: strawberry.Private[Callable[[], Awaitable[int]]]

    @strawberry.field(description="Total matching items, computed only when requested.")
    async def total_count(self) -> int:
        return await self._total()

    @classmethod
    def from_page(
        cls, page: Page[Any], convert: Callable[[Any], NodeType]
    ) -> "Connection[NodeType]":
        nodes = [convert(row) for row in page.items]
        return cls(
            edges=[Edge(cursor=c, node=n) for c, n in zip(page.cursors, nodes, strict=True)],
            nodes=nodes,
            page_info=PageInfo(
                start_cursor=page.cursors[0] if page.cursors else None,
                end_cursor=page.cursors[-1] if page.cursors else None,
                _has_next=page.has_next_page,
                _has_previous=page.has_previous_page,
            ),
            _total=page.total_count,
        )
