"""Public search benchmark: latency and throughput of ``GET /public/providers`` over HTTP.

    .venv/bin/python bench/search.py                      # embedded PostgreSQL
    .venv/bin/python bench/search.py --database-url postgresql://postgres@127.0.0.1:5432/postgres

For each size (1,000, 10,000, 100,000 providers, loaded in increments) it

1. loads the providers through the event store: every command of each provider's story decided
   in-process by the real deciders (``bench/search_data.py``), appended with
   ``EventStore.append`` (one append per command, many streams per transaction), then rebuilds
   the projections (``rebuild_projections``) and runs ``VACUUM ANALYZE`` as autovacuum would;
2. runs ``EXPLAIN (ANALYZE, BUFFERS)`` on the SQL of sample queries of each kind (the database's
   own time, with no queueing);
3. serves the app with ``kmop serve`` in a subprocess (``--workers`` each) and measures four
   kinds of query from 32 concurrent keep-alive clients (httpx): ``name`` (words of loaded
   names, some with a typo or without accents), ``number`` (DV.O/DV.A numbers in mixed written
   forms), ``theme+region`` and ``combined`` (text + theme + service type + region); then the
   same queries from one client, which shows the latency without queueing. The app's own access
   log gives the time each request spent in the server ("in app").

The database is a fresh one built by the migrations and dropped at the end (``--keep`` keeps
it). The client shares the machine with the server and PostgreSQL: see BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import random
import sys
import tempfile
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import asyncpg
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from app.domain.policies import today
from app.runtime import db, embedded
from app.runtime.settings import normalize_database_url

# Loaded and load are re-exported: tests/integration/test_public_search_scale.py imports them.
from bench.search_load import Loaded as Loaded
from bench.search_load import (
    LoadReport,
    already_loaded,
)
from bench.search_load import load as load
from bench.search_queries import (
    Listed,
    build_queries,
    listed_sample,
)
from bench.search_server import (
    Explained,
    Run,
    Server,
    explain,
    measure,
    percentile,
)

KINDS = ("name", "number", "theme+region", "combined")


def serve_app() -> FastAPI:
    """The uvicorn factory the benchmark serves: the app as ``kmop serve`` makes it, logging
    one JSON access line per request to stderr (which the benchmark reads)."""
    from app.main import create_app
    from app.runtime.logs import configure_logging

    configure_logging(json=True)
    return create_app()


# --- the run ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Row:
    size: int
    workers: int
    kind: str
    concurrent: Run
    serial: Run


def _queries(seed: str, kind: str, sample: Sequence[Listed], count: int) -> list[dict[str, str]]:
    rng = random.Random(f"{seed}:{kind}")
    return [build_queries(rng, kind, sample) for _ in range(count)]


async def bench_size(
    engine: AsyncEngine, url: str, args: argparse.Namespace, size: int, day: date, log: Path
) -> tuple[list[Row], dict[str, Explained]]:
    async with engine.connect() as conn:
        sample = await listed_sample(conn, day)
    started = time.perf_counter()
    explained = {
        kind: await explain(url, _queries(f"explain:{size}", kind, sample, args.explain), day)
        for kind in KINDS
    }
    print(f"  EXPLAIN ANALYZE: {time.perf_counter() - started:.1f} s", file=sys.stderr)
    rows = []
    for workers in args.workers:
        server = Server(url, workers, log)
        try:
            await server.ready()
            warm = {kind: _queries(f"warm:{size}", kind, sample, 200) for kind in KINDS}
            for kind in KINDS:  # every worker process's connections and caches
                await measure(server, warm[kind], args.concurrency)
            for kind in KINDS:
                queries = _queries(f"measure:{size}", kind, sample, args.requests)
                concurrent = await measure(server, queries, args.concurrency)
                serial = await measure(server, queries[: args.serial_requests], 1)
                rows.append(Row(size, workers, kind, concurrent, serial))
                print(f"  {size:,} providers, {workers} worker(s), {kind}: done", file=sys.stderr)
        finally:
            server.stop()
    return rows, explained


def markdown(rows: Sequence[Row], concurrency: int) -> str:
    lines = [
        f"| providers | workers | query | req/s (c={concurrency}) | p50 ms | p99 ms "
        "| in app p50 / p99 ms | c=1 p50 / p99 ms | with results |",
        "|---:|---:|---|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        c, s = r.concurrent, r.serial
        lines.append(
            f"| {r.size:,} | {r.workers} | {r.kind} | {c.rate:,.0f} "
            f"| {percentile(c.latencies_ms, 50):.1f} | {percentile(c.latencies_ms, 99):.1f} "
            f"| {percentile(c.app_ms, 50):.1f} / {percentile(c.app_ms, 99):.1f} "
            f"| {percentile(s.latencies_ms, 50):.1f} / {percentile(s.latencies_ms, 99):.1f} "
            f"| {100 * c.hits / len(c.latencies_ms):.0f}% |"
        )
    return "\n".join(lines)


def targets_markdown(rows: Sequence[Row]) -> str:
    """Issue 12's search targets, from one client over HTTP (the serial runs): p99 at the
    largest size <= 15 ms for every kind, and <= 1.5 x the p99 at the smallest size."""
    sizes = sorted({r.size for r in rows})
    if not sizes:
        return ""
    small, large = sizes[0], sizes[-1]
    lines = [
        f"One client over HTTP, p99 ms (targets: <= 15 ms at {large:,}; at {large:,} <= 1.5 x"
        f" at {small:,}):",
        "",
        f"| workers | query | p99 at {small:,} | p99 at {large:,} | ratio | <= 15 ms | <= 1.5 x |",
        "|---:|---|---:|---:|---:|---|---|",
    ]
    for workers in sorted({r.workers for r in rows}):
        for kind in KINDS:
            at = {
                r.size: percentile(r.serial.latencies_ms, 99)
                for r in rows
                if r.workers == workers and r.kind == kind
            }
            if small not in at or large not in at:
                continue
            ratio = at[large] / at[small]
            lines.append(
                f"| {workers} | {kind} | {at[small]:.1f} | {at[large]:.1f} | {ratio:.2f} "
                f"| {'met' if at[large] <= 15 else 'not met'} "
                f"| {'met' if ratio <= 1.5 else 'not met'} |"
            )
    return "\n".join(lines)


def explain_markdown(explained: dict[int, dict[str, Explained]]) -> str:
    lines = [
        "| providers | query | execution p50 / p99 / max ms | planning p50 ms |",
        "|---:|---|---:|---:|",
    ]
    for size, kinds in explained.items():
        for kind, e in kinds.items():
            lines.append(
                f"| {size:,} | {kind} | {percentile(e.execution_ms, 50):.2f} / "
                f"{percentile(e.execution_ms, 99):.2f} / {max(e.execution_ms):.2f} "
                f"| {percentile(e.planning_ms, 50):.2f} |"
            )
    return "\n".join(lines)


def plans_text(explained: dict[int, dict[str, Explained]]) -> str:
    """The slowest query of each kind at each size, with its plans."""
    parts = []
    for size, kinds in explained.items():
        for kind, e in kinds.items():
            ms, params, plan = e.slowest
            parts.append(f"## {size:,} providers, {kind}: {params} ({ms:.2f} ms)\n\n{plan}\n")
    return "\n".join(parts)


def load_markdown(loads: Sequence[LoadReport]) -> str:
    lines = [
        "| providers | events appended | load s | appended events/s | rebuild events "
        "| rebuild s | rebuild events/s |",
        "|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in loads:
        lines.append(
            f"| {r.providers:,} | {r.events:,} | {r.load_seconds:.1f} "
            f"| {r.events / r.load_seconds:,.0f} | {r.rebuild_events:,} "
            f"| {r.rebuild_seconds:.1f} | {r.rebuild_events / r.rebuild_seconds:,.0f} |"
        )
    return "\n".join(lines)


async def main(admin_url: str, args: argparse.Namespace) -> str:
    """Run the benchmark; print the tables; return the slowest plans."""
    name = args.reuse or f"kmop_bench_search_{uuid.uuid4().hex[:8]}"
    admin_dsn = make_url(admin_url).set(drivername="postgresql").render_as_string(False)
    url = make_url(admin_url).set(database=name).render_as_string(False)
    await embedded.ensure_database(admin_dsn, name)
    log = Path(tempfile.mkdtemp(prefix="kmop-bench-search-")) / "server.log"
    day = today(datetime.now(UTC))
    try:
        await db.upgrade_async(url)
        engine = db.make_engine(url, pool_size=2, max_overflow=0)
        async with engine.connect() as conn:
            server_version = await conn.scalar(text("SHOW server_version"))
        print(
            f"PostgreSQL {server_version}, Python {platform.python_version()}, "
            f"{os.cpu_count()} CPUs, today {day}, load average {os.getloadavg()[0]:.2f}; "
            f"server log {log}",
            file=sys.stderr,
        )
        loaded = await already_loaded(engine, day)
        loads: list[LoadReport] = []
        rows: list[Row] = []
        explained: dict[int, dict[str, Explained]] = {}
        for size in args.sizes:
            if size > loaded.providers:
                print(f"loading {size:,} providers", file=sys.stderr)
                copy_url = url if args.copy else None
                loads.append(await load(engine, loaded, size, day, copy_url=copy_url))
                print(load_markdown(loads[-1:]).splitlines()[-1], file=sys.stderr)
            elif size < loaded.providers:
                raise SystemExit(f"{name} holds {loaded.providers:,} providers, not {size:,}")
            size_rows, explained[size] = await bench_size(engine, url, args, size, day, log)
            rows += size_rows
            print(markdown(size_rows, args.concurrency), file=sys.stderr)
        await engine.dispose()
        print(f"\nPostgreSQL {server_version}; load average now {os.getloadavg()[0]:.2f}\n")
        print(load_markdown(loads), end="\n\n")
        print(explain_markdown(explained), end="\n\n")
        print(markdown(rows, args.concurrency), end="\n\n")
        print(targets_markdown(rows))
        return plans_text(explained)
    finally:
        if args.keep or args.reuse:
            print(f"kept database {name}", file=sys.stderr)
        else:
            conn = await asyncpg.connect(admin_dsn)
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            await conn.close()


def _ints(text: str) -> list[int]:
    return [int(part.replace("_", "")) for part in text.split(",") if part.strip()]


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", help="a server to use; default: embedded PostgreSQL")
    parser.add_argument("--sizes", type=_ints, default=[1000, 10000, 100000])
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--requests", type=int, default=2000, help="per query kind")
    parser.add_argument(
        "--serial-requests", type=int, default=300, help="per query kind, from one client"
    )
    parser.add_argument("--workers", type=_ints, default=[1, 2], help="uvicorn workers to try")
    parser.add_argument(
        "--explain", type=int, default=100, help="queries per kind to EXPLAIN ANALYZE"
    )
    parser.add_argument("--plans", help="write the slowest plan of each kind to this file")
    parser.add_argument("--keep", action="store_true", help="keep the database")
    parser.add_argument(
        "--copy",
        action="store_true",
        help="load by COPY (bench/history.py's rows) rather than one append per command",
    )
    parser.add_argument(
        "--reuse", metavar="DATABASE", help="measure (and load on) a database kept by --keep"
    )
    return parser.parse_args(argv)


def run(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    if args.database_url:
        plans = asyncio.run(main(normalize_database_url(args.database_url), args))
    else:
        server = embedded.start(
            Path(tempfile.mkdtemp(prefix="kmop-bench-")) / "pg", delete_on_stop=True
        )
        try:
            plans = asyncio.run(main(server.sqlalchemy_url("postgres"), args))
        finally:
            server.stop()
    if args.plans:
        Path(args.plans).write_text(plans)


if __name__ == "__main__":
    run()
