"""The one place where failures become GraphQL errors with `extensions.code`."""

import logging
from typing import Any

from graphql.error import GraphQLError
from strawberry.extensions import MaskErrors

from services.errors import TroveError

logger = logging.getLogger("trove.graphql")


def _code_of(error: GraphQLError) -> str | None:
    original = error.original_error
    if isinstance(original, TroveError):
        return original.code
    if original is None:
        # Syntax, validation and variable-coercion errors: the request itself is wrong.
        return (error.extensions or {}).get("code") or "BAD_USER_INPUT"
    if isinstance(original, GraphQLError):
        return _code_of(original)
    return None


class ErrorCodes(MaskErrors):
    """Adds `extensions.code` to expected errors and masks everything else.

    Unexpected errors reach the client as INTERNAL_SERVER_ERROR with a request id; the
    traceback goes to the log under the same id, never into the response.
    """

    def _process_errors(self, errors: list[GraphQLError]) -> list[GraphQLError]:
        request_id = getattr(self.execution_context.context, "request_id", "-")
        processed = []
        for error in errors:
            code = _code_of(error)
            if code is None:
                logger.error(
                    "unexpected error in request %s at %s",
                    request_id,
                    error.path,
                    exc_info=error.original_error,
                )
                processed.append(
                    GraphQLError(
                        f"Internal server error (request id {request_id})",
                        nodes=error.nodes,
                        source=error.source,
                        positions=error.positions,
                        path=error.path,
                        extensions={"code": "INTERNAL_SERVER_ERROR", "requestId": request_id},
                    )
                )
                continue
            original = error.original_error
            message = original.message if isinstance(original, TroveError) else error.message
            extensions: dict[str, Any] = {**(error.extensions or {}), "code": code}
            processed.append(
                GraphQLError(
                    message,
                    nodes=error.nodes,
                    source=error.source,
                    positions=error.positions,
                    path=error.path,
                    extensions=extensions,
                )
            )
        return processed


def graphql_error_body(message: str, code: str) -> dict[str, Any]:
    return {"data": None, "errors": [{"message": message, "extensions": {"code": code}}]}
