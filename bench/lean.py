"""A lean data path: this service's commands beside the contenders, in one run, loaded by wrk.

    .venv/bin/python bench/lean.py                          # the local PostgreSQL, 10 s a load
    .venv/bin/python bench/lean.py --seconds 30 --workers 1,2 --store-events 1000000

In one run, on the same PostgreSQL server (``--database-url``, default the local one), each in
a fresh database made for the run and dropped after it:

* **raw asyncpg**: single-row ``INSERT`` transactions (autocommit) of ~1 KiB JSON into a bare
  table from 8 connections, no HTTP (``bench/commands.py``'s ``raw_inserts``);
* **thin endpoint**: ``bench/thin.py``, the thinnest FastAPI + asyncpg append endpoint (one
  pool, one INSERT of the JSON body), uvicorn, one process;
* **eventsourcing**: the library (``bench/es_contender.py``), an aggregate created and saved per
  request, behind a minimal FastAPI endpoint (one process, 8 threads, 8 connections), and the
  same saves from 8 threads without HTTP;
* **this service**: ``kmop serve --no-migrate`` (``--workers N`` for each N of ``--workers`` when
  ``kmop serve`` has that option) on a store of ``--store-events`` events filled by
  ``bench/history.py``: ``POST /applications`` (a fresh enterprise per request, its provider
  token minted beforehand), the same with a unique ``Idempotency-Key`` per request,
  ``POST /audits/{id}/reports`` (on audits planned beforehand in the store) and ``POST
  /projects`` (the agency records a new subsidy project per request).

The HTTP contenders are loaded by ``wrk -t2 -c32`` (``bench/loadgen.py``, ``bench/lua/post.lua``):
a distinct valid body per request, every answer must be 201 or the run fails. A warm-up load
(``--warmup`` s) precedes each measured one (``--seconds``). For each: requests/s, wrk's p50 /
p99, the server's CPU per request (user + system time of its processes, ``/proc``), the
PostgreSQL backends' CPU per request (those connected to its database), and the round trips to
PostgreSQL per command, counted by ``bench/pgproxy.py`` over ``--round-trips`` sequential
commands sent to a second instance whose database connection goes through the proxy (the
connections opened by a warm-up first, so connection start-up is not counted).

Client, servers and PostgreSQL share this machine: the load average is printed before and after
each row; read every figure beside it. The store's planned audits and the provider tokens are
prepared for at most ``--max-rate`` requests/s of this service: a faster run uses them up and
fails (raise it).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import sys
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

import asyncpg
from sqlalchemy.engine import make_url

from app.domain.policies import today
from app.runtime import db, embedded
from app.runtime.settings import normalize_database_url
from bench import commands
from bench.history import load_store, project
from bench.lean_requests import (
    Projects,
    Reports,
    Tokens,
    a_training_number,
    application_template,
)
from bench.lean_servers import (
    kmop_has_workers,
    kmop_server,
    post_sequentially,
    round_trips,
    uvicorn,
)
from bench.loadgen import CpuMeter, HttpServer, WrkRun, run_wrk, wrk_version
from bench.pgproxy import RoundTripProxy, Window

DEFAULT_SERVER = "postgresql://postgres@127.0.0.1:5432/postgres"
RAW_WRITERS = 8
TARGETS = """Targets (issue 12): POST /applications at 32 connections >= 0.35 x the thin endpoint
and >= 2 x eventsourcing (HTTP) in req/s from one process; <= 4 round trips per command, 5 with
an Idempotency-Key; server CPU <= 1.0 ms per command."""


def load() -> str:
    return "/".join(f"{x:.2f}" for x in os.getloadavg())


@dataclass
class Row:
    contender: str
    workers: str
    rate: float
    p50_ms: float | None = None
    p99_ms: float | None = None
    app_cpu_ms: float | None = None
    db_cpu_ms: float | None = None
    round_trips: float | None = None  # waits per command (turns)
    waiting_messages: float | None = None  # Sync + Query + Flush per command
    wrk_cpu_ms: float | None = None
    load_before: str = ""
    load_after: str = ""
    counted_as: str = ""  # the key of its round trips in ``count_round_trips``

    @classmethod
    def of(cls, spec: Load, workers: int, run: WrkRun, before: str) -> Row:
        return cls(
            spec.contender, str(workers), run.rate, run.p50_ms, run.p99_ms, run.app_cpu_ms,
            run.db_cpu_ms, load_before=before, load_after=load(), counted_as=spec.counted_as,
            wrk_cpu_ms=run.wrk_cpu_ms,
        )  # fmt: skip


@dataclass(frozen=True)
class Load:
    """One wrk load: POSTs to ``path`` (or to the paths of ``take``'s lines)."""

    contender: str
    path: str
    template: str
    take: Callable[[int], list[str]] | None = None  # n "path<TAB>token" lines, each used once
    idempotency: bool = False
    counted_as: str = ""


@dataclass
class Databases:
    admin_dsn: str
    prefix: str = field(default_factory=lambda: f"kmop_bench_lean_{uuid.uuid4().hex[:8]}")

    def dsn(self, suffix: str) -> str:
        return make_url(self.admin_dsn).set(database=self.prefix + suffix).render_as_string(False)

    def name(self, suffix: str) -> str:
        return self.prefix + suffix

    def via(self, suffix: str, port: int) -> str:
        """The database's DSN through the round-trip proxy on ``port``."""
        url = make_url(self.admin_dsn).set(database=self.prefix + suffix)
        return url.set(host="127.0.0.1", port=port).render_as_string(False)


# --- the run -----------------------------------------------------------------------------------


async def run_http(
    rows: list[Row], server: HttpServer, workers: int, ready: str, database: str,
    args: argparse.Namespace, loads: Sequence[Load],
) -> None:  # fmt: skip
    """A warm-up and a measured wrk load of each of ``loads`` against ``server``, a row each."""
    try:
        await server.ready(ready)
        meter = CpuMeter(server.process.pid, args.admin_dsn, database)
        for each in loads:
            url = server.base_url + each.path
            take = each.take
            lines = take(int(args.max_rate * args.warmup) + 100) if take else ()
            run = await run_wrk(
                url, each.template, args.warmup, lines=lines, idempotency=each.idempotency
            )
            run.check(f"{each.contender} (warm-up)")
            lines = take(int(args.max_rate * args.seconds) + 100) if take else ()
            before = load()
            run = await run_wrk(
                url, each.template, args.seconds, lines=lines, idempotency=each.idempotency,
                meter=meter,
            )  # fmt: skip
            run.check(each.contender)
            rows.append(Row.of(each, workers, run, before))
            print(f"  {each.contender}, {workers} process(es): {run.rate:,.0f} req/s"
                  f" (load {load()})", file=sys.stderr)  # fmt: skip
    finally:
        await server.aclose()


async def main(args: argparse.Namespace) -> None:
    admin_url = make_url(normalize_database_url(args.database_url))
    admin_dsn = admin_url.set(drivername="postgresql").render_as_string(False)
    dbs = Databases(admin_dsn)
    args.admin_dsn = admin_dsn
    conn = await asyncpg.connect(admin_dsn)
    server_version = await conn.fetchval("SHOW server_version")
    durable = [await conn.fetchval(f"SHOW {s}") for s in ("fsync", "synchronous_commit")]
    await conn.close()
    started_load = load()
    print(
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {os.cpu_count()} CPUs, PostgreSQL"
        f" {server_version} (fsync={durable[0]}, synchronous_commit={durable[1]}), Python"
        f" {platform.python_version()}, {wrk_version()}; load average (1/5/15 min) {started_load}"
    )
    workers = [w for w in args.workers if w == 1 or kmop_has_workers()]
    if workers != args.workers:
        print("kmop serve has no --workers yet: measuring 1 worker only", file=sys.stderr)
    for suffix in ("", "_thin", "_es"):
        await embedded.ensure_database(admin_dsn, dbs.name(suffix))
    rows: list[Row] = []
    try:
        # the service's store: events, the audits whose reports are pushed, their projections
        day = today(datetime.now(UTC))
        kmop_url = normalize_database_url(dbs.dsn(""))
        await db.upgrade_async(kmop_url)
        per_run = int(args.max_rate * (args.seconds + args.warmup)) + 200
        audits = per_run * len(workers) + 20 + args.round_trips
        print(f"loading the store: {args.store_events:,} events, {audits:,} planned audits",
              file=sys.stderr)  # fmt: skip
        loaded = await load_store(dbs.dsn(""), args.store_events, audits, day)
        engine = db.make_engine(kmop_url, pool_size=1, max_overflow=0)
        started = time.perf_counter()
        await project(engine, loaded.own)
        await engine.dispose()
        print(f"  {loaded.events:,} events in {loaded.seconds:.0f} s, projections of the audits"
              f" in {time.perf_counter() - started:.0f} s", file=sys.stderr)  # fmt: skip
        print(f"store: {loaded.events:,} events ({audits:,} audits planned for the reports)")
        tokens, reports = Tokens(), Reports(loaded.audits)
        projects = Projects(await a_training_number(dbs.dsn("")), day)
        print(f"projects filed with {projects.template}", file=sys.stderr)
        application = application_template()

        # raw asyncpg inserts, no HTTP (the benchmark's own process is the client)
        before = load()
        meter = CpuMeter(os.getpid(), admin_dsn, dbs.name("_thin"))
        rate = await commands.raw_inserts(dbs.dsn("_thin"), RAW_WRITERS, args.seconds, meter)
        requests = rate * args.seconds
        rows.append(Row(f"raw asyncpg INSERT, {RAW_WRITERS} connections, no HTTP (client CPU)",
                        "-", rate, None, None, 1000 * meter.app_s / requests,
                        1000 * meter.db_s / requests, load_before=before, load_after=load(),
                        counted_as="raw"))  # fmt: skip
        print(f"  raw inserts: {rate:,.0f}/s (load {load()})", file=sys.stderr)

        # the thin endpoint and the eventsourcing library behind HTTP, one process each
        thin = HttpServer("thin-1", uvicorn("bench.thin:app"), {"THIN_DSN": dbs.dsn("_thin")})
        await run_http(rows, thin, 1, "/events", dbs.name("_thin"), args, [
            Load("thin FastAPI + asyncpg endpoint", "/events", application, counted_as="thin"),
        ])  # fmt: skip
        es = HttpServer("es-1", uvicorn("bench.es_contender:app"), {"ES_DSN": dbs.dsn("_es")})
        await run_http(rows, es, 1, "/providers", dbs.name("_es"), args, [
            Load("eventsourcing, HTTP, 8 threads", "/providers", application, counted_as="es"),
        ])  # fmt: skip
        if args.es_threads:
            from bench.es_contender import saves_in_threads

            before = load()
            meter = CpuMeter(os.getpid(), admin_dsn, dbs.name("_es"))
            loop = asyncio.get_running_loop()
            around = (
                lambda: asyncio.run_coroutine_threadsafe(meter.start(), loop).result(),
                meter.stop,
            )
            body = json.loads(application.replace("{n}", "threads"))
            rate = await asyncio.to_thread(
                saves_in_threads, dbs.dsn("_es"), body, args.seconds, around=around
            )
            requests = rate * args.seconds
            rows.append(Row("eventsourcing, 8 threads, no HTTP (client CPU)", "-", rate, None,
                            None, 1000 * meter.app_s / requests, 1000 * meter.db_s / requests,
                            load_before=before, load_after=load(), counted_as="es"))  # fmt: skip
            print(f"  eventsourcing in threads: {rate:,.0f}/s (load {load()})", file=sys.stderr)

        # this service
        for n in workers:
            await run_http(rows, kmop_server(kmop_url, n), n, "/readyz", dbs.name(""), args, [
                Load("POST /applications", "", application, tokens.take, False, "apply"),
                Load("POST /applications + Idempotency-Key", "", application, tokens.take, True,
                     "apply+key"),
                Load("POST /audits/{id}/reports", "", reports.template, reports.take, False,
                     "report"),
                Load("POST /projects", "", projects.template, projects.take, False, "project"),
            ])  # fmt: skip

        # round trips per command, through the proxy
        if args.round_trips:
            await count_round_trips(rows, dbs, args, tokens, reports, projects, application)
    finally:
        conn = await asyncpg.connect(admin_dsn)
        for suffix in ("", "_thin", "_es"):
            await conn.execute(f'DROP DATABASE IF EXISTS "{dbs.name(suffix)}" WITH (FORCE)')
        await conn.close()
    print_table(rows, started_load)


async def count_round_trips(
    rows: list[Row], dbs: Databases, args: argparse.Namespace, tokens: Tokens, reports: Reports,
    projects: Projects, application: str,
) -> None:  # fmt: skip
    url = make_url(dbs.admin_dsn)
    proxy = RoundTripProxy(url.host or "127.0.0.1", url.port or 5432)
    port = await proxy.start()
    count = args.round_trips
    found: dict[str, Window] = {}
    try:
        conn = await asyncpg.connect(dbs.via("_thin", port), ssl=False)
        insert = "INSERT INTO bench_raw (stream_id, data) VALUES ($1, $2)"

        async def raw(n: int) -> None:
            for i in range(n):
                await conn.execute(insert, f"rt-{i}", application.replace("{n}", str(i)))

        found["raw"] = await round_trips(proxy, raw, count)
        await conn.close()

        servers = [
            ("thin", "bench.thin:app", {"THIN_DSN": dbs.via("_thin", port)}, "/events"),
            ("es", "bench.es_contender:app", {"ES_DSN": dbs.via("_es", port)}, "/providers"),
        ]
        for name, target, env, path in servers:
            server = HttpServer(f"{name}-rt", uvicorn(target), env)
            try:
                await server.ready(path)

                async def post(n: int, server: HttpServer = server, path: str = path) -> None:
                    await post_sequentially(server.base_url, path, application, (), n)

                found[name] = await round_trips(proxy, post, count)
            finally:
                await server.aclose()
        server = kmop_server(normalize_database_url(dbs.via("", port)), 1)
        try:
            await server.ready("/readyz")
            for name, template, take, idempotency in (
                ("apply", application, tokens.take, False),
                ("apply+key", application, tokens.take, True),
                ("report", reports.template, reports.take, False),
                ("project", projects.template, projects.take, False),
            ):

                async def send(n: int, t: str = template, take: Callable[[int], list[str]] = take,
                               idem: bool = idempotency) -> None:  # fmt: skip
                    await post_sequentially(server.base_url, "", t, take(n), n, idem)

                found[name] = await round_trips(proxy, send, count)
        finally:
            await server.aclose()
    finally:
        await proxy.close()
    for row in rows:
        if (window := found.get(row.counted_as)) is not None:
            row.round_trips = window.turns / count
            row.waiting_messages = window.round_trips / count
    print("\nMessages to PostgreSQL per command (bench/pgproxy.py):", file=sys.stderr)
    for key, window in found.items():
        per = ", ".join(f"{k} {n / count:g}" for k, n in sorted(window.messages.items()))
        print(f"  {key}: {per}; waits {window.turns / count:g}; connections opened while"
              f" counting {window.new_connections}", file=sys.stderr)  # fmt: skip
        if args.statements:
            for sql, n in window.statements.most_common():
                print(f"    {n / count:g} x {' '.join(sql.split())[:150]}", file=sys.stderr)


def _f(value: float | None, digits: int = 1) -> str:
    return "—" if value is None else f"{value:,.{digits}f}"


def print_table(rows: Sequence[Row], started_load: str) -> None:
    thin = next((r for r in rows if r.contender.startswith("thin")), None)
    es = next((r for r in rows if r.contender.startswith("eventsourcing, HTTP")), None)
    print(
        "\n| contender | workers | req/s | p50 ms | p99 ms | server CPU ms/req "
        "| PostgreSQL CPU ms/req | round trips/command | Sync+Query+Flush/command | x thin "
        "| wrk CPU ms/req | load before → after |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|")
    for r in rows:
        ratio = f"{r.rate / thin.rate:.2f}" if thin else "—"
        print(
            f"| {r.contender} | {r.workers} | {r.rate:,.0f} | {_f(r.p50_ms)} | {_f(r.p99_ms)} "
            f"| {_f(r.app_cpu_ms, 2)} | {_f(r.db_cpu_ms, 2)} | {_f(r.round_trips, 2)} "
            f"| {_f(r.waiting_messages, 2)} "
            f"| {ratio} | {_f(r.wrk_cpu_ms, 3)} | {r.load_before} → {r.load_after} |"
        )
    print(f"\nload average (1/5/15 min) at the start {started_load}, at the end {load()}")
    print(TARGETS)
    for r in rows:
        if not r.contender.startswith("POST /applications"):
            continue
        checks = []
        if thin:
            checks.append(f"{r.rate / thin.rate:.2f} x thin (>= 0.35)")
        if es:
            checks.append(f"{r.rate / es.rate:.2f} x eventsourcing (>= 2)")
        limit = 5 if "Idempotency" in r.contender else 4
        if r.round_trips is not None:
            checks.append(f"{r.round_trips:.2f} round trips (<= {limit})")
        checks.append(f"{_f(r.app_cpu_ms, 2)} ms CPU (<= 1.0)")
        print(f"- {r.contender}, {r.workers} worker(s): " + "; ".join(checks))


def _ints(text: str) -> list[int]:
    return [int(part) for part in text.split(",") if part.strip()]


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", default=DEFAULT_SERVER, help="a server to use")
    parser.add_argument("--store-events", type=int, default=10_000, help="events in the store")
    parser.add_argument("--seconds", type=float, default=10, help="each measured wrk load")
    parser.add_argument("--warmup", type=float, default=2, help="the wrk load before each")
    parser.add_argument("--workers", type=_ints, default=[1, 2], help="kmop serve --workers")
    parser.add_argument(
        "--max-rate",
        type=float,
        default=2000,
        help="the most this service's commands/s the prepared data allows",
    )
    parser.add_argument(
        "--round-trips",
        type=int,
        default=50,
        help="sequential commands to count round trips over (0: skip)",
    )
    parser.add_argument("--statements", action="store_true",
                        help="list the SQL each counted command ran (to stderr)")  # fmt: skip
    parser.add_argument("--no-es-threads", dest="es_threads", action="store_false",
                        help="skip the eventsourcing saves without HTTP")  # fmt: skip
    asyncio.run(main(parser.parse_args()))
