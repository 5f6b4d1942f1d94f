"""Commands over HTTP under load: requests per second and latency against a running server.

    .venv/bin/python bench/commands.py                          # local server, fresh database
    .venv/bin/python bench/commands.py --store-events 10000,1000000
    .venv/bin/python bench/commands.py --database-url postgresql://user@host:5432/postgres

For each store size: a fresh database on the server at ``--database-url`` (default the local
one; created, migrated, dropped afterwards), filled by ``bench/history.py`` with that many events
of realistic histories plus the audits whose reports the benchmark pushes (planned, visit three
days ago); the projections of the bureaus and those audits are written, the rest of the store is
events only. Then a real server (``python -m app serve --no-migrate``, uvicorn, default pool,
deadline job off) is started on a free port and driven over loopback by an async httpx client
with keep-alive connections:

* sequentially (one client): ``POST /applications`` (a new enterprise each, its own provider
  token) and ``POST /audits/{id}/reports`` (a whole passed report by the audit's bureau);
* the same two commands at ``--clients`` (32) concurrent clients;
* in the same database, the raw rate of single-event ``INSERT`` transactions (autocommit, one
  row of ~1 KiB JSON into a bare table) from 8 asyncpg connections: the ceiling the service's
  commands can be compared with.

Every answer must be 201; the figures are requests per second and p50 / p99 latency in ms.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import signal
import socket
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import IO, Any

import asyncpg
import httpx
from sqlalchemy.engine import make_url

from app.api.http.auth import Role, mint_token
from app.domain.identifiers import EnterpriseNumber
from app.domain.norm import CURRENT_NORM, AuditType, Exemptions, audited_requirements
from app.runtime import db, embedded
from app.runtime.settings import DEVELOPMENT_JWT_SECRET, normalize_database_url
from bench.history import PlannedAudit, load_store, project
from bench.loadgen import CpuMeter

DEFAULT_SERVER = "postgresql://postgres@127.0.0.1:5432/postgres"
TODAY = date(2026, 11, 25)
ROOT = Path(__file__).resolve().parent.parent
RAW_WRITERS = 8
RAW_SECONDS = 10.0


def new_enterprise(n: int) -> EnterpriseNumber:
    """Enterprises that apply during the benchmark (0700.000.0xx, ...): none in the store."""
    return EnterpriseNumber.with_check_digits(7_000_000 + n)


# --- requests ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Request:
    path: str
    body: dict[str, Any]
    headers: dict[str, str]


def application(n: int) -> Request:
    kbo = str(new_enterprise(n))
    token = mint_token(
        DEVELOPMENT_JWT_SECRET,
        subject=f"provider-app-{n}",
        role=Role.PROVIDER,
        enterprise_number=kbo,
        ttl_seconds=6 * 3600,
    )
    body = {
        "service_type": random.Random(n).choice(("opleiding", "advies")),
        "provider_name": f"Vormingscentrum Belasting {n}",
        "bank_account": "BE68 5390 0754 7034",
        "activities": "Opleidingen digitale vaardigheden voor kmo's",
        "themes": ["digitalisering", "innovatie"],
    }
    return Request("/applications", body, {"Authorization": f"Bearer {token}"})


def bureau_token(bureau_id: str) -> str:
    """The token of the bureau's software (6 hours), for its report requests."""
    return mint_token(
        DEVELOPMENT_JWT_SECRET,
        subject=f"{bureau_id}-software",
        role=Role.BUREAU,
        bureau_id=bureau_id,
        ttl_seconds=6 * 3600,
    )


def report(audit: PlannedAudit, tokens: dict[str, dict[str, str]]) -> Request:
    audited = audited_requirements(
        AuditType.BASIC, audit.unit.service_type, Exemptions(), audit.visit
    )
    body = {
        "audit_type": "basic",
        "visit_date": audit.visit.isoformat(),
        "result": "passed",
        "scores": [
            {"indicator": i.code, "conformity": "T", "demonstrability": "V"}
            for i in CURRENT_NORM.indicators
            if i.requirement in audited
        ],
        "verdicts": [{"requirement": int(r), "met": True} for r in sorted(audited)],
    }
    return Request(f"/audits/{audit.audit_id}/reports", body, tokens[audit.bureau_id])


