"""Where a projection rebuild's wall time goes, phase by phase, on a store kept between runs.

    .venv/bin/python bench/rebuild_phases.py --make 1000000 kmop_rb_1m    # once: the store
    .venv/bin/python bench/rebuild_phases.py kmop_rb_1m --workers 2 --case fresh
    .venv/bin/python bench/rebuild_phases.py kmop_rb_1m --workers 2 --case full
    .venv/bin/python bench/rebuild_phases.py --drop kmop_rb_1m

``--make`` creates the database on the local server (``--server``), migrates it and fills it
with ``bench/history.py``'s histories (events only: the projections empty). A run times
``rebuild_projections`` as ``bench/rebuild.py`` does ("fresh": the projection tables emptied
first; "full": over the tables as the last run left them) and prints the time at the end of
each phase (the workers' fold, their write, the index builds and ANALYZE, the catch-up rounds,
the swap), every statement of the rebuild's own connections that took over 0.1 s, the client's
CPU seconds (this process and its workers, ``getrusage``) and the load average around it.
The phases are found by wrapping the rebuild's functions, so the same script times older code
(``PYTHONPATH`` set to a ``git archive`` of it): before 2026-12-02 the indexes were built by
``create_indexes`` and ANALYZEd after it.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from typing import Any

import asyncpg
from sqlalchemy import event, text

import app.events.parallel as parallel
import app.events.rebuild as rebuild
from app.events.projections import PROJECTION_TABLES, Projector
from app.runtime import db, embedded
from bench.history import load_store
from bench.rebuild import TODAY, client_cpu, load

SERVER = "postgresql://postgres@127.0.0.1:5432"
SLOW = 0.1  # s: statements shown


class Clock:
    def __init__(self) -> None:
        self.started = time.perf_counter()
        self.marks: list[tuple[str, float]] = []

    def mark(self, what: str) -> None:
        self.marks.append((what, time.perf_counter() - self.started))


def _wrap(module: Any, name: str, clock: Clock, before: str | None, after: str) -> None:
    original = getattr(module, name)

    async def timed(*args: Any, **kwargs: Any) -> Any:
        if before is not None:
            clock.mark(before)
        result = await original(*args, **kwargs)
        clock.mark(after.format(result=result, kind=args[1] if len(args) > 1 else ""))
        return result

    setattr(module, name, timed)


async def run(database: str, workers: int, case: str) -> None:
    url = f"postgresql+asyncpg://{SERVER.removeprefix('postgresql://')}/{database}"
    engine = db.make_engine(url, pool_size=2, max_overflow=0)
    slow: list[tuple[float, str]] = []

    @event.listens_for(engine.sync_engine, "before_cursor_execute")
    def _started(conn: Any, cursor: Any, statement: str, *_: Any) -> None:
        conn.info["started"] = time.perf_counter()

    @event.listens_for(engine.sync_engine, "after_cursor_execute")
    def _ended(conn: Any, cursor: Any, statement: str, *_: Any) -> None:
        seconds = time.perf_counter() - conn.info["started"]
        if seconds > SLOW:
            slow.append((seconds, " ".join(statement.split())[:100]))

    if case == "fresh":
        async with engine.begin() as conn:
            await conn.execute(text(f"TRUNCATE {', '.join(PROJECTION_TABLES)}"))
    clock = Clock()
    _wrap(parallel, "_from_all", clock, None, "workers {kind}")
    _wrap(rebuild, "_build", clock, "tables created", "built (indexed, analyzed, committed)")
    if hasattr(rebuild, "index_and_analyze"):
        _wrap(rebuild, "index_and_analyze", clock, "written", "indexed and analyzed")
    else:  # main before 2026-12-02
        _wrap(rebuild, "create_indexes", clock, "written", "indexed")
    _wrap(rebuild, "_catch_up_round", clock, None, "catch-up round ({result} events)")
    _wrap(rebuild, "_swap", clock, None, "swapped")
    before, cpu = load(), client_cpu()
    clock.started = time.perf_counter()
    report = await rebuild.rebuild_projections(engine, Projector(), workers=workers)
    seconds, cpu = time.perf_counter() - clock.started, client_cpu() - cpu
    await engine.dispose()
    previous = 0.0
    for what, at in clock.marks:
        print(f"  {at:7.2f} s (+{at - previous:6.2f})  {what}")
        previous = at
    for took, statement in slow:
        print(f"      {took:6.2f} s  {statement}")
    print(
        f"{database}, {workers} worker(s), {case}: {report.events:,} events in {seconds:.2f} s"
        f" = {report.events / seconds:,.0f} events/s, client CPU {cpu:.1f} s,"
        f" load {before} → {load()}",
        flush=True,
    )


async def make(database: str, events: int) -> None:
    await embedded.ensure_database(f"{SERVER}/postgres", database)
    await db.upgrade_async(
        f"postgresql+asyncpg://{SERVER.removeprefix('postgresql://')}/{database}"
    )
    loaded = await load_store(f"{SERVER}/{database}", events, 0, TODAY)
    print(f"{database}: {loaded.events:,} events in {loaded.seconds:.0f} s", file=sys.stderr)


async def drop(database: str) -> None:
    conn = await asyncpg.connect(f"{SERVER}/postgres")
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
    finally:
        await conn.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("database", help="a database on the server, kept between runs")
    parser.add_argument("--server", default=SERVER, help="postgresql://user@host:port")
    parser.add_argument("--make", type=int, metavar="EVENTS", help="create and fill it")
    parser.add_argument("--drop", action="store_true", help="drop it")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--case", choices=["fresh", "full"], default="full")
    args = parser.parse_args()
    SERVER = args.server
    if args.make:
        asyncio.run(make(args.database, args.make))
    elif args.drop:
        asyncio.run(drop(args.database))
    else:
        asyncio.run(run(args.database, args.workers, args.case))
