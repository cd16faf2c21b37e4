"""Workflow inputs: each takes its `value` from runWorkflow `params` (by `name` or node id),
falling back to the value set in the graph."""

from __future__ import annotations

from execution.context import ProcessingContext
from execution.node import InputNode
from execution.refs import ImageRef
from services.errors import InvalidInput


class Text(InputNode):
    """A string given when the workflow runs."""

    value: str = ""

    async def process(self, context: ProcessingContext) -> str:
        return self.value


class Number(InputNode):
    """A number given when the workflow runs."""

    value: float = 0.0

    async def process(self, context: ProcessingContext) -> float:
        return self.value


class Image(InputNode):
    """A stored image (its asset id) given when the workflow runs."""

    value: ImageRef | None = None

    async def process(self, context: ProcessingContext) -> ImageRef:
        label = self.name or self.id
        if self.value is None:
            raise InvalidInput(f"no image was given for input '{label}' (pass its asset id)")
        if self.value.asset_id is None:
            return self.value
        ref = await context.ref_for_asset(self.value.asset_id)
        if not isinstance(ref, ImageRef):
            raise InvalidInput(
                f"asset '{self.value.asset_id}' given for input '{label}' is "
                f"{ref.content_type}, not an image"
            )
        return ref