@dataclass(frozen=True, slots=True)
class Figures:
    name: str
    clients: int
    requests: int
    seconds: float
    latencies_ms: list[float]

    @property
    def rate(self) -> float:
        return self.requests / self.seconds

    def percentile(self, p: int) -> float:
        return statistics.quantiles(self.latencies_ms, n=100, method="inclusive")[p - 1]

    def row(self, store: int) -> str:
        return (
            f"| {store:,} | {self.name} | {self.clients} | {self.requests:,} | {self.rate:,.0f} "
            f"| {self.percentile(50):.1f} | {self.percentile(99):.1f} |"
        )


async def drive(
    client: httpx.AsyncClient, name: str, requests: Sequence[Request], clients: int
) -> Figures:
    """Send every request, ``clients`` at a time; each must be answered 201."""
    queue = iter(requests)
    latencies: list[float] = []
    failures: list[str] = []

    async def worker() -> None:
        for request in queue:
            started = time.perf_counter()
            response = await client.post(request.path, json=request.body, headers=request.headers)
            latencies.append((time.perf_counter() - started) * 1000)
            if response.status_code != 201:
                failures.append(f"{response.status_code} {response.text[:200]}")

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(clients)))
    seconds = time.perf_counter() - started
    if failures:
        raise SystemExit(f"{name}: {len(failures)} failed, e.g. {failures[0]}")
    return Figures(name, clients, len(requests), seconds, latencies)


# --- raw inserts -------------------------------------------------------------------------------


async def raw_inserts(
    dsn: str, writers: int, seconds: float, meter: CpuMeter | None = None
) -> float:
    """Single-row INSERT transactions per second (autocommit) from ``writers`` connections;
    ``meter`` (if any) reads the CPU time of the timed part (the connections are open)."""
    conns = [await asyncpg.connect(dsn) for _ in range(writers)]
    await conns[0].execute(
        "CREATE TABLE bench_raw (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,"
        " stream_id text NOT NULL, data jsonb NOT NULL, recorded_at timestamptz DEFAULT now())"
    )
    payload = json.dumps({"scores": [{"indicator": f"{i}.1", "score": "T"} for i in range(30)]})
    done = [0] * writers
    deadline = time.perf_counter() + seconds

    async def writer(w: int) -> None:
        insert = "INSERT INTO bench_raw (stream_id, data) VALUES ($1, $2)"
        while time.perf_counter() < deadline:
            await conns[w].execute(insert, f"raw-{w}-{done[w]}", payload)
            done[w] += 1

    if meter is not None:
        await meter.start()
    started = time.perf_counter()
    await asyncio.gather(*(writer(w) for w in range(writers)))
    elapsed = time.perf_counter() - started
    if meter is not None:
        meter.stop()
    for conn in conns:
        await conn.close()
    return sum(done) / elapsed


