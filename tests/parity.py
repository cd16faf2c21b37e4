"""Every GraphQL query the test suite sends is also run without the fast executor.

A pytest plugin (registered in conftest.py): while a test runs, each query operation the
in-process app executes is executed a second time, right after, by the same schema with
graphql-core's own executor, against the same context and the same data, and the two
responses are compared byte for byte as the client would receive them. A difference fails
the test that sent the query (a difference that goes away when both run again is a change
of the data in between, e.g. a job running in the background, not the executor's). Mutations and subscriptions run once (running them twice
would change the data); their selection sets are covered by the generated corpus in
test_execution_parity.py.

The documents are also collected, so the session ends with a count of what was compared.
"""

import copy
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import orjson
import pytest
from graphql import GraphQLError, OperationDefinitionNode, parse
from graphql import OperationType as AstOperationType
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
from strawberry.types import ExecutionResult
from strawberry.types.graphql import OperationType

from schema import TroveSchema
from schema.execution import FastExecutionContext


def response_json(result: ExecutionResult) -> bytes:
    """The response body as the HTTP view builds it (data, errors, extensions)."""
    body: dict[str, Any] = {"data": result.data}
    if result.errors:
        body["errors"] = [error.formatted for error in result.errors]
    if result.extensions:
        body["extensions"] = result.extensions
    return orjson.dumps(body)


def operation_type(query: str | None, operation_name: str | None) -> AstOperationType | None:
    if not query:
        return None
    try:
        document = parse(query)
    except GraphQLError:
        return None
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if operation_name is not None:
        operations = [o for o in operations if o.name and o.name.value == operation_name]
    return operations[0].operation if len(operations) == 1 else None


def without_fast_path(schema: TroveSchema) -> TroveSchema:
    twin = copy.copy(schema)
    twin.execution_context_class = StrawberryGraphQLCoreExecutionContext
    return twin


@dataclass
class Recorder:
    documents: set[str] = field(default_factory=set)
    executions: int = 0
    mismatches: list[str] = field(default_factory=list)


RECORDER = Recorder()
_original_execute = TroveSchema.execute


async def _shadowed_execute(
    self: TroveSchema,
    query: str | None,
    variable_values: dict[str, Any] | None = None,
    context_value: Any | None = None,
    root_value: Any | None = None,
    operation_name: str | None = None,
    allowed_operation_types: Iterable[OperationType] | None = None,
    operation_extensions: dict[str, Any] | None = None,
) -> ExecutionResult:
    args = (
        query,
        variable_values,
        context_value,
        root_value,
        operation_name,
        allowed_operation_types,
        operation_extensions,
    )
    result = await _original_execute(self, *args)
    if (
        self.execution_context_class is FastExecutionContext
        and operation_type(query, operation_name) == AstOperationType.QUERY
    ):
        RECORDER.documents.add(query or "")
        RECORDER.executions += 1
        got = response_json(result)
        # The data may change between two runs (a job running in the background): only a
        # difference that persists when both run again back to back is the executor's.
        for _ in range(5):
            want = response_json(await _original_execute(without_fast_path(self), *args))
            if got == want:
                break
            got = response_json(await _original_execute(self, *args))
            if got == want:
                break
        else:
            RECORDER.mismatches.append(
                f"fast path differs for {query!r} {variable_values!r}:\n"
                f"  fast:         {got.decode()[:2000]}\n  graphql-core: {want.decode()[:2000]}"
            )
    return result


@pytest.fixture(autouse=True)
def graphql_parity(monkeypatch: pytest.MonkeyPatch) -> Iterator[Recorder]:
    """Shadow-run every query of the test with graphql-core's executor and compare."""
    monkeypatch.setattr(TroveSchema, "execute", _shadowed_execute)
    before = len(RECORDER.mismatches)
    yield RECORDER
    found = RECORDER.mismatches[before:]
    assert not found, "\n".join(found)


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if RECORDER.executions:
        terminalreporter.write_line(
            f"GraphQL parity: {RECORDER.executions} query executions "
            f"({len(RECORDER.documents)} distinct documents) identical with and without "
            "the fast executor"
        )
