"""Serving the app with uvicorn: bounded request heads, and open event streams that end when
the service stops.

**Request heads.** uvicorn's default protocol (httptools, when installed) reads a request line
and headers of any size into memory and waits for them for ever: a 50 MB header was read whole,
and a client sending one header line every few seconds (slowloris) held its connection open
indefinitely. The service speaks HTTP/1.1 through h11 instead, with ``BoundedH11Protocol``:

* a head (request line and headers) longer than ``KMOP_MAX_HEADER_BYTES`` is refused with 431
  ``headers-too-large`` as soon as that many bytes are buffered, and the connection closed;
* a head not complete ``KMOP_HEADER_TIMEOUT_SECONDS`` after its first byte (or after the
  connection opened) is refused with 408 ``request-timeout``, however slowly it trickles in;
* any other unreadable head gets 400 ``malformed-request``.

These answers are problem+json written by the protocol: the app never sees such a request.

**Event streams.**
uvicorn's graceful shutdown stops accepting connections, then waits for every open response to
finish, and only then runs the app's lifespan shutdown. An event stream (``GET /events/stream``)
never finishes by itself, so it would wait for the stream, and the stream for the lifespan:
a stop would hang until a second Ctrl-C. This server sets ``app.state.stopping`` (the event the
streams watch; the lifespan sets it too) *before* it waits, so streams end and the stop is clean.
"""

from __future__ import annotations

import asyncio
import json
import socket
from http import HTTPStatus
from typing import Any

import h11
import uvicorn
from fastapi import FastAPI
from uvicorn.protocols.http.h11_impl import H11Protocol

from app.api.problems import TYPE_BASE
from app.settings import Settings

DEFAULT_MAX_HEAD_BYTES = 16_384
LINGER_SECONDS = 2.0  # after refusing a head, how long the rest of it is read and dropped


class _RecordingConnection(h11.Connection):
    """h11's connection, remembering why it last refused the peer (to answer with its hint)."""

    last_error: h11.RemoteProtocolError | None = None

    def next_event(self) -> Any:
        try:
            return super().next_event()
        except h11.RemoteProtocolError as exc:
            self.last_error = exc
            raise


class BoundedH11Protocol(H11Protocol):
    """uvicorn's h11 protocol with a deadline for each request head and problem+json refusals.
    ``max_head_bytes`` reaches h11 as uvicorn's ``h11_max_incomplete_event_size``."""

    header_timeout: float = 10.0

    def __init__(self, config: uvicorn.Config, *args: Any, **kwargs: Any) -> None:
        super().__init__(config, *args, **kwargs)
        self.max_head_bytes = config.h11_max_incomplete_event_size or DEFAULT_MAX_HEAD_BYTES
        self.recording = _RecordingConnection(h11.SERVER, self.max_head_bytes)
        self.conn = self.recording
        self._head_deadline: asyncio.TimerHandle | None = None
        self._refused = False

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._start_head_deadline()

    def data_received(self, data: bytes) -> None:
        if self._refused:
            return  # lingering after a refusal: what still arrives is dropped unread
        if self._head_deadline is None and self.conn.their_state is h11.IDLE:
            self._start_head_deadline()  # the first bytes of the next request on this connection
        super().data_received(data)
        if self.conn.their_state is not h11.IDLE:
            self._stop_head_deadline()  # the head is in (or the connection failed)

    def connection_lost(self, exc: Exception | None) -> None:
        self._stop_head_deadline()
        super().connection_lost(exc)

    def _start_head_deadline(self) -> None:
        self._head_deadline = self.loop.call_later(self.header_timeout, self._head_too_slow)

    def _stop_head_deadline(self) -> None:
        if self._head_deadline is not None:
            self._head_deadline.cancel()
            self._head_deadline = None

    def _head_too_slow(self) -> None:
        self._head_deadline = None
        if self.conn.their_state is h11.IDLE and not self.transport.is_closing():
            self.logger.warning("Request head not complete in time: connection closed.")
            self._refuse(
                408,
                "request-timeout",
                f"the request line and headers did not arrive within {self.header_timeout:g} "
                "seconds (KMOP_HEADER_TIMEOUT_SECONDS)",
            )

    def send_400_response(self, msg: str) -> None:
        """h11 refused the head: too long (its hint is 431) or not HTTP."""
        error = self.recording.last_error
        if error is not None and error.error_status_hint == 431:
            self._refuse(
                431,
                "headers-too-large",
                f"the request line and headers are longer than {self.max_head_bytes} bytes "
                "(KMOP_MAX_HEADER_BYTES)",
            )
        else:
            self._refuse(400, "malformed-request", "the request is not valid HTTP/1.1")

    def _refuse(self, status: int, code: str, detail: str) -> None:
        phrase = HTTPStatus(status).phrase
        body = json.dumps(
            {
                "type": TYPE_BASE + code,
                "title": phrase,
                "status": status,
                "detail": detail,
                "code": code,
            }
        ).encode()
        head = (
            f"HTTP/1.1 {status} {phrase}\r\ncontent-type: application/problem+json\r\n"
            f"content-length: {len(body)}\r\nconnection: close\r\n\r\n"
        )
        self.transport.write(head.encode() + body)
        # Close gently: closing while the client still sends would reset the connection and
        # could destroy the answer before the client reads it. Send FIN, drop what still comes
        # for a moment, then close.
        self._refused = True
        self._stop_head_deadline()
        self._unset_keepalive_if_required()
        if self.transport.can_write_eof():
            self.transport.write_eof()
            self.loop.call_later(LINGER_SECONDS, self.transport.close)
        else:
            self.transport.close()


def bounded_protocol(header_timeout: float) -> type[BoundedH11Protocol]:
    return type("BoundedH11Protocol", (BoundedH11Protocol,), {"header_timeout": header_timeout})


def http_limits(settings: Settings) -> dict[str, Any]:
    """uvicorn's configuration for the bounds on request heads (see the module's docstring)."""
    return {
        "http": bounded_protocol(settings.header_timeout_seconds),
        "h11_max_incomplete_event_size": settings.max_header_bytes,
    }


class Server(uvicorn.Server):
    def __init__(self, app: FastAPI, **config: Any) -> None:
        settings: Settings = getattr(app.state, "settings", None) or Settings()
        config = http_limits(settings) | config
        super().__init__(uvicorn.Config(app, **config))
        self.app = app

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        stopping: asyncio.Event | None = getattr(self.app.state, "stopping", None)
        if stopping is not None:
            stopping.set()
        await super().shutdown(sockets)


def run(app: FastAPI, *, host: str, port: int, log_level: str = "info") -> None:
    """``uvicorn.run`` for our app: re-raises Ctrl-C after the graceful shutdown, as it does."""
    Server(app, host=host, port=port, log_level=log_level).run()
