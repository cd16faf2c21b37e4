"""Refuse request bodies over the upload limit before they reach disk."""

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from server.edge import refuse

# Room for the multipart envelope and the GraphQL operation around the file bytes.
ENVELOPE_BYTES = 1 << 20


class BodyTooLarge(Exception):
    pass


class BodySizeLimit:
    def __init__(self, app: ASGIApp, *, max_body_bytes: int) -> None:
        self.app = app
        self.limit = max_body_bytes + ENVELOPE_BYTES

    async def _refuse(self, scope: Scope, send: Send) -> None:
        await refuse(
            scope,
            send,
            413,
            "PAYLOAD_TOO_LARGE",
            f"The request body is larger than {self.limit} bytes",
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.limit:
            await self._refuse(scope, send)
            return
        received = 0
        started = False

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.limit:
                    raise BodyTooLarge()
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counting_receive, tracking_send)
        except BodyTooLarge:
            if not started:
                await self._refuse(scope, send)
