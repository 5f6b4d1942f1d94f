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
import json
import os
import platform
import random
import re
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import asyncpg
import httpx
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from app.api.queries import search
from app.domain.identifiers import RegistrationNumber, ServiceType
from app.domain.policies import ELIGIBLE_THEMES, today
from app.domain.regions import PROVINCE_LABELS, Province
from app.events import EventStore
from app.events.catalog import REGISTRY
from app.events.projections import Projector
from app.events.rebuild import rebuild_projections
from app.runtime import db, embedded
from app.runtime.pg import Pool
from app.runtime.settings import normalize_database_url
from bench.history import COLUMNS as HISTORY_COLUMNS
from bench.history import Rows as HistoryRows
from bench.search_data import (
    LEGAL_FORM_WORDS,
    LISTED,
    LOCATIONS,
    Append,
    bureaus,
    plain,
    provider_history,
)

ROOT = Path(__file__).resolve().parent.parent
KINDS = ("name", "number", "theme+region", "combined")
SEED = 20261125
IN_FORCE = (
    "r.status IN ('registered', 'registered_conditionally', 'registered_starter')"
    " AND r.valid_from <= :today AND r.valid_until >= :today"
)


def serve_app() -> FastAPI:
    """The uvicorn factory the benchmark serves: the app as ``kmop serve`` makes it, logging
    one JSON access line per request to stderr (which the benchmark reads)."""
    from app.main import create_app
    from app.runtime.logs import configure_logging

    configure_logging(json=True)
    return create_app()


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


# --- the queries -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Listed:
    """A provider listed today, as the database has it: where queries come from."""

    name: str
    themes: list[str]
    regions: list[str]
    service_types: list[str]
    numbers: list[str]


async def listed_sample(conn: AsyncConnection, day: date, size: int = 3000) -> list[Listed]:
    await conn.execute(text("SELECT setseed(0.25)"))
    rows = await conn.execute(
        text(
            "SELECT p.name, p.themes, p.regions, array_agg(r.service_type) AS services,"
            " array_agg(r.registration_number) AS numbers"
            " FROM public_providers p JOIN registrations r"
            f" ON r.enterprise_number = p.enterprise_number AND {IN_FORCE}"
            " GROUP BY p.enterprise_number ORDER BY random() LIMIT :n"
        ),
        {"today": day, "n": size},
    )
    return [Listed(r.name, list(r.themes), list(r.regions), r.services, r.numbers) for r in rows]


def typo(rng: random.Random, word: str) -> str:
    """One slip of the finger: a letter dropped, doubled, swapped with the next, or replaced."""
    i = rng.randrange(1, len(word) - 1)
    match rng.randrange(4):
        case 0:
            return word[:i] + word[i + 1 :]
        case 1:
            return word[:i] + word[i] + word[i:]
        case 2:
            return word[:i] + word[i + 1] + word[i] + word[i + 2 :]
        case _:
            return word[:i] + rng.choice("aeiourstn") + word[i + 1 :]


def name_words(name: str) -> list[str]:
    return [w for w in name.split() if w not in LEGAL_FORM_WORDS and w != "&"]


def name_query(rng: random.Random, name: str) -> str:
    """What someone who knows the provider types: all of its name, two words or one; some
    without accents, in lower case, or with a typo."""
    words = name_words(name)
    roll = rng.random()
    if roll < 0.4 or len(words) < 2:
        chosen = words
    elif roll < 0.7:
        i = rng.randrange(len(words) - 1)
        chosen = words[i : i + 2]
    else:
        chosen = [rng.choice([w for w in words if len(w) >= 4] or words)]
    if rng.random() < 0.2:
        longest = max(range(len(chosen)), key=lambda i: len(chosen[i]))
        if len(chosen[longest]) >= 5:
            chosen = [*chosen[:longest], typo(rng, chosen[longest]), *chosen[longest + 1 :]]
    query = " ".join(chosen)
    if rng.random() < 0.5:
        query = plain(query)
    return query.lower() if rng.random() < 0.5 else query


