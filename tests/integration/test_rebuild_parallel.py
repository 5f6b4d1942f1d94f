"""A rebuild folded in several processes gives the rows one process gives, numbers included.

``app.events.parallel`` cuts the events into parts by the key of the rows they change and folds
each part in its own process; the registration numbers are given afterwards from the global
order of the first registrations. Over the six-year history of ``test_rebuild`` (units,
bureaus, ratings, profiles, stops and expiries, the deadline job) every table must come out as
the live projections wrote it, with one process (``workers=1``, the path ``projections verify``
takes too) and with several, including more parts than units of some kinds.
"""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from app.events import bulk, parallel
from app.events.projections import Projector
from app.events.rebuild import SCHEMA, rebuild_projections
from app.runtime.pg import asyncpg_dsn
from tests.integration.scenarios import build_plan
from tests.integration.test_rebuild import SEED, differences, run_history, snapshot


async def test_one_process_and_several_give_the_live_rows(engine: AsyncEngine) -> None:
    plan = build_plan(SEED + 2, size=120)
    service, _ = await run_history(engine, plan)
    live = await snapshot(engine)
    # every table has rows, so that each kind of stream (unit, bureau, provider, rating) is cut
    assert all(live.values()), {table: len(rows) for table, rows in live.items()}
    async with engine.connect() as conn:
        events = await conn.scalar(text("SELECT count(*) FROM events"))
    numbered = [row for row in live["registrations"] if row["registration_serial"] is not None]
    assert len(numbered) > 50

    for workers in (1, 2, 5):
        report = await rebuild_projections(engine, service.projector, workers=workers)
        rebuilt = await snapshot(engine)
        assert rebuilt == live, (workers, differences(live, rebuilt))
        assert report.events == events, workers
        assert report.units == len(plan.units), workers


async def test_a_worker_that_fails_fails_the_rebuild_and_leaves_the_live_tables(
    engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    plan = build_plan(SEED + 3, size=20)
    service, _ = await run_history(engine, plan)
    live = await snapshot(engine)
    # a part's read that the server refuses, as a broken worker would end
    monkeypatch.setattr(parallel, "_part", lambda events: "WHERE no_such_column = $1 AND $2 = $2")

    with pytest.raises(parallel.WorkerFailed, match="no_such_column"):
        await rebuild_projections(engine, Projector(service.projector.number_base), workers=2)

    assert await snapshot(engine) == live
    async with engine.connect() as conn:
        left = await conn.scalar(
            text("SELECT count(*) FROM pg_namespace WHERE nspname = :s"), {"s": SCHEMA}
        )
    assert left == 0


async def test_the_fold_reads_in_the_order_of_the_transaction_ids_not_of_their_text(
    engine: AsyncEngine,
) -> None:
    """The read also selects ``transaction_id::text``: under that column's name, its ORDER BY
    would sort the text ('1000' before '999') and fold a stream's events out of order."""
    read = bulk._READ.format(events="events", where=parallel._part("events"))
    async with engine.connect() as conn:
        await conn.execute(text("SET enable_indexscan = off"))  # a plan with its sort keys
        await conn.execute(text("SET enable_bitmapscan = off"))
        pg = (await conn.get_raw_connection()).driver_connection
        assert pg is not None
        plan = [row[0] for row in await pg.fetch(f"EXPLAIN VERBOSE {read}", 2, 0)]
    keys = [line.strip() for line in plan if "Sort Key:" in line]
    assert keys == ['Sort Key: e.transaction_id, e."position"'], plan


async def test_the_workers_read_compiles_nothing_whatever_its_cost(engine: AsyncEngine) -> None:
    """The read's estimated cost (a subquery per event) is far above ``jit_above_cost`` on a
    large store, and compiling it cost each worker 0.4 s of the server's CPU: its sessions
    have JIT off. Here the threshold is 0, so that any session with JIT on would compile. A
    server built without LLVM (the embedded PostgreSQL's binaries) compiles nothing either
    way: there the session's setting is what is checked, and the control (JIT on compiles)
    runs where the server can compile."""
    read = bulk._READ.format(events="events", where=parallel._part("events"))
    dsn = asyncpg_dsn(engine.url.render_as_string(hide_password=False))
    pg = await parallel.connect(dsn)
    try:
        assert await pg.fetchval("SHOW jit") == "off"
        await pg.execute("SET jit_above_cost = 0")
        plan = "\n".join(row[0] for row in await pg.fetch(f"EXPLAIN {read}", 2, 0))
        can_compile = await pg.fetchval("SELECT pg_jit_available()")
        await pg.execute("SET jit = on")  # the server's default: the same read would compile
        compiled = "\n".join(row[0] for row in await pg.fetch(f"EXPLAIN {read}", 2, 0))
    finally:
        await pg.close()
    assert "JIT" not in plan, plan
    if can_compile:
        assert "JIT" in compiled, compiled
