"""Rebuild every projection from the events, beside the live tables, while commands go on.

1. **Build.** Empty copies of the live tables are made in the schema ``kmop_rebuild``
   (``app.events.bulk``). In one read-only REPEATABLE READ transaction every event its snapshot
   sees is read in the global order (transaction id, position) and folded in memory; each
   table is then written by COPY, indexed afterwards, and ANALYZEd (so that no plan is made on
   an empty table's statistics), several tables at once on sessions of their own. Commands go
   on meanwhile, projecting into the live tables.
2. **Catch up.** The events the last snapshot did not see and a new one does (committed
   since) are projected into the copies by the live path (``Projector``, with the copies first
   on the search path), in short transactions, until few are left. Each event is thus read
   exactly once, whatever order transactions commit in and however old the oldest transaction
   running on the server (a horizon would wait for it). Across rounds the global order holds
   where it matters: within a stream, and among decisions, which number units under the
   numbering lock and so commit in the order of their transaction ids.
3. **Swap**, in one short transaction: take the numbering lock and an ACCESS EXCLUSIVE lock on
   the live tables (so no command is projecting, nor numbering), project the last committed
   events, and move the live tables out (schema ``kmop_replaced``, dropped after the commit)
   and the copies in. A command that had appended but not yet projected when the locks were
   taken waits, then projects its events into the new tables: after the swap they hold every
   committed event once. The locks are taken with a short ``lock_timeout``: if a command or a
   reader holds a table, the swap gives way (it never deadlocks a command), catches up and
   tries again.

One rebuild at a time (a session advisory lock). The events are only read: the hash chain and
the checkpoints are untouched.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from app.events.bulk import (
    Fold,
    create_tables,
    fold_events,
    index_and_analyze,
    live_schema,
    write_tables,
)
from app.events.catalog import REGISTRY, UNIT_STREAM, unit_key_from_stream
from app.events.parallel import fold_and_write
from app.events.projections import NUMBERING_LOCK, PROJECTION_TABLES, Projected, Projector
from app.events.registry import EventRegistry
from app.runtime.pg import asyncpg_dsn

SCHEMA = "kmop_rebuild"  # where the new tables are built
REPLACED = "kmop_replaced"  # where the old ones go at the swap, to be dropped
REBUILD_LOCK = 7_316_002  # pg_advisory_lock key: one rebuild at a time
CAUGHT_UP = 500  # events left to project under the swap's locks, at most (if commands allow)
CATCH_UP_ROUNDS = 10
SWAP_WAIT = 0.05  # s: the swap's first lock_timeout; doubled after each try, up to SWAP_WAIT_MAX
SWAP_WAIT_MAX = 1.0
SWAP_TRIES = 50
# Processes that fold and write (``app.events.parallel``); 1: in this process. Two, as the
# measurements in BENCHMARKS.md support on two cores (the server reads and writes beside them).
WORKERS = min(2, os.cpu_count() or 1)
# Sessions that build the new tables' indexes and ANALYZE them, a table each at a time: the
# server's work, serial on one session; two halve it on two cores (BENCHMARKS.md).
INDEX_BUILDERS = min(2, os.cpu_count() or 1)


@dataclass(frozen=True, slots=True)
class RebuildReport:
    events: int
    units: int
    seconds: float
    swap_tries: int = 1

    @property
    def events_per_second(self) -> float:
        return self.events / self.seconds if self.seconds > 0 else float("inf")


async def rebuild_projections(
    engine: AsyncEngine,
    projector: Projector,
    *,
    registry: EventRegistry = REGISTRY,
    progress: Callable[[int], None] | None = None,
    phase: Callable[[str], Awaitable[None]] | None = None,
    workers: int = WORKERS,
) -> RebuildReport:
    """Rebuild beside the live tables and swap them in; ``progress`` is told of the events
    folded, ``phase`` awaited when the new tables are ``"built"`` (before the catch-up) and
    ``"swapped"`` (after the commit); ``workers`` processes fold (1: this one)."""
    started = time.perf_counter()
    fold = Fold(registry, projector.number_base)
    async with engine.connect() as conn:
        await conn.execute(text("SELECT pg_advisory_lock(:k)"), {"k": REBUILD_LOCK})
        await conn.commit()
        try:
            async with conn.begin():
                live = await live_schema(conn)
            await _drop_schemas(conn)
            async with conn.begin():
                await conn.execute(text(f"CREATE SCHEMA {SCHEMA}"))
                await create_tables(conn, live, SCHEMA)
            units = await _build(engine, live, fold, progress, workers)
            if phase is not None:
                await phase("built")
            for _ in range(CATCH_UP_ROUNDS):
                if await _catch_up_round(conn, live, projector, fold, progress) <= CAUGHT_UP:
                    break
            tries = await _swap(conn, live, projector, fold, progress)
            if phase is not None:
                await phase("swapped")
            units += fold.new_units
        finally:
            await _drop_schemas(conn)
            await conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": REBUILD_LOCK})
            await conn.commit()
    return RebuildReport(fold.events, units, time.perf_counter() - started, tries)


async def _build(
    engine: AsyncEngine,
    live: str,
    fold: Fold,
    progress: Callable[[int], None] | None,
    workers: int,
) -> int:
    """Fold the events below the horizon and write the new tables, indexed and analyzed; the
    units written."""
    dsn = asyncpg_dsn(engine.url.render_as_string(hide_password=False))
    async with engine.connect() as conn:
        pg = (await conn.get_raw_connection()).driver_connection
        assert pg is not None
        if workers > 1:
            units = await fold_and_write(pg, dsn, SCHEMA, fold, workers, progress)
        else:
            async with pg.transaction(isolation="repeatable_read", readonly=True):
                await fold_events(pg, fold, progress)
            units = len(fold.units)
            async with pg.transaction():
                await write_tables(pg, SCHEMA, fold)
        async with conn.begin():
            await index_and_analyze(conn, dsn, live, SCHEMA, INDEX_BUILDERS)
    return units


_SINCE = text(
    """
    SELECT stream_id, stream_type, version, event_type, schema_version, data::text AS data,
           recorded_at
    FROM events
    WHERE transaction_id >= pg_snapshot_xmin(CAST(CAST(:seen AS text) AS pg_snapshot))
      AND NOT pg_visible_in_snapshot(transaction_id, CAST(CAST(:seen AS text) AS pg_snapshot))
    ORDER BY transaction_id, position
    """
)


_EARLIER = text(
    """
    SELECT stream_id, version, event_type, schema_version, data::text AS data, recorded_at
    FROM events WHERE stream_id = ANY(CAST(:streams AS text[])) ORDER BY stream_id, version
    """
)


async def _catch_up(
    conn: AsyncConnection,
    projector: Projector,
    fold: Fold,
    progress: Callable[[int], None] | None,
) -> int:
    """Project the events ``fold.snapshot`` did not see and the statement's snapshot sees into
    the new tables (first on the search path), by the live path; the number of events."""
    rows = (await conn.execute(_SINCE, {"seen": fold.snapshot})).all()
    await _fold_units_before(conn, fold, rows)
    for row in rows:
        event = fold.registry.deserialize_json(row.event_type, row.schema_version, row.data)
        projected = Projected(row.stream_id, row.version, event, row.recorded_at)
        unit = fold.unit(projected) if row.stream_type == UNIT_STREAM else None
        await projector.apply(conn, projected, unit)
        if row.stream_type == UNIT_STREAM and row.version == 1:
            fold.new_units += 1
    fold.events += len(rows)
    if progress is not None and rows:
        progress(len(rows))
    return len(rows)


async def _fold_units_before(conn: AsyncConnection, fold: Fold, rows: Sequence[Any]) -> None:
    """Fold into ``fold.units`` the earlier events of the units ``rows`` continue that it does
    not hold (those folded in worker processes): their states before ``rows``."""
    first: dict[str, int] = {}  # stream -> its first version in rows
    for row in rows:
        continued = row.stream_type == UNIT_STREAM and row.version > 1
        if continued and unit_key_from_stream(row.stream_id) not in fold.units:
            first.setdefault(row.stream_id, row.version)
    if not first:
        return
    for row in await conn.execute(_EARLIER, {"streams": sorted(first)}):
        if row.version < first[row.stream_id]:
            event = fold.registry.deserialize_json(row.event_type, row.schema_version, row.data)
            fold.unit(Projected(row.stream_id, row.version, event, row.recorded_at))


async def _catch_up_round(
    conn: AsyncConnection,
    live: str,
    projector: Projector,
    fold: Fold,
    progress: Callable[[int], None] | None,
) -> int:
    """Catch up to a new snapshot in one REPEATABLE READ transaction; the events."""
    async with conn.begin():
        await conn.execute(text("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ"))
        snapshot = str(await conn.scalar(text("SELECT pg_current_snapshot()::text")))
        await conn.execute(text(f"SET LOCAL search_path = {SCHEMA}, {live}"))
        count = await _catch_up(conn, projector, fold, progress)
    fold.snapshot = snapshot
    return count


async def _swap(
    conn: AsyncConnection,
    live: str,
    projector: Projector,
    fold: Fold,
    progress: Callable[[int], None] | None,
) -> int:
    """Project the last events and put the new tables in the live ones' place; the tries."""
    wait = SWAP_WAIT
    for attempt in range(1, SWAP_TRIES + 1):
        try:
            async with conn.begin():
                await conn.execute(text(f"SET LOCAL lock_timeout = {int(wait * 1000)}"))
                await conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": NUMBERING_LOCK})
                tables = ", ".join(f"{live}.{table}" for table in PROJECTION_TABLES)
                await conn.execute(text(f"LOCK TABLE {tables} IN ACCESS EXCLUSIVE MODE"))
                # READ COMMITTED: this statement sees every event committed, so also those of
                # the transactions the locks waited for
                await conn.execute(text(f"SET LOCAL search_path = {SCHEMA}, {live}"))
                await _catch_up(conn, projector, fold, progress)
                await conn.execute(text(f"CREATE SCHEMA {REPLACED}"))
                for table in PROJECTION_TABLES:
                    await conn.execute(text(f"ALTER TABLE {live}.{table} SET SCHEMA {REPLACED}"))
                    await conn.execute(text(f"ALTER TABLE {SCHEMA}.{table} SET SCHEMA {live}"))
            return attempt
        except DBAPIError as error:
            if _sqlstate(error) != "55P03" or attempt == SWAP_TRIES:  # lock_not_available
                raise
        # A command or a reader held a table: it goes first. Catch up, then try again.
        await asyncio.sleep(wait)
        await _catch_up_round(conn, live, projector, fold, progress)
        wait = min(wait * 2, SWAP_WAIT_MAX)
    raise AssertionError("unreachable")


async def _drop_schemas(conn: AsyncConnection) -> None:
    async with conn.begin():
        for schema in (REPLACED, SCHEMA):
            await conn.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))


def _sqlstate(error: DBAPIError) -> str | None:
    cause = getattr(error.orig, "__cause__", None)
    return getattr(cause, "sqlstate", None) or getattr(error.orig, "sqlstate", None)
