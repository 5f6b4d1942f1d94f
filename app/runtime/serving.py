"""Serving the app with uvicorn: bounded request heads, and open event streams that end when
the service stops.

**Request heads.** uvicorn's protocols read a request line and headers of any size into memory
and wait for them for ever: a 50 MB header was read whole, and a client sending one header line
every few seconds (slowloris) held its connection open indefinitely. The service speaks
HTTP/1.1 through uvicorn's httptools protocol with bounds, ``BoundedHttpToolsProtocol`` (or,
with ``KMOP_HTTP_PROTOCOL=h11``, through ``BoundedH11Protocol``: the same bounds on h11, pure
Python and slower: 0.5-0.7 against 0.3-0.4 ms of CPU for a ``/healthz``, BENCHMARKS.md):

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

**Workers.** ``kmop serve --workers N`` (``serve_workers``): the parent binds the listening
socket once and starts N worker processes (``spawn``: each imports the app and builds its own
with ``create_app``, its own SQLAlchemy engine and asyncpg pool) that accept on that one socket.
Worker 0 alone runs the background jobs (deadline job, checkpoints, forgetting idempotency
keys): they are safe on several servers (``tests/integration/test_two_servers.py``), but N
copies per machine would only repeat each other's work. On SIGTERM or Ctrl-C the parent asks
every worker to stop (SIGTERM: each finishes its requests in flight within the grace, as one
process does), waits for them and returns; the workers sit in their own process group, so a
Ctrl-C at a terminal reaches them once, through the parent. A worker that exits by itself
(crashed, or could not start) stops the others and makes ``kmop serve`` exit 1: the
orchestrator restarts the whole, rather than the parent hiding a crash loop.
"""

from __future__ import annotations

import asyncio
import json
import logging
import multiprocessing
import os
import signal
import socket
import threading
import time
from abc import abstractmethod
from collections.abc import Callable, Sequence
from contextlib import suppress
from http import HTTPStatus
from multiprocessing.connection import wait
from types import FrameType
from typing import TYPE_CHECKING, Any

import h11
import uvicorn
from fastapi import FastAPI
from uvicorn.protocols.http.h11_impl import H11Protocol
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from app.domain.errors import TYPE_BASE
from app.runtime.settings import Settings

log = logging.getLogger("kmop.serve")

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


class _HeadBounds(asyncio.Protocol):
    """What both protocols share: the deadline of each request head (from the connection's
    start), and the problem+json refusals (431, 408, 400) that close the connection gently."""

    header_timeout: float = 10.0
    max_head_bytes: int = DEFAULT_MAX_HEAD_BYTES
    _head_deadline: asyncio.TimerHandle | None = None
    _refused: bool = False
    # provided by uvicorn's protocol classes, which come after this one in the MRO
    loop: asyncio.AbstractEventLoop
    transport: asyncio.Transport
    logger: logging.Logger
    if TYPE_CHECKING:

        def _unset_keepalive_if_required(self) -> None: ...

    @abstractmethod
    def _waiting_for_head(self) -> bool:
        """Whether a request head is due and not complete yet: each protocol class below knows
        from its own parser (httptools: between messages; h11: ``their_state`` IDLE)."""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)
        self._start_head_deadline()

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
        if self._waiting_for_head() and not self.transport.is_closing():
            self.logger.warning("Request head not complete in time: connection closed.")
            self._refuse(
                408,
                "request-timeout",
                f"the request line and headers did not arrive within {self.header_timeout:g} "
                "seconds (KMOP_HEADER_TIMEOUT_SECONDS)",
            )

    def _refuse_too_large(self) -> None:
        self._refuse(
            431,
            "headers-too-large",
            f"the request line and headers are longer than {self.max_head_bytes} bytes "
            "(KMOP_MAX_HEADER_BYTES)",
        )

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


class BoundedHttpToolsProtocol(_HeadBounds, HttpToolsProtocol):
    """uvicorn's httptools protocol (the fast one: llhttp, in C) with the bounds. httptools
    keeps a header it has not seen the end of in its own buffer, however long, so the bytes of
    a head are counted *before* they are fed to it: at most ``max_head_bytes`` of a head are
    ever fed, and the next byte is a 431. The count runs from a request's first byte to the end
    of its headers (``on_headers_complete``); a request pipelined behind another in the same
    read is counted from the next read on."""

    def __init__(self, config: uvicorn.Config, *args: Any, **kwargs: Any) -> None:
        super().__init__(config, *args, **kwargs)
        self.max_head_bytes = config.h11_max_incomplete_event_size or DEFAULT_MAX_HEAD_BYTES
        self._in_head = True  # a head is due: from the connection's start, after each request
        self._head_bytes = 0

    def _waiting_for_head(self) -> bool:
        return self._in_head

    def data_received(self, data: bytes) -> None:
        if self._refused:
            return  # lingering after a refusal: what still arrives is dropped unread
        while data and self._in_head:
            if self._head_deadline is None:
                self._start_head_deadline()  # the first bytes of the next request
            room = self.max_head_bytes - self._head_bytes
            if room <= 0:
                self._refuse_too_large()
                return
            piece, data = data[:room], data[room:]
            self._head_bytes += len(piece)
            super().data_received(piece)
            if self._refused or self.parser is None or self.transport.is_closing():
                return
        if data:
            super().data_received(data)  # a body (or what follows the head in this read)

    def on_headers_complete(self) -> None:
        self._in_head = False
        self._head_bytes = 0
        self._stop_head_deadline()
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        super().on_message_complete()
        self._in_head = True  # its deadline starts with the next request's first byte

    def send_400_response(self, msg: str) -> None:
        self._refuse(400, "malformed-request", "the request is not valid HTTP/1.1")


