"""`kmop serve` bounds what a client may send before its request reaches the app: a request
head (line and headers) longer than KMOP_MAX_HEADER_BYTES gets 431, one that is not complete
within KMOP_HEADER_TIMEOUT_SECONDS gets 408, however slowly it trickles in; both close the
connection. Against a real server process: these bounds live in the HTTP protocol, not the app,
so every test runs on both of ``KMOP_HTTP_PROTOCOL``'s parsers, httptools (the default) and h11."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest

from tests.api.support import AGENCY
from tests.integration.serving import Server, free_port, spawn_serve, wait_ready

HEADER_TIMEOUT = 2.0
MAX_HEADER_BYTES = 8192


@pytest.fixture(params=["httptools", "h11"])
async def server(request: pytest.FixtureRequest, database_url: str) -> AsyncIterator[int]:
    port = free_port()
    process = await spawn_serve(
        port,
        KMOP_DATABASE_URL=database_url,
        KMOP_ENVIRONMENT="test",
        KMOP_HTTP_PROTOCOL=request.param,
        KMOP_HEADER_TIMEOUT_SECONDS=str(HEADER_TIMEOUT),
        KMOP_MAX_HEADER_BYTES=str(MAX_HEADER_BYTES),
    )
    running = Server(process)
    try:
        await wait_ready(f"http://127.0.0.1:{port}/readyz", running)
        yield port
    finally:
        process.terminate()
        await process.wait()
        running.reader.cancel()


@asynccontextmanager
async def connection(port: int) -> AsyncIterator[tuple[asyncio.StreamReader, asyncio.StreamWriter]]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        yield reader, writer
    finally:
        writer.close()


async def answer(reader: asyncio.StreamReader) -> tuple[int, dict[str, str], bytes]:
    """The response, read until the server closes the connection (bounded by the caller)."""
    raw = await reader.read(-1)  # to EOF: the server must close
    head, _, body = raw.partition(b"\r\n\r\n")
    status_line, *lines = head.decode("latin-1").split("\r\n")
    headers = {k.strip().lower(): v.strip() for k, v in (line.split(":", 1) for line in lines)}
    return int(status_line.split()[1]), headers, body


def assert_problem(status: int, headers: dict[str, str], body: bytes, code: str) -> None:
    assert headers["content-type"] == "application/problem+json"
    assert headers["connection"] == "close"
    problem = json.loads(body)
    assert (problem["status"], problem["code"]) == (status, code)


async def test_a_head_longer_than_the_bound_is_refused_with_431(server: int) -> None:
    async with connection(server) as (reader, writer), asyncio.timeout(30):
        # 1 MB of one header that never ends: refused once the bound is passed, never read whole.
        writer.write(b"GET /healthz HTTP/1.1\r\nHost: kmop\r\nX-Padding: " + b"a" * 1_000_000)
        status, headers, body = await answer(reader)
    assert status == 431
    assert_problem(status, headers, body, "headers-too-large")


async def test_an_oversized_bearer_token_is_refused_before_any_verification(server: int) -> None:
    token = "eyJ" + "a" * 1_300_000
    request = f"GET /bureaus HTTP/1.1\r\nHost: kmop\r\nAuthorization: Bearer {token}\r\n\r\n"
    async with connection(server) as (reader, writer), asyncio.timeout(30):
        writer.write(request.encode())
        status, headers, body = await answer(reader)
    assert status == 431
    assert_problem(status, headers, body, "headers-too-large")


async def test_a_head_that_trickles_in_is_cut_off_after_the_header_timeout(server: int) -> None:
    loop = asyncio.get_running_loop()
    async with connection(server) as (reader, writer):
        started = loop.time()
        writer.write(b"GET /healthz HTTP/1.1\r\nHost: kmop\r\n")

        async def trickle() -> None:  # a header line every 0.2 s: never idle, never complete
            for n in range(1000):
                writer.write(f"X-Slow-{n}: 1\r\n".encode())
                await writer.drain()
                await asyncio.sleep(0.2)  # the client's pace, not a wait for the server

        sending = asyncio.create_task(trickle())
        try:
            async with asyncio.timeout(HEADER_TIMEOUT + 20):
                status, headers, body = await answer(reader)
        finally:
            sending.cancel()
        elapsed = loop.time() - started
    assert status == 408
    assert_problem(status, headers, body, "request-timeout")
    assert HEADER_TIMEOUT - 0.1 <= elapsed < HEADER_TIMEOUT + 15


async def test_a_connection_that_sends_nothing_is_closed_after_the_header_timeout(
    server: int,
) -> None:
    async with connection(server) as (reader, _), asyncio.timeout(HEADER_TIMEOUT + 20):
        status, headers, body = await answer(reader)
    assert status == 408
    assert_problem(status, headers, body, "request-timeout")


async def test_heads_within_the_bounds_are_served_on_a_kept_alive_connection(server: int) -> None:
    """The control: a head just under the bound is answered, and a second request on the same
    connection, after a pause longer than nothing, gets its own deadline."""
    padding = "a" * (MAX_HEADER_BYTES - 1024)
    auth = AGENCY["Authorization"]
    async with connection(server) as (reader, writer), asyncio.timeout(30):
        for path in ("/healthz", "/bureaus"):
            writer.write(
                f"GET {path} HTTP/1.1\r\nHost: kmop\r\nAuthorization: {auth}\r\n"
                f"X-Padding: {padding}\r\n\r\n".encode()
            )
            status_line = await reader.readline()
            assert b" 200 " in status_line, status_line
            length = 0
            while (line := await reader.readline()) != b"\r\n":
                name, _, value = line.decode().partition(":")
                if name.lower() == "content-length":
                    length = int(value)
            await reader.readexactly(length)


async def test_head_answers_end_at_their_headers_on_a_kept_alive_connection(server: int) -> None:
    """HEAD runs the GET (app/api/http/methods.py), but the server must write a HEAD's answer: the
    headers and nothing more, whether the GET has a length (``/public/options``) or is streamed
    (``/public/providers.csv``: no length, chunked as a GET). A stray byte (a chunked GET's
    terminator) would be read as the next answer's status line."""
    async with connection(server) as (reader, writer), asyncio.timeout(30):
        for method, path in (
            ("HEAD", "/public/options"),
            ("HEAD", "/public/providers.csv"),
            ("HEAD", "/public/options"),
            ("GET", "/healthz"),
        ):
            writer.write(f"{method} {path} HTTP/1.1\r\nHost: kmop\r\n\r\n".encode())
            status_line = await reader.readline()
            assert status_line.startswith(b"HTTP/1.1 200 "), (method, path, status_line)
            headers: dict[str, str] = {}
            while (line := await reader.readline()) != b"\r\n":
                name, _, value = line.decode().partition(":")
                headers[name.strip().lower()] = value.strip()
            if method == "GET":
                await reader.readexactly(int(headers["content-length"]))
