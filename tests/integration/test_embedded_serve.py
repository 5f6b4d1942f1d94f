"""The newcomer's promise: `kmop serve` with no database URL runs its own PostgreSQL, keeps the
data across restarts, and Ctrl-C stops the service and the database."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from pathlib import Path

import asyncpg
import httpx

from app.runtime import embedded
from app.runtime.db import migration_head
from tests.integration.serving import free_port, spawn_serve


async def wait_ready(url: str, process: asyncio.subprocess.Process) -> httpx.Response:
    async with httpx.AsyncClient() as client, asyncio.timeout(90):
        while True:
            if process.returncode is not None:
                assert process.stdout is not None
                output = (await process.stdout.read()).decode()
                raise AssertionError(f"kmop serve exited early:\n{output}")
            try:
                response = await client.get(url)
                if response.status_code == 200:
                    return response
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.2)  # polling with a deadline


async def serve_once(data_dir: Path) -> tuple[str, int]:
    """Start `kmop serve`, wait until ready, interrupt it; return its output and exit code."""
    port = free_port()
    process = await spawn_serve(port, KMOP_DATA_DIR=str(data_dir))
    try:
        ready = await wait_ready(f"http://127.0.0.1:{port}/readyz", process)
        assert ready.json()["migration"] == migration_head()
        process.send_signal(signal.SIGINT)
        output, _ = await asyncio.wait_for(process.communicate(), timeout=60)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    return output.decode(), process.returncode or 0


async def test_serve_embeds_postgres_keeps_data_and_stops_it(tmp_path: Path) -> None:
    data_dir = tmp_path / "kmop"
    output, code = await serve_once(data_dir)
    assert code == 0, output
    assert "API docs: http://127.0.0.1:" in output
    assert "Embedded PostgreSQL stopped." in output
    pgdata = data_dir / "postgres"
    assert (pgdata / "PG_VERSION").exists()
    assert not (pgdata / "postmaster.pid").exists(), "the database is still running"

    # Leave a mark in the database between two runs: it must survive the restart.
    server = embedded.start(pgdata)
    try:
        conn = await asyncpg.connect(server.dsn("kmop"))
        await conn.execute("CREATE TABLE survivor (note text); INSERT INTO survivor VALUES ('x')")
        await conn.close()
    finally:
        server.stop()

    output, code = await serve_once(data_dir)
    assert code == 0, output
    server = embedded.start(pgdata)
    try:
        conn = await asyncpg.connect(server.dsn("kmop"))
        assert await conn.fetchval("SELECT note FROM survivor") == "x"
        await conn.close()
    finally:
        server.stop()


def test_production_refuses_to_embed(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KMOP_")}
    env |= {"KMOP_ENVIRONMENT": "production", "KMOP_DATA_DIR": str(tmp_path)}
    result = subprocess.run(
        [sys.executable, "-m", "app", "migrate"], env=env, capture_output=True, text=True
    )
    assert result.returncode != 0
    assert "KMOP_DATABASE_URL is required in production" in result.stderr + result.stdout
    assert not (tmp_path / "postgres").exists()


def test_production_refuses_to_serve_without_its_public_address(tmp_path: Path) -> None:
    """The attest prints KMOP_PUBLIC_BASE_URL for anyone to follow: production names it, over
    HTTPS, before anything starts (no database is touched, no server is embedded)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("KMOP_")}
    env |= {
        "KMOP_ENVIRONMENT": "production",
        "KMOP_DATA_DIR": str(tmp_path),
        "KMOP_DATABASE_URL": "postgresql://nobody@127.0.0.1:1/none",
    }
    for base_url, reason in [
        (None, "KMOP_PUBLIC_BASE_URL is required in production"),
        ("http://127.0.0.1:8000", "KMOP_PUBLIC_BASE_URL must be an https:// address"),
        ("http://register.example.be", "KMOP_PUBLIC_BASE_URL must be an https:// address"),
    ]:
        run_env = env | ({"KMOP_PUBLIC_BASE_URL": base_url} if base_url else {})
        result = subprocess.run(
            [sys.executable, "-m", "app", "serve"], env=run_env, capture_output=True, text=True
        )
        assert result.returncode != 0
        assert reason in result.stderr + result.stdout
        assert "API docs" not in result.stdout
    assert not (tmp_path / "postgres").exists()
