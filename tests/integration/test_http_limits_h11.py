"""The same bounds on request heads with ``KMOP_HTTP_PROTOCOL=h11``: every test of
``test_http_limits`` (which runs on the default, httptools) against a server speaking h11."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.integration.serving import Server, free_port, spawn_serve, wait_ready
from tests.integration.test_http_limits import (  # noqa: F401 (collected here too)
    HEADER_TIMEOUT,
    MAX_HEADER_BYTES,
    test_a_connection_that_sends_nothing_is_closed_after_the_header_timeout,
    test_a_head_longer_than_the_bound_is_refused_with_431,
    test_a_head_that_trickles_in_is_cut_off_after_the_header_timeout,
    test_an_oversized_bearer_token_is_refused_before_any_verification,
    test_heads_within_the_bounds_are_served_on_a_kept_alive_connection,
)


@pytest.fixture
async def server(database_url: str) -> AsyncIterator[int]:
    port = free_port()
    process = await spawn_serve(
        port,
        KMOP_DATABASE_URL=database_url,
        KMOP_ENVIRONMENT="test",
        KMOP_HTTP_PROTOCOL="h11",
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
