"""Load with ``wrk`` against a server the benchmark started, and what the server spent on it.

* ``HttpServer``: a server command in a subprocess on a free loopback port, ready when a
  path answers; stopped with SIGTERM.
* ``run_wrk``: ``wrk -t2 -c32 -d<s> -s bench/lua/post.lua`` (Debian's ``wrk``): POSTs with a
  distinct body per request (see the Lua script), and its figures: requests, rate, latency
  percentiles, and every answer that was not 201 (a run with any fails: ``WrkRun.check``).
* The CPU time (user + system, from ``/proc/<pid>/stat``) of the server's process and all its
  descendants (uvicorn's or ``kmop serve``'s workers), read before and after the run, and the
  same for the PostgreSQL backends serving the contender's database: per request, what the app
  and the database spent.
"""

from __future__ import annotations

import asyncio
import json
import os
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import httpx

ROOT = Path(__file__).resolve().parent.parent
LUA = Path(__file__).resolve().parent / "lua" / "post.lua"
TICKS = os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# --- CPU time ----------------------------------------------------------------------------------


def _stat(pid: int) -> list[str] | None:
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return None
    return text[text.rindex(")") + 2 :].split()  # fields from the 3rd (state) on


def descendants(pid: int) -> list[int]:
    """``pid`` and every process below it."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit() and (fields := _stat(int(entry))) is not None:
            children.setdefault(int(fields[1]), []).append(int(entry))
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        todo += children.get(current, [])
    return found


def cpu_seconds(pids: Sequence[int]) -> dict[int, float]:
    """utime + stime of each live process, in seconds."""
    times = {}
    for pid in pids:
        if (fields := _stat(pid)) is not None:
            times[pid] = (int(fields[11]) + int(fields[12])) / TICKS  # utime, stime
    return times


@dataclass
class CpuMeter:
    """CPU spent by a process tree and by the PostgreSQL backends of one database."""

    pid: int
    admin_dsn: str | None = None
    database: str | None = None
    app_s: float = 0.0  # what the last stop() found
    db_s: float = 0.0

    async def backends(self) -> list[int]:
        if self.admin_dsn is None:
            return []
        conn = await asyncpg.connect(self.admin_dsn)
        try:
            rows = await conn.fetch(
                "SELECT pid FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()",
                self.database,
            )
        finally:
            await conn.close()
        return [row["pid"] for row in rows]

    async def start(self) -> None:
        self._app = cpu_seconds(descendants(self.pid))
        self._db = cpu_seconds(await self.backends())

    def stop(self) -> tuple[float, float]:
        """(app seconds, database seconds) since ``start``; processes that appeared meanwhile
        count from zero; backends that ended meanwhile are lost (none in these runs: pools)."""
        app = cpu_seconds(descendants(self.pid))
        db = cpu_seconds(list(self._db))
        self.app_s = sum(t - self._app.get(pid, 0.0) for pid, t in app.items())
        self.db_s = sum(t - self._db.get(pid, 0.0) for pid, t in db.items())
        return self.app_s, self.db_s


# --- servers -----------------------------------------------------------------------------------


class HttpServer:
    """``command`` (with ``{port}`` filled in) in a subprocess, its output in a temporary log."""

    def __init__(self, name: str, command: Sequence[str], env: dict[str, str]) -> None:
        self.name = name
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.log = tempfile.NamedTemporaryFile(prefix=f"kmop-bench-{name}-", suffix=".log")  # noqa: SIM115
        self.process = subprocess.Popen(
            [part.format(port=self.port) for part in command],
            cwd=ROOT,
            env={**os.environ, **env},
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )

    async def ready(self, path: str, within: float = 60) -> None:
        """Until ``GET path`` answers 200 (any answer, when ``path`` is POST-only: 405)."""
        deadline = time.monotonic() + within
        async with httpx.AsyncClient(base_url=self.base_url) as client:
            while time.monotonic() < deadline:
                if self.process.poll() is not None:
                    raise SystemExit(f"{self.name} exited before it was ready:\n{self.tail()}")
                try:
                    if (await client.get(path)).status_code in (200, 405):
                        return
                except httpx.TransportError:
                    pass
                await asyncio.sleep(0.2)  # polling with a deadline
        raise SystemExit(f"{self.name} did not get ready in {within:.0f} s:\n{self.tail()}")

    def tail(self, size: int = 3000) -> str:
        self.log.flush()
        return Path(self.log.name).read_bytes()[-size:].decode(errors="replace")

    async def aclose(self) -> None:
        """``stop`` without blocking the event loop (which may run the round-trip proxy that
        the server's connections go through: they must close for the server to stop)."""
        await asyncio.to_thread(self.stop)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()


# --- wrk ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class WrkRun:
    requests: int
    seconds: float
    non_201: int
    exhausted: int
    first_bad: str
    socket_errors: int
    p50_ms: float
    p99_ms: float
    app_cpu_s: float = 0.0
    db_cpu_s: float = 0.0
    wrk_cpu_s: float = 0.0  # the load generator's own CPU time

    @property
    def rate(self) -> float:
        return self.requests / self.seconds

    @property
    def app_cpu_ms(self) -> float:
        return 1000 * self.app_cpu_s / self.requests

    @property
    def db_cpu_ms(self) -> float:
        return 1000 * self.db_cpu_s / self.requests

    @property
    def wrk_cpu_ms(self) -> float:
        return 1000 * self.wrk_cpu_s / self.requests

    def check(self, what: str) -> None:
        """Fail the benchmark unless every answer was 201."""
        if self.exhausted:
            raise SystemExit(
                f"{what}: {self.exhausted} requests reused a prepared token or audit: "
                "raise --max-rate (more are prepared)"
            )
        if self.non_201 or self.socket_errors or not self.requests:
            raise SystemExit(
                f"{what}: {self.non_201} of {self.requests} answers were not 201, "
                f"{self.socket_errors} socket errors; first: {self.first_bad}"
            )


def wrk_version() -> str:
    wrk = shutil.which("wrk")
    if wrk is None:
        raise SystemExit("wrk is missing: apt-get install -y wrk")
    out = subprocess.run([wrk, "--version"], capture_output=True, text=True).stdout
    return out.split("Copyright")[0].strip()


_counter = [0]


async def run_wrk(
    url: str,
    template: str,
    seconds: float,
    *,
    lines: Sequence[str] = (),
    idempotency: bool = False,
    connections: int = 32,
    threads: int = 2,
    meter: CpuMeter | None = None,
) -> WrkRun:
    """wrk against ``url`` (POST), bodies from ``template`` ("{n}": a key unique per request),
    one of ``lines`` ("path<TAB>token") per request when given."""
    _counter[0] += 1
    prefix = f"b{os.getpid()}r{_counter[0]}"
    with tempfile.TemporaryDirectory(prefix="kmop-wrk-") as tmp:
        lines_file = Path(tmp) / "lines.tsv"
        template_file = Path(tmp) / "body.json"
        template_file.write_text(template)
        if lines:
            lines_file.write_text("\n".join(lines) + "\n")
        command = [
            "wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds:g}s", "--timeout", "30s",
            "-s", str(LUA), url, "--",
            str(lines_file) if lines else "-", str(template_file), str(threads),
            "1" if idempotency else "0", prefix,
        ]  # fmt: skip
        if meter is not None:
            await meter.start()
        children = resource.getrusage(resource.RUSAGE_CHILDREN)  # wrk: the one reaped meanwhile
        process = await asyncio.create_subprocess_exec(
            *command, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
        )
        out, err = await process.communicate()
        app_cpu, db_cpu = meter.stop() if meter is not None else (0.0, 0.0)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        wrk_cpu = after.ru_utime + after.ru_stime - children.ru_utime - children.ru_stime
    text = out.decode()
    found = [line for line in text.splitlines() if line.startswith("WRKJSON ")]
    if process.returncode != 0 or not found:
        raise SystemExit(f"wrk failed ({process.returncode}):\n{text}\n{err.decode()}")
    figures = json.loads(found[-1].removeprefix("WRKJSON "))
    return WrkRun(
        requests=figures["requests"],
        seconds=figures["duration_us"] / 1e6,
        non_201=figures["non_201"],
        exhausted=figures["exhausted"],
        first_bad=figures["first_bad"],
        socket_errors=sum(
            figures[k] for k in ("connect_errors", "read_errors", "write_errors", "timeouts")
        ),
        p50_ms=figures["p50_us"] / 1000,
        p99_ms=figures["p99_us"] / 1000,
        app_cpu_s=app_cpu,
        db_cpu_s=db_cpu,
        wrk_cpu_s=wrk_cpu,
    )


if __name__ == "__main__":
    print(wrk_version(), file=sys.stderr)
