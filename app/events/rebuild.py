"""Rebuild every projection from the events.

In one transaction: wait for transactions that may number units (the numbering lock) and for
projection writers (an EXCLUSIVE lock on the projection tables: readers go on reading the old
rows until the rebuild commits), empty the tables, and replay every committed event in the
global order. Commands arriving meanwhile wait for the tables and then project their own
events on top of the rebuilt rows.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from app.domain.registration import UnitState, evolve
from app.events.catalog import REGISTRY, UNIT_STREAM, unit_key_from_stream
from app.events.projections import NUMBERING_LOCK, PROJECTION_TABLES, Projected, Projector
from app.events.registry import EventRegistry
from app.events.store import EventStore

PAGE = 2000


@dataclass(frozen=True, slots=True)
class RebuildReport:
    events: int
    units: int
    seconds: float

    @property
    def events_per_second(self) -> float:
        return self.events / self.seconds if self.seconds > 0 else float("inf")


async def rebuild_projections(
    engine: AsyncEngine,
    projector: Projector,
    *,
    registry: EventRegistry = REGISTRY,
    progress: Callable[[int], None] | None = None,
) -> RebuildReport:
    started = time.perf_counter()
    async with engine.connect() as conn, conn.begin():
        await conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": NUMBERING_LOCK})
        await conn.execute(text(f"LOCK TABLE {', '.join(PROJECTION_TABLES)} IN EXCLUSIVE MODE"))
        for table in PROJECTION_TABLES:
            await conn.execute(text(f"DELETE FROM {table}"))
        count, units = await replay(conn, projector, registry=registry, progress=progress)
    return RebuildReport(count, units, time.perf_counter() - started)


async def replay(
    conn: AsyncConnection,
    projector: Projector,
    *,
    registry: EventRegistry = REGISTRY,
    progress: Callable[[int], None] | None = None,
) -> tuple[int, int]:
    """Project every committed event, in the global order, into the (empty) tables the
    connection's search_path names; returns the number of events and of units."""
    units: dict[str, UnitState] = {}
    count = 0
    store = EventStore(conn, registry)
    after = 0
    while page := await store.read_all(after=after, limit=PAGE, horizon=False):
        # A unit's registration row is written once per page, from its last state in the page,
        # rather than after each of its events: the same rows, a fraction of the statements.
        # Only the event that first registers a unit is projected whole at once, so that units
        # take their numbers in the global order, as they did live.
        pending: dict[str, tuple[UnitState, Projected]] = {}
        for item in page:
            projected = Projected(item.stream_id, item.version, item.event, item.recorded_at)
            if item.stream_type != UNIT_STREAM:
                await projector.apply(conn, projected, None)
                continue
            key = unit_key_from_stream(item.stream_id)
            before = units.get(key, UnitState())
            state = units[key] = evolve(before, item.event)
            if before.first_registered_on is None and state.first_registered_on is not None:
                pending.pop(key, None)
                await projector.apply(conn, projected, (key, state))
            else:
                await projector.event_tables(conn, projected, (key, state))
                pending[key] = (state, projected)
        for key, (state, projected) in pending.items():
            await projector.registration(conn, key, state, projected)
        count += len(page)
        after = page[-1].position
        if progress is not None:
            progress(len(page))
    return count, len(units)
