"""Flow control."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

from pydantic import Field

from execution.context import ProcessingContext
from execution.node import BaseNode, OutputNode


class Delay(BaseNode):
    """Wait `seconds`, then pass `trigger` on unchanged."""

    seconds: Annotated[float, Field(ge=0, le=24 * 3600)] = 1.0
    trigger: Any = None

    async def process(self, context: ProcessingContext) -> Any:
        await asyncio.sleep(self.seconds)
        return self.trigger


class Output(OutputNode):
    """A result of the workflow: the job's `outputs[name]` (or outputs[node id])."""
