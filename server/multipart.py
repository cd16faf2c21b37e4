"""Streaming multipart/form-data: parts are yielded as their bytes arrive, so an uploaded
file can go to storage while it is still being received, never whole in memory."""

from collections.abc import AsyncGenerator, AsyncIterator
from dataclasses import dataclass
from typing import Any

from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.requests import Request

from services.errors import InvalidInput

MAX_FIELD_BYTES = 256 * 1024


@dataclass
class Part:
    name: str
    filename: str | None
    content_type: str | None


class MultipartStream:
    """Parts of a multipart/form-data body as they arrive, file bytes included.

    Nothing is buffered beyond one received chunk, so a file can go to storage while
    it is still being uploaded.
    """

    def __init__(self, request: Request) -> None:
        self.request = request
        self._events: list[tuple[str, Any]] = []
        self._header_name = b""
        self._header_value = b""
        self._headers: dict[bytes, bytes] = {}

    def _on_part_begin(self) -> None:
        self._headers = {}

    def _on_header_field(self, data: bytes, start: int, end: int) -> None:
        self._header_name += data[start:end]

    def _on_header_value(self, data: bytes, start: int, end: int) -> None:
        self._header_value += data[start:end]

    def _on_header_end(self) -> None:
        self._headers[self._header_name.lower()] = self._header_value
        self._header_name = self._header_value = b""

    def _on_headers_finished(self) -> None:
        _, options = parse_options_header(self._headers.get(b"content-disposition"))
        if b"name" not in options:
            raise InvalidInput("Every multipart part needs a Content-Disposition name")
        filename = options.get(b"filename")
        content_type = self._headers.get(b"content-type")
        self._events.append(
            (
                "part",
                Part(
                    name=options[b"name"].decode(errors="replace"),
                    filename=filename.decode(errors="replace") if filename is not None else None,
                    content_type=content_type.decode("latin-1") if content_type else None,
                ),
            )
        )

    def _on_part_data(self, data: bytes, start: int, end: int) -> None:
        self._events.append(("data", data[start:end]))

    def _on_part_end(self) -> None:
        self._events.append(("end", None))

    async def events(self) -> AsyncGenerator[tuple[str, Any], None]:
        """("part", Part), then ("data", bytes) any number of times, then ("end", None)."""
        _, params = parse_options_header(self.request.headers.get("content-type"))
        boundary = params.get(b"boundary")
        if not boundary:
            raise InvalidInput("The multipart Content-Type has no boundary")
        parser = MultipartParser(
            boundary,
            {
                "on_part_begin": self._on_part_begin,
                "on_header_field": self._on_header_field,
                "on_header_value": self._on_header_value,
                "on_header_end": self._on_header_end,
                "on_headers_finished": self._on_headers_finished,
                "on_part_data": self._on_part_data,
                "on_part_end": self._on_part_end,
            },
        )
        try:
            async for chunk in self.request.stream():
                parser.write(chunk)
                pending, self._events = self._events, []
                for event in pending:
                    yield event
            parser.finalize()
        except ValueError as error:  # python-multipart's parse errors derive from it
            raise InvalidInput(f"Malformed multipart body: {error}") from error
        for event in self._events:
            yield event


async def read_field(events: AsyncIterator[tuple[str, Any]]) -> str:
    data = bytearray()
    async for kind, value in events:
        if kind == "end":
            return data.decode(errors="replace")
        data.extend(value)
        if len(data) > MAX_FIELD_BYTES:
            raise InvalidInput(f"A form field is larger than {MAX_FIELD_BYTES} bytes")
    raise InvalidInput("The multipart body ended inside a field")


async def file_chunks(events: AsyncIterator[tuple[str, Any]]) -> AsyncIterator[bytes]:
    async for kind, value in events:
        if kind == "end":
            return
        yield value
    raise InvalidInput("The multipart body ended inside the file")
