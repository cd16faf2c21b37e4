"""Runs jobs in the background of the server process (placeholder until the runner lands)."""

from typing import Any

from models import Job, User
from services.errors import InvalidInput
from services.jobs import NodeTypeInfo
from services.runtime import Services


class Executor:
    def __init__(self, *, services: Services) -> None:
        self.services = services

    def validate(self, graph: dict[str, Any]) -> None:
        raise InvalidInput("Workflow execution is not available yet")

    def start(self, job: Job, owner: User) -> None:
        raise InvalidInput("Workflow execution is not available yet")

    async def cancel(self, job_id: str) -> bool:
        return False

    def node_types(self) -> list[NodeTypeInfo]:
        return []

    async def shutdown(self) -> None:
        return None