class BoundedH11Protocol(_HeadBounds, H11Protocol):
    """uvicorn's h11 protocol (pure Python, slower) with the bounds: ``max_head_bytes`` reaches
    h11 as uvicorn's ``h11_max_incomplete_event_size``, and h11 refuses a longer head."""

    def __init__(self, config: uvicorn.Config, *args: Any, **kwargs: Any) -> None:
        super().__init__(config, *args, **kwargs)
        self.max_head_bytes = config.h11_max_incomplete_event_size or DEFAULT_MAX_HEAD_BYTES
        self.recording = _RecordingConnection(h11.SERVER, self.max_head_bytes)
        self.conn = self.recording

    def _waiting_for_head(self) -> bool:
        return self.conn.their_state is h11.IDLE

    def data_received(self, data: bytes) -> None:
        if self._refused:
            return  # lingering after a refusal: what still arrives is dropped unread
        if self._head_deadline is None and self.conn.their_state is h11.IDLE:
            self._start_head_deadline()  # the first bytes of the next request on this connection
        super().data_received(data)
        if self.conn.their_state is not h11.IDLE:
            self._stop_head_deadline()  # the head is in (or the connection failed)

    def send_400_response(self, msg: str) -> None:
        """h11 refused the head: too long (its hint is 431) or not HTTP."""
        error = self.recording.last_error
        if error is not None and error.error_status_hint == 431:
            self._refuse_too_large()
        else:
            self._refuse(400, "malformed-request", "the request is not valid HTTP/1.1")


PROTOCOLS: dict[str, type[_HeadBounds]] = {
    "httptools": BoundedHttpToolsProtocol,
    "h11": BoundedH11Protocol,
}


def bounded_protocol(kind: str, header_timeout: float) -> type[_HeadBounds]:
    base = PROTOCOLS[kind]
    return type(base.__name__, (base,), {"header_timeout": header_timeout})


def http_limits(settings: Settings) -> dict[str, Any]:
    """uvicorn's configuration for the bounds on request heads (see the module's docstring)."""
    return {
        "http": bounded_protocol(settings.http_protocol, settings.header_timeout_seconds),
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


# --- several worker processes on one socket --------------------------------------------------


def listening_socket(host: str, port: int) -> socket.socket:
    """The socket every worker accepts on, bound by the parent (as uvicorn binds it)."""
    config = uvicorn.Config(app=None, host=host, port=port, log_config=None)  # type: ignore[arg-type]
    sock = config.bind_socket()
    sock.set_inheritable(True)
    return sock


def _worker(
    make_app: Callable[[int], FastAPI],
    index: int,
    sock: socket.socket,
    config: dict[str, Any],
) -> None:
    """One worker: its own app (pools, metrics), served on the parent's socket until SIGTERM."""
    os.setpgrp()  # out of the terminal's process group: Ctrl-C reaches it through the parent
    parent = os.getppid()
    _stop_when_orphaned(parent)
    # uvicorn re-raises the SIGTERM it shut down for; end by an exception so the exit is 0
    signal.signal(signal.SIGTERM, _interrupt)
    with suppress(KeyboardInterrupt):
        Server(make_app(index), **config).run(sockets=[sock])


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def _stop_when_orphaned(parent: int) -> None:
    """A worker whose parent died (SIGKILL, OOM) stops gracefully rather than serve on alone."""

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(1.0)
        os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=watch, name="kmop-parent-watch", daemon=True).start()


def serve_workers(
    make_app: Callable[[int], FastAPI],
    workers: int,
    *,
    host: str,
    port: int,
    grace_seconds: float,
    **config: Any,
) -> int:
    """Serve ``make_app(i)`` in ``workers`` processes sharing one socket until SIGTERM or
    SIGINT; the exit status: 0 after a requested stop, 1 if a worker exited by itself.
    ``make_app`` must be picklable (a module-level function): workers are spawned."""
    sock = listening_socket(host, port)
    context = multiprocessing.get_context("spawn")
    processes = [
        context.Process(target=_worker, args=(make_app, i, sock, config), name=f"kmop-worker-{i}")
        for i in range(workers)
    ]
    stopping = threading.Event()

    def stop(signum: int, frame: FrameType | None) -> None:
        stopping.set()
        for process in processes:
            if process.pid is not None and process.exitcode is None:
                os.kill(process.pid, signal.SIGTERM)

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        for process in processes:
            process.start()
        log.info("serving on %s:%d with %d workers", host, port, workers)
        crashed = _supervise(processes, stopping, stop)
        deadline = time.monotonic() + grace_seconds + 30
        for process in processes:
            process.join(max(0.1, deadline - time.monotonic()))
            if process.exitcode is None:  # past the grace and then some: no more waiting
                process.kill()
                process.join()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        sock.close()
    return 1 if crashed else 0


def _supervise(
    processes: Sequence[multiprocessing.process.BaseProcess],
    stopping: threading.Event,
    stop: Callable[[int, FrameType | None], None],
) -> bool:
    """Wait until a stop is asked for (False) or a worker exits by itself (True)."""
    while not stopping.is_set():
        wait([p.sentinel for p in processes], timeout=0.5)
        ended = [p for p in processes if p.exitcode is not None]
        if ended and not stopping.is_set():
            for p in ended:
                log.error("worker %s (pid %s) exited with %s: stopping", p.name, p.pid, p.exitcode)
            stop(signal.SIGTERM, None)
            return True
    return False
