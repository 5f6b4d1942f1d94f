"""The live feed as Server-Sent Events, against a real uvicorn server in-process (httpx's ASGI
transport would wait for a stream that never ends): resume after a disconnect with
Last-Event-ID and get exactly what was missed, heartbeats while idle, filters that move the
resume point past what they leave out, and a clean end when the service stops."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from app.main import create_app
from app.runtime.serving import Server
from app.runtime.settings import Settings
from app.services.clock import FixedClock
from tests.api.support import AGENCY, OTHER_BUREAU_ID, bureau_body, ok
from tests.api.test_feed import rating, register_rated
from tests.integration.scenarios import enterprise_number

HEARTBEAT = 0.3
# bureau-kiwa is appointed with the rated provider: this is the bureau appointed during a test
ANOTHER_BUREAU = bureau_body(OTHER_BUREAU_ID, str(enterprise_number(901)))


@dataclass
class Block:
    """One SSE block: its fields (id, data, retry) and comment lines."""

    fields: dict[str, str] = field(default_factory=dict)
    comments: list[str] = field(default_factory=list)

    @property
    def event(self) -> dict[str, Any] | None:
        return json.loads(self.fields["data"]) if "data" in self.fields else None


async def blocks(response: httpx.Response) -> AsyncIterator[Block]:
    block = Block()
    async for line in response.aiter_lines():
        if not line:
            yield block
            block = Block()
        elif line.startswith(":"):
            block.comments.append(line[1:].strip())
        else:
            name, _, value = line.partition(":")
            block.fields[name] = value.removeprefix(" ")


@asynccontextmanager
async def serving(
    engine: AsyncEngine, clock: FixedClock
) -> AsyncIterator[tuple[Server, httpx.AsyncClient]]:
    settings = Settings(environment="test", sse_heartbeat_seconds=HEARTBEAT, sse_poll_seconds=0.05)
    server = Server(
        create_app(settings, engine=engine, clock=clock),
        host="127.0.0.1",
        port=0,
        log_level="warning",
    )
    task = asyncio.create_task(server.serve())
    try:
        async with asyncio.timeout(10):
            while not server.started:  # noqa: ASYNC110 (uvicorn offers no event to wait on)
                await asyncio.sleep(0.01)
        port = server.servers[0].sockets[0].getsockname()[1]
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=10) as client:
            yield server, client
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, timeout=10)


async def committed(engine: AsyncEngine, after: int = 0) -> list[int]:
    async with engine.connect() as conn:
        query = text(
            "SELECT position FROM events WHERE position > :after ORDER BY transaction_id, position"
        )
        return list((await conn.execute(query, {"after": after})).scalars())


async def record_ratings(client: httpx.AsyncClient, numbers: range) -> None:
    for n in numbers:
        ok(await client.post("/ratings", json=rating(n), headers=AGENCY), 201)


async def test_resume_after_a_disconnect_heartbeats_and_a_clean_stop(
    engine: AsyncEngine, clock: FixedClock
) -> None:
    async with asyncio.timeout(60), serving(engine, clock) as (server, client):
        registered = await register_rated(client, clock, engine)
        await record_ratings(client, range(5))
        received: list[int] = []

        # Read three events, then hang up mid-stream.
        params = {"after": registered}
        async with client.stream(
            "GET", "/events/stream", params=params, headers=AGENCY
        ) as response:
            assert response.status_code == 200
            assert response.headers["content-type"].startswith("text/event-stream")
            async for block in blocks(response):
                if block.event is not None:
                    assert block.fields["id"] == str(block.event["position"])
                    received.append(block.event["position"])
                if len(received) == 3:
                    break
        last_seen = received[-1]

        # What happens while the client is away.
        await record_ratings(client, range(5, 9))
        ok(await client.post("/bureaus", json=ANOTHER_BUREAU, headers=AGENCY), 201)
        everything = await committed(engine, after=registered)
        missed = everything[everything.index(last_seen) + 1 :]
        assert len(missed) == 2 + 4 + 1

        # Back with Last-Event-ID: exactly what was missed, then heartbeats, then the stop.
        resumed: list[int] = []
        heartbeats = 0
        headers = AGENCY | {"Last-Event-ID": str(last_seen)}
        async with client.stream(
            "GET",
            "/events/stream",
            params={"after": 0},
            headers=headers,  # the header wins
        ) as response:
            assert response.status_code == 200
            stream = blocks(response)
            async for block in stream:
                if block.event is not None:
                    resumed.append(block.event["position"])
                heartbeats += "heartbeat" in block.comments
                if len(resumed) >= len(missed) and heartbeats:
                    break
            assert resumed == missed  # no loss, no repeat, in order
            server.should_exit = True  # the service stops: the open stream must end by itself
            rest = [block async for block in stream]
        assert all(block.event is None for block in rest)
        assert received + resumed == everything


async def test_a_filtered_stream_moves_its_resume_point_past_what_it_leaves_out(
    engine: AsyncEngine, clock: FixedClock
) -> None:
    async with asyncio.timeout(60), serving(engine, clock) as (_, client):
        registered = await register_rated(client, clock, engine)
        await record_ratings(client, range(2))
        ok(await client.post("/bureaus", json=ANOTHER_BUREAU, headers=AGENCY), 201)
        everything = await committed(engine, after=registered)
        params: dict[str, str | int] = {"type": "RatingRecorded", "after": everything[0]}
        ids: list[str] = []
        events: list[dict[str, Any]] = []
        async with client.stream("GET", "/events/stream", params=params, headers=AGENCY) as r:
            assert r.headers["cache-control"] == "no-cache"
            async for block in blocks(r):
                if "retry" in block.fields:
                    assert int(block.fields["retry"]) > 0
                if "id" in block.fields:
                    ids.append(block.fields["id"])
                if block.event is not None:
                    events.append(block.event)
                if ids and ids[-1] == str(everything[-1]):
                    break
        assert [e["event_type"] for e in events] == ["RatingRecorded"]
        assert events[0]["position"] == everything[1]
        # The bureau's event was left out, but the resume point moved past it (an id-only block).
        assert ids == [str(everything[1]), str(everything[2])]
