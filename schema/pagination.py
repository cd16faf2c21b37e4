from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Generic, TypeVar

import strawberry

from schema.execution import root_field
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


def _edge_cursor(root: "Edge[Any]") -> str:
    return root._cursors[root._index]


@strawberry.type
class Edge(Generic[NodeType]):
    # The page's cursors are encoded only when asked for (services/pagination.Cursors).
    cursor: str = root_field(
        _edge_cursor,
    )
    node: NodeType
    _cursors: strawberry.Private[Sequence[str]]
    _index: strawberry.Private[int]


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
        cursors = page.cursors
        return cls(
            edges=[
                Edge(node=node, _cursors=cursors, _index=index) for index, node in enumerate(nodes)
            ],
            nodes=nodes,
            page_info=PageInfo(
                start_cursor=cursors[0] if cursors else None,
                end_cursor=cursors[-1] if cursors else None,
                _has_next=page.has_next_page,
                _has_previous=page.has_previous_page,
            ),
            _total=page.total_count,
        )
