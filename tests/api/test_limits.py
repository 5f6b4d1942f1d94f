"""What a request may send: bodies are JSON and bounded; anything else is a clear 4xx that
changes nothing."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.api.support import AGENCY, PROBLEM, PROVIDER, application_body, ok, problem

LIMIT = 1_048_576


async def no_events(engine: AsyncEngine) -> None:
    async with engine.connect() as conn:
        assert await conn.scalar(text("SELECT count(*) FROM events")) == 0


async def test_a_body_over_the_limit_is_refused_from_its_content_length(
    client: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    body = b'{"provider_name": "' + b"a" * LIMIT + b'"}'
    response = await client.post(
        "/applications",
        content=body,
        headers={**PROVIDER, "Content-Type": "application/json"},
    )
    found = problem(response, 413, "body-too-large")
    assert str(LIMIT) in found["detail"]
    await no_events(engine)


async def test_a_streamed_body_is_cut_off_once_it_passes_the_limit(
    client: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    sent = 0

    async def endless() -> AsyncIterator[bytes]:
        nonlocal sent
        yield b'{"provider_name": "'
        while sent < 50 * LIMIT:  # far more than the limit: the reader must stop early
            sent += 65536
            yield b"a" * 65536

    response = await client.post(
        "/applications",
        content=endless(),
        headers={**PROVIDER, "Content-Type": "application/json"},
    )
    problem(response, 413, "body-too-large")
    assert sent <= LIMIT + 2 * 65536  # read no further than the limit and a chunk
    await no_events(engine)


@pytest.mark.parametrize(
    "content_type",
    ["text/plain", "application/x-www-form-urlencoded", "application/xml", "multipart/form-data"],
)
async def test_a_body_that_is_not_json_is_415(
    client: httpx.AsyncClient, engine: AsyncEngine, content_type: str
) -> None:
    response = await client.post(
        "/applications", content=b'{"a": 1}', headers={**PROVIDER, "Content-Type": content_type}
    )
    found = problem(response, 415, "unsupported-media-type")
    assert content_type in found["detail"]
    await no_events(engine)


async def test_json_with_a_charset_or_a_json_suffix_is_accepted(
    client: httpx.AsyncClient,
) -> None:
    body = json.dumps(application_body()).encode()
    for content_type in ("application/json; charset=utf-8", "application/vnd.kmop+json"):
        response = await client.post(
            "/applications", content=body, headers={**PROVIDER, "Content-Type": content_type}
        )
        # Past the media type check: the service answers (201 the first time, then 409).
        assert response.status_code in (201, 409), response.text


async def test_invalid_utf8_is_a_400_problem(
    client: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    response = await client.post(
        "/applications",
        content=b'{"provider_name": "\xff\xfe"}',
        headers={**PROVIDER, "Content-Type": "application/json"},
    )
    assert response.status_code in (400, 422), response.text
    assert response.headers["content-type"] == PROBLEM
    await no_events(engine)


async def test_a_command_without_a_body_is_still_answered(client: httpx.AsyncClient) -> None:
    run = ok(await client.post("/deadlines/run", headers=AGENCY))
    assert run["events"] == {}
