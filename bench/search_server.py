"""The public search benchmark's measurements (``bench/search.py``): the database's own time
(``EXPLAIN ANALYZE``), and the app served in a subprocess, driven by concurrent clients."""

from __future__ import annotations

import asyncio
import json
import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import httpx

from app.api.queries import search
from app.runtime.pg import Pool
from bench.search_queries import as_query

ROOT = Path(__file__).resolve().parent.parent


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