# --- the server --------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def serve(url: str, log: IO[bytes]) -> tuple[asyncio.subprocess.Process, str]:
    """``kmop serve`` on a free port, ready, logging to ``log``; returns the process and its
    base URL."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("KMOP_")}
    env |= {
        "KMOP_DATABASE_URL": url,
        "KMOP_PORT": str(port),
        "KMOP_DEADLINE_INTERVAL_SECONDS": "0",
        "KMOP_CHECKPOINT_INTERVAL_SECONDS": "0",
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "app",
        "serve",
        "--no-migrate",
        env=env,
        cwd=ROOT,
        stdout=log,  # the access log: one JSON line per request
        stderr=log,
    )
    base = f"http://127.0.0.1:{port}"
    async with httpx.AsyncClient() as client, asyncio.timeout(60):
        while True:
            if process.returncode is not None:
                raise SystemExit("the server exited before it was ready")
            try:
                if (await client.get(f"{base}/readyz")).status_code == 200:
                    return process, base
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.2)  # polling with a deadline


async def stop(process: asyncio.subprocess.Process) -> None:
    if process.returncode is None:
        process.send_signal(signal.SIGTERM)
        await asyncio.wait_for(process.wait(), timeout=60)


# --- one store size ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Run:
    store_events: int
    figures: list[Figures]
    raw_inserts_per_second: float


async def measure(admin_url: str, store_events: int, args: argparse.Namespace) -> Run:
    name = f"kmop_bench_commands_{uuid.uuid4().hex[:8]}"
    admin_dsn = make_url(admin_url).set(drivername="postgresql").render_as_string(False)
    url = make_url(admin_url).set(database=name).render_as_string(False)
    dsn = make_url(url).set(drivername="postgresql").render_as_string(False)
    await embedded.ensure_database(admin_dsn, name)
    try:
        await db.upgrade_async(url)
        audits = 2 * args.warmup + args.sequential + args.requests
        loaded = await load_store(dsn, store_events, audits, TODAY)
        engine = db.make_engine(url, pool_size=1, max_overflow=0)
        await project(engine, loaded.own)
        await engine.dispose()
        print(f"  store: {loaded.events:,} events in {loaded.seconds:.0f} s", file=sys.stderr)
        with tempfile.TemporaryFile() as log:
            process, base = await serve(url, log)
            try:
                figures = await run_mix(base, args, loaded.audits)
            except BaseException:
                log.seek(0)
                print(log.read()[-3000:].decode(errors="replace"), file=sys.stderr)
                raise
            finally:
                await stop(process)
        raw = await raw_inserts(dsn, RAW_WRITERS, RAW_SECONDS)
        return Run(loaded.events, figures, raw)
    finally:
        conn = await asyncpg.connect(admin_dsn)
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await conn.close()


async def run_mix(base: str, args: argparse.Namespace, audits: list[PlannedAudit]) -> list[Figures]:
    """Warm up, then each command sequentially and at ``args.clients`` clients."""
    bureau_tokens = {
        bureau_id: {"Authorization": f"Bearer {bureau_token(bureau_id)}"}
        for bureau_id in {audit.bureau_id for audit in audits}
    }
    reports = iter([report(audit, bureau_tokens) for audit in audits])
    applications = iter(
        [application(n) for n in range(2 * args.warmup + args.sequential + args.requests)]
    )

    def take(requests: Iterator[Request], count: int) -> list[Request]:
        return [next(requests) for _ in range(count)]

    apply, push = "POST /applications", "POST /audits/{id}/reports"
    phases = [
        ("warm-up", take(applications, args.warmup), 4),
        ("warm-up", take(reports, args.warmup), 4),
        (apply, take(applications, args.sequential), 1),
        (push, take(reports, args.sequential), 1),
        (apply, take(applications, args.requests), args.clients),
        (push, take(reports, args.requests), args.clients),
    ]
    measured = []
    for name, requests, clients in phases:
        # A client per phase: a keep-alive connection left idle longer than the server's
        # keep-alive timeout (uvicorn: 5 s) is closed by the server, and reusing it races.
        limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
        async with httpx.AsyncClient(base_url=base, limits=limits, timeout=60) as client:
            measured.append(await drive(client, name, requests, clients))
    return measured[2:]


def print_run(run: Run) -> None:
    for figures in run.figures:
        print(figures.row(run.store_events), flush=True)
    concurrent = [f for f in run.figures if f.clients > 1]
    for figures in concurrent:
        print(
            f"  {figures.name} at {figures.clients} clients: {figures.rate:,.0f}/s ="
            f" {figures.rate / run.raw_inserts_per_second:.2f} x the raw"
            f" {run.raw_inserts_per_second:,.0f} single-row INSERT transactions/s"
            f" ({RAW_WRITERS} connections)",
            flush=True,
        )


async def main(admin_url: str, sizes: list[int], args: argparse.Namespace) -> None:
    conn = await asyncpg.connect(
        make_url(admin_url).set(drivername="postgresql").render_as_string(False)
    )
    server = await conn.fetchval("SHOW server_version")
    settings = [await conn.fetchval(f"SHOW {s}") for s in ("fsync", "synchronous_commit")]
    await conn.close()
    print(
        f"PostgreSQL {server} (fsync={settings[0]}, synchronous_commit={settings[1]}),"
        f" Python {platform.python_version()}, load average {os.getloadavg()[0]:.2f}"
    )
    print("| store events | command | clients | requests | requests/s | p50 ms | p99 ms |")
    print("|---:|---|---:|---:|---:|---:|---:|")
    for size in sizes:
        print_run(await measure(admin_url, size, args))
    print(f"load average at the end {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", default=DEFAULT_SERVER, help="a server to use")
    parser.add_argument(
        "--store-events", default="0", help="comma-separated store sizes (events) to run at"
    )
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--requests", type=int, default=2000, help="per command, concurrent")
    parser.add_argument("--sequential", type=int, default=300, help="per command, one client")
    parser.add_argument("--warmup", type=int, default=50, help="per command")
    args = parser.parse_args()
    sizes = [int(size) for size in args.store_events.split(",")]
    asyncio.run(main(normalize_database_url(args.database_url), sizes, args))
