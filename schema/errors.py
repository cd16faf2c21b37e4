"""The one place where failures become GraphQL errors with `extensions.code`."""

import contextlib
import logging
from collections.abc import Iterator
from typing import Any

from graphql.error import GraphQLError
from strawberry.extensions import MaskErrors
from strawberry.extensions import ParserCache as StrawberryParserCache

from services.errors import TroveError

logger = logging.getLogger("trove.graphql")


def error_code(error: GraphQLError) -> str | None:
    original = error.original_error
    if isinstance(original, TroveError):
        return original.code
    if original is None:
        # Syntax, validation and variable-coercion errors: the request itself is wrong.
        return (error.extensions or {}).get("code") or "BAD_USER_INPUT"
    if isinstance(original, GraphQLError):
        return error_code(original)
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
            code = error_code(error)
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


class ParserCache(StrawberryParserCache):
    """Strawberry's parser cache, minus its habit of raising syntax errors past the other
    extensions: a query that does not parse is left for strawberry to parse and report as
    an ordinary request error (with a code)."""

    def on_parse(self) -> Iterator[None]:
        context = self.execution_context
        with contextlib.suppress(GraphQLError):
            context.graphql_document = self.cached_parse_document(
                context.query, **context.parse_options
            )
        yield
