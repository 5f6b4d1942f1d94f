"""A filtered follower of ``read_feed`` gets exactly the committed events that pass its filter,
in the global order, however writers interleave, and its cursor moves past the others."""

from __future__ import annotations

import asyncio
import random

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from app.events import EventStore
from tests.integration.test_read_all_concurrency import REGISTRY, writer

WRITERS = 6
WANTED = [f"shared-{n}" for n in range(0, 20, 3)]  # a third of the shared streams


async def test_a_filtered_follower_sees_every_matching_event_once_in_one_order(
    engine: AsyncEngine,
) -> None:
    seen: list[int] = []
    cursors: list[int] = []
    stop = asyncio.Event()
    rng = random.Random(3)

    async def follow() -> None:
        after = 0
        async with engine.connect() as conn:
            store = EventStore(conn, REGISTRY)
            while not stop.is_set():
                # A small scan window: pages often end on events the filter left out.
                page = await store.read_feed(
                    after=after, limit=rng.randint(1, 20), stream_ids=WANTED, scan=7
                )
                await conn.rollback()
                seen.extend(event.position for event in page.events)
                after = page.next_after
                cursors.append(after)
                if page.caught_up:
                    await asyncio.sleep(0)  # let the writers run

    follower = asyncio.create_task(follow())
    await asyncio.gather(*(writer(engine, n, seed=100 + n) for n in range(WRITERS)))
    async with engine.connect() as conn:
        order = "FROM events WHERE stream_id = ANY(:wanted) ORDER BY transaction_id, position"
        wanted = list(
            (await conn.execute(text(f"SELECT position {order}"), {"wanted": WANTED})).scalars()
        )
        last = await conn.scalar(
            text("SELECT position FROM events ORDER BY transaction_id DESC, position DESC LIMIT 1")
        )
    async with asyncio.timeout(60):  # until the cursor is past everything that was committed
        while not cursors or cursors[-1] != last:  # noqa: ASYNC110 (the follower polls)
            await asyncio.sleep(0.01)
    stop.set()
    await follower

    assert len(wanted) > 200
    assert len(seen) == len(set(seen)), "an event was delivered twice"
    assert seen == wanted, "the follower missed, invented or reordered events"
