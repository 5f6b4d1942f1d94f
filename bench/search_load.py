"""The public search benchmark's loading (``bench/search.py``): every provider's story
(``bench/search_data.py``) appended through the event store (or COPYed with ``--copy``), the
projections rebuilt, and what a kept database already holds."""

from __future__ import annotations

import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import asyncpg
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from app.events import EventStore
from app.events.catalog import REGISTRY
from app.events.projections import Projector
from app.events.rebuild import rebuild_projections
from bench.history import COLUMNS as HISTORY_COLUMNS
from bench.history import Rows as HistoryRows
from bench.search_data import (
    LISTED,
    Append,
    bureaus,
    provider_history,
)

SEED = 20261125
IN_FORCE = (
    "r.status IN ('registered', 'registered_conditionally', 'registered_starter')"
    " AND r.valid_from <= :today AND r.valid_until >= :today"
)


# --- loading ---------------------------------------------------------------------------------


@dataclass
class Loaded:
    providers: int = 0
    listed: int = 0
    events: int = 0
    appends: int = 0


@dataclass(frozen=True)
class LoadReport:
    providers: int
    events: int
    load_seconds: float
    rebuild_events: int
    rebuild_seconds: float


async def _append_all(engine: AsyncEngine, appends: Sequence[Append]) -> None:
    async with engine.begin() as conn:
        store = EventStore(conn, REGISTRY)
        for a in appends:
            await store.append(
                a.stream_id,
                a.stream_type,
                a.expected_version,
                a.events,
                a.metadata,
                recorded_at=a.recorded_at,
            )


async def already_loaded(engine: AsyncEngine, day: date) -> Loaded:
    """What a database kept by an earlier run holds (every provider applied for at least one
    unit; only granted ones have a ``public_providers`` row since migration 0006)."""
    async with engine.connect() as conn:
        providers = int(
            await conn.scalar(text("SELECT count(DISTINCT enterprise_number) FROM registrations"))
            or 0
        )
        events = int(await conn.scalar(text("SELECT count(*) FROM events")) or 0)
        listed = await conn.scalar(text(_LISTED), {"today": day})
        appends = await conn.scalar(
            text("SELECT count(DISTINCT (transaction_id, recorded_at, stream_id)) FROM events")
        )
    return Loaded(providers, int(listed or 0), events, int(appends or 0))


_LISTED = (
    "SELECT count(*) FROM public_providers p WHERE EXISTS (SELECT 1 FROM registrations r"
    f" WHERE r.enterprise_number = p.enterprise_number AND {IN_FORCE})"
)


async def _copy_all(url: str, appends: Sequence[Append], rows: Any) -> None:
    """The events of ``appends`` COPYed in one transaction, hash-chained as ``append`` does."""
    conn = await asyncpg.connect(make_url(url).set(drivername="postgresql").render_as_string(False))
    try:
        async with conn.transaction():
            await conn.copy_records_to_table(
                "events", records=list(rows.of(appends)), columns=HISTORY_COLUMNS
            )
    finally:
        await conn.close()


async def load(
    engine: AsyncEngine,
    loaded: Loaded,
    size: int,
    day: date,
    batch: int = 250,
    copy_url: str | None = None,
) -> LoadReport:
    """Append the providers ``loaded.providers`` .. ``size - 1``, then rebuild the projections.
    With ``copy_url`` (``--copy``) the events are COPYed in batches (``bench/history.py``'s
    rows, the same hash chains) rather than appended one command at a time: the same store,
    several times faster to make."""
    started = time.perf_counter()
    first_event = loaded.events
    rows = HistoryRows() if copy_url else None
    if copy_url and loaded.providers:
        raise SystemExit("--copy loads into an empty database only")
    if copy_url:
        batch *= 20

    async def write(appends: Sequence[Append]) -> None:
        if copy_url:
            await _copy_all(copy_url, appends, rows)
        else:
            await _append_all(engine, appends)

    bureau_appends, context = bureaus(datetime(2019, 1, 2, 9, tzinfo=UTC))
    if loaded.providers == 0:
        await write(bureau_appends)
        loaded.events += sum(len(a.events) for a in bureau_appends)
    pending: list[Append] = []
    for n in range(loaded.providers, size):
        history = provider_history(n, SEED, day, context)
        pending += history.appends
        loaded.listed += history.fate in LISTED
        if (n + 1) % batch == 0 or n == size - 1:
            await write(pending)
            loaded.appends += len(pending)
            loaded.events += sum(len(a.events) for a in pending)
            pending = []
            print(f"\r  appended {n + 1:,} providers", end="", file=sys.stderr, flush=True)
    loaded.providers = size
    load_seconds = time.perf_counter() - started
    print(file=sys.stderr)
    report = await rebuild_projections(engine, Projector())
    async with engine.connect() as conn:
        await conn.execution_options(isolation_level="AUTOCOMMIT")
        await conn.execute(text("VACUUM ANALYZE"))
        listed = await conn.scalar(text(_LISTED), {"today": day})
    if listed != loaded.listed:  # the decider's fates and the projection must agree
        raise AssertionError(f"{listed} providers listed today, {loaded.listed} expected")
    return LoadReport(
        size, loaded.events - first_event, load_seconds, report.events, report.seconds
    )
