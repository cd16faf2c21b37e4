"""Slow clients must not hold the server's resources: a deadline for a request's headers
(enforced in the HTTP protocol, before the app sees anything) and for each piece of its body
(enforced around `receive`, so an upload that stalls gives its staging file back)."""

import asyncio
import logging

from starlette.types import ASGIApp, Message, Receive, Scope, Send
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from server.edge import refuse
from services.errors import TroveError

logger = logging.getLogger("trove.limits")

REQUEST_TIMEOUT_RESPONSE = (
    b"HTTP/1.1 408 Request Timeout\r\ncontent-type: text/plain; charset=utf-8\r\n"
    b"content-length: 33\r\nconnection: close\r\n\r\nThe request headers came too slow"
)


class HeaderTimeoutProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol plus a deadline for each request's headers.

    uvicorn times out idle keep-alive connections, but not a client that sends its
    headers a byte at a time; without this, each such client holds a connection forever.
    """

    # Read from TROVE_HEADER_TIMEOUT once per process: uvicorn imports this class by name
    # (PROTOCOL) in each worker process it starts.
    header_timeout: float | None = None
    _header_timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        if HeaderTimeoutProtocol.header_timeout is None:
            from server.settings import Settings

            HeaderTimeoutProtocol.header_timeout = Settings().header_timeout
        super().connection_made(transport)
        self._arm_header_timer()

    def data_received(self, data: bytes) -> None:
        between_requests = self.cycle is None or self.cycle.response_complete
        if self._header_timer is None and between_requests:
            self._arm_header_timer()
        super().data_received(data)

    def on_headers_complete(self) -> None:
        self._disarm_header_timer()
        super().on_headers_complete()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm_header_timer()
        super().connection_lost(exc)

    def _arm_header_timer(self) -> None:
        timeout = HeaderTimeoutProtocol.header_timeout or 10.0
        self._header_timer = self.loop.call_later(timeout, self._headers_too_slow)

    def _disarm_header_timer(self) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None

    def _headers_too_slow(self) -> None:
        self._header_timer = None
        if not self.transport.is_closing():
            self.transport.write(REQUEST_TIMEOUT_RESPONSE)
            self.transport.close()


# What `trove serve` passes as uvicorn's `http`: a name, so worker processes import it too.
PROTOCOL = "server.timeouts:HeaderTimeoutProtocol"


class BodyReadTimeout(TroveError):
    """Raised from `receive`: every surface answers it through the edge as a 408."""

    code = "REQUEST_TIMEOUT"
    http_status = 408


class BodyTimeout:
    """Each piece of a request body must arrive within `seconds` of the previous one."""

    def __init__(self, app: ASGIApp, *, seconds: float) -> None:
        self.app = app
        self.seconds = seconds

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        body_done = False
        started = False

        async def timed_receive() -> Message:
            nonlocal body_done
            if body_done:
                # After the body, receive() only waits for a disconnect (e.g. while a long
                # download streams), which may take as long as it takes.
                return await receive()
            try:
                async with asyncio.timeout(self.seconds):
                    message = await receive()
            except TimeoutError:
                raise BodyReadTimeout(
                    f"The request body stalled: no data for {self.seconds:g} seconds"
                ) from None
            if message["type"] != "http.request" or not message.get("more_body", False):
                body_done = True
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            # Routes answer the timeout through the edge (408); what escapes them ends here.
            await self.app(scope, timed_receive, tracking_send)
        except BodyReadTimeout as error:
            logger.warning("request body stalled for %gs", self.seconds)
            if not started:
                await refuse(scope, send, error.http_status, error.code, error.message)
