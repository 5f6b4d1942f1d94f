"""A follower of ``read_all`` never skips nor repeats an event, however writers interleave."""

from __future__ import annotations

import asyncio
import random

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from app.events import ConcurrencyConflict, EventStore
from tests.events import Noted, make_registry

REGISTRY = make_registry()
WRITERS = 8
TRANSACTIONS_PER_WRITER = 150
SHARED_STREAMS = 20  # shared by all writers, so some appends conflict and roll back


class Abandoned(Exception):
    """A writer gives up after appending: its transaction rolls back."""


async def writer(engine: AsyncEngine, n: int, seed: int) -> None:
    rng = random.Random(seed)
    for i in range(TRANSACTIONS_PER_WRITER):
        stream = f"shared-{rng.randrange(SHARED_STREAMS)}" if rng.random() < 0.5 else f"w{n}-{i}"
        try:
            async with engine.begin() as conn:
                store = EventStore(conn, REGISTRY)
                version = len(await store.read_stream(stream))
                events = [Noted(text=f"{n}/{i}/{k}", writer=n) for k in range(rng.randint(1, 4))]
                await store.append(stream, "note", version, events)
                if rng.random() < 0.1:
                    raise Abandoned
                if rng.random() < 0.3:
                    # A second append in the same transaction: positions interleave further.
                    await store.append(stream, "note", version + len(events), [Noted(text="+")])
        except (ConcurrencyConflict, Abandoned):
            pass


async def test_follower_sees_every_committed_event_once_in_one_order(engine: AsyncEngine) -> None:
    seen: list[int] = []
    writers_done = asyncio.Event()
    rng = random.Random(7)

    async def follow() -> None:
        after = 0
        async with engine.connect() as conn:
            store = EventStore(conn, REGISTRY)
            while True:
                finished = writers_done.is_set()  # read before the page: then drain once more
                page = await store.read_all(after=after, limit=rng.randint(1, 50))
                await conn.rollback()
                if page:
                    seen.extend(event.position for event in page)
                    after = page[-1].position
                elif finished:
                    return
                else:
                    await asyncio.sleep(0)  # let the writers run

    follower = asyncio.create_task(follow())
    await asyncio.gather(*(writer(engine, n, seed=n) for n in range(WRITERS)))
    writers_done.set()
    await asyncio.wait_for(follower, timeout=60)

    async with engine.connect() as conn:
        committed = (
            (
                await conn.execute(
                    text("SELECT position FROM events ORDER BY transaction_id, position")
                )
            )
            .scalars()
            .all()
        )
    assert len(committed) > 2000  # thousands of events, from many interleaved transactions
    assert len(seen) == len(set(seen)), "an event was delivered twice"
    assert set(seen) == set(committed), "the follower missed or invented events"
    assert seen == list(committed), "the follower's order is not the one global order"
    assert seen != sorted(seen), "positions never interleaved: the test proved nothing"