def number_query(rng: random.Random, number: str) -> str:
    parsed = RegistrationNumber.parse(number)
    letter, serial = parsed.service_type.number_letter, f"{parsed.serial:06d}"
    form = rng.choice(
        (
            f"DV.{letter}{serial}",
            f"dv{letter.lower()}{serial}",
            f"dv.{letter.lower()} {serial}",
            f" DV {letter}{serial} ",
            f"Dv.{letter}{serial}",
        )
    )
    return form


def region_query(rng: random.Random, regions: Sequence[str]) -> str:
    """A region as people write it: a province (slug or name), a municipality or a code."""
    if not regions or rng.random() < 0.4:  # anywhere in the country
        province = rng.choice(list(LOCATIONS))
        code, town = rng.choice(LOCATIONS[province])
        regions = [province, code, town]
    value = rng.choice(list(regions))
    if value in Province.__members__.values():
        return rng.choice((value, PROVINCE_LABELS[Province(value)]))
    return value.title() if not value.isdigit() else value


def build_queries(rng: random.Random, kind: str, sample: Sequence[Listed]) -> dict[str, str]:
    provider = rng.choice(sample)
    if kind == "name":
        return {"q": name_query(rng, provider.name)}
    if kind == "number":
        return {"number": number_query(rng, rng.choice(provider.numbers))}
    if kind == "theme+region":
        return {
            "theme": rng.choice(sorted(ELIGIBLE_THEMES)),
            "region": region_query(rng, provider.regions),
        }
    # combined: mostly what one listed provider matches (one word of its name), else a guess
    own = rng.random() < 0.7
    word = rng.choice([w for w in name_words(provider.name) if len(w) >= 4] or [provider.name])
    return {
        "q": plain(word).lower() if rng.random() < 0.5 else word,
        "theme": rng.choice(provider.themes if own else sorted(ELIGIBLE_THEMES)),
        "service_type": rng.choice(
            provider.service_types if own else [s.value for s in ServiceType]
        ),
        "region": region_query(rng, provider.regions if own else []),
    }


def as_query(params: dict[str, str], page_number: int = 1) -> search.Query:
    """The query the API makes of these parameters (``app.api.routers.public``)."""
    return search.Query(
        text=params.get("q", "").strip() or None,
        numbers=(RegistrationNumber.parse(params["number"]),) if "number" in params else (),
        theme=params.get("theme"),
        service_type=ServiceType(params["service_type"]) if "service_type" in params else None,
        region=params.get("region", "").strip() or None,
    )


# --- the database's own time -----------------------------------------------------------------

_EXECUTION = re.compile(r"Execution Time: ([\d.]+) ms")
_PLANNING = re.compile(r"Planning Time: ([\d.]+) ms")


@dataclass
class Explained:
    planning_ms: list[float] = field(default_factory=list)  # per request (all its statements)
    execution_ms: list[float] = field(default_factory=list)
    slowest: tuple[float, str, str] = (0.0, "", "")  # execution ms, parameters, plan


async def explain(url: str, queries: Sequence[dict[str, str]], day: date) -> Explained:
    """EXPLAIN (ANALYZE, BUFFERS) the statements ``search.search`` runs for each query."""
    captured: list[tuple[str, tuple[Any, ...]]] = []

    def capture(record: Any) -> None:
        if not record.query.startswith("EXPLAIN"):
            captured.append((record.query, tuple(record.args)))

    result = Explained()
    pool = Pool(url, max_size=1)
    try:
        async with pool.connection() as conn:
            conn.add_query_logger(capture)
            for params in queries:
                captured.clear()
                await search.search(conn, as_query(params), today=day, page=1, limit=20)
                await asyncio.sleep(0)  # asyncpg calls query loggers with call_soon
                statements = list(captured)
                planning = execution = 0.0
                plans = []
                for statement, parameters in statements:
                    rows = await conn.fetch(f"EXPLAIN (ANALYZE, BUFFERS) {statement}", *parameters)
                    plan = "\n".join(row[0] for row in rows)
                    plans.append(plan)
                    execution += float(_EXECUTION.findall(plan)[-1])
                    planning += float(_PLANNING.findall(plan)[-1])
                result.planning_ms.append(planning)
                result.execution_ms.append(execution)
                if execution > result.slowest[0]:
                    result.slowest = (execution, json.dumps(params), "\n\n".join(plans))
            conn.remove_query_logger(capture)
    finally:
        await pool.close()
    return result


