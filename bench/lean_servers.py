"""The servers ``bench/lean.py`` loads (uvicorn for the contenders, ``kmop serve`` for this
service), commands posted one after another, and the round trips to PostgreSQL they cost."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Sequence

import httpx

from bench import commands
from bench.loadgen import HttpServer
from bench.pgproxy import RoundTripProxy, Window

PY = sys.executable


# --- servers -----------------------------------------------------------------------------------


def uvicorn(target: str, workers: int = 1) -> list[str]:
    return [
        PY, "-m", "uvicorn", target, "--host", "127.0.0.1", "--port", "{port}",
        "--workers", str(workers), "--no-access-log", "--log-level", "warning",
    ]  # fmt: skip


def kmop_has_workers() -> bool:
    helptext = subprocess.run(
        [PY, "-m", "app", "serve", "--help"],
        capture_output=True,
        text=True,
        cwd=commands.ROOT,
        env={**os.environ, "COLUMNS": "200"},
    ).stdout
    return "--workers" in helptext


def kmop_server(database_url: str, workers: int) -> HttpServer:
    command = [PY, "-m", "app", "serve", "--no-migrate", "--port", "{port}"]
    if workers != 1:
        command += ["--workers", str(workers)]
    env = {
        "KMOP_DATABASE_URL": database_url,
        "KMOP_DEADLINE_INTERVAL_SECONDS": "0",
        "KMOP_CHECKPOINT_INTERVAL_SECONDS": "0",
    }
    return HttpServer(f"kmop-{workers}w", command, env)


async def post_sequentially(base_url: str, path: str, template: str, lines: Sequence[str],
                            count: int, idempotency: bool = False) -> None:  # fmt: skip
    """``count`` POSTs one after the other, as the Lua script builds them; each must be 201."""
    async with httpx.AsyncClient(base_url=base_url, timeout=60) as client:
        for n in range(count):
            key = f"rt-{uuid.uuid4().hex}"
            headers = {"Content-Type": "application/json"}
            target = path
            if lines:
                target, token = lines[n].split("\t")
                headers["Authorization"] = f"Bearer {token}"
            if idempotency:
                headers["Idempotency-Key"] = key
            body = template.replace("{n}", key)
            response = await client.post(target, content=body, headers=headers)
            if response.status_code != 201:
                raise SystemExit(f"{target}: {response.status_code} {response.text[:300]}")


async def round_trips(proxy: RoundTripProxy, send: Callable[[int], object], count: int) -> Window:
    """What ``count`` commands sent by ``send(count)`` sent PostgreSQL (after a warm-up of 10,
    so that every connection and prepared statement is there)."""
    started = time.perf_counter()
    await send(10)  # type: ignore[misc]
    proxy.reset()
    await send(count)  # type: ignore[misc]
    window = proxy.snapshot()
    print(f"  round trips: {count} commands in {time.perf_counter() - started:.1f} s",
          file=sys.stderr)  # fmt: skip
    return window