# --- the server and the clients --------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    """``kmop serve`` in a subprocess, its stderr in a file."""

    def __init__(self, url: str, workers: int, log: Path) -> None:
        self.port = free_port()
        self.log = log
        env = {
            **os.environ,
            "KMOP_DATABASE_URL": url,
            "KMOP_ENVIRONMENT": "development",
            # background jobs off: the deadline job and the event log's checkpoints (which
            # hashes every event) would compete with the searches being measured
            "KMOP_DEADLINE_INTERVAL_SECONDS": "0",
            "KMOP_CHECKPOINT_INTERVAL_SECONDS": "0",
        }
        # `kmop serve` as deployed: its HTTP protocol (httptools with the bounds on heads), its
        # workers, its JSON access log on stderr
        command = [
            sys.executable, "-m", "app", "serve", "--no-migrate",
            "--host", "127.0.0.1", "--port", str(self.port), "--workers", str(workers),
        ]  # fmt: skip
        self._stderr = log.open("ab")
        self.process = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=self._stderr, stderr=self._stderr
        )
        self.base_url = f"http://127.0.0.1:{self.port}"

    async def ready(self) -> None:
        deadline = time.monotonic() + 60
        async with httpx.AsyncClient(base_url=self.base_url) as client:
            while time.monotonic() < deadline:
                if self.process.poll() is not None:
                    raise RuntimeError(f"the server exited; see {self.log}")
                try:
                    if (await client.get("/readyz")).status_code == 200:
                        return
                except httpx.TransportError:
                    pass
                await asyncio.sleep(0.2)
        raise TimeoutError(f"the server did not get ready; see {self.log}")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self._stderr.close()


def app_durations(log: Path, start: int, end: int) -> list[float]:
    """The ``duration_ms`` of the search requests the access log recorded in bytes start-end."""
    with log.open("rb") as f:
        f.seek(start)
        chunk = f.read(end - start)
    durations = []
    for line in chunk.splitlines():
        if b'"kmop.access"' in line and b"/public/providers" in line:
            durations.append(float(json.loads(line)["duration_ms"]))
    return durations


@dataclass(frozen=True)
class Run:
    latencies_ms: list[float]
    seconds: float
    hits: int  # requests answered with at least one provider
    app_ms: list[float]

    @property
    def rate(self) -> float:
        return len(self.latencies_ms) / self.seconds


def percentile(values: Sequence[float], p: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


async def drive(
    client: httpx.AsyncClient, queries: Sequence[dict[str, str]], concurrency: int
) -> tuple[list[float], float, int]:
    latencies: list[float] = []
    hits = 0
    pending: Iterator[dict[str, str]] = iter(queries)

    async def one_client() -> None:
        nonlocal hits
        for params in pending:
            started = time.perf_counter()
            try:
                response = await client.get("/public/providers", params=params)
            except httpx.TransportError:  # a keep-alive connection the server closed: retry
                response = await client.get("/public/providers", params=params)
            latencies.append((time.perf_counter() - started) * 1000)
            if response.status_code != 200:
                raise RuntimeError(f"{params}: {response.status_code} {response.text[:300]}")
            hits += response.json()["total"] > 0

    started = time.perf_counter()
    await asyncio.gather(*(one_client() for _ in range(concurrency)))
    return latencies, time.perf_counter() - started, hits


async def measure(server: Server, queries: Sequence[dict[str, str]], concurrency: int) -> Run:
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=server.base_url, limits=limits, timeout=60) as client:
        await drive(client, queries[: concurrency * 4], concurrency)  # open the connections
        start = server.log.stat().st_size
        latencies, seconds, hits = await drive(client, queries, concurrency)
        await asyncio.sleep(0.2)  # the last access lines reach the file
        durations = app_durations(server.log, start, server.log.stat().st_size)
    return Run(latencies, seconds, hits, durations)


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
