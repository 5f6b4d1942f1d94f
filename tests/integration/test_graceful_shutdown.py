"""`kmop serve` on SIGTERM (docker stop, systemd, Kubernetes): it stops taking connections, lets
the request in flight finish and commit, then stops the embedded PostgreSQL and exits 0. Its
logs are JSON lines on a pipe, one access line per request, without the token."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import httpx

from tests.api.support import AGENCY, bureau_body
from tests.integration.test_embedded_serve import free_port


class Server:
    """`kmop serve` as a child process whose output is collected line by line."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process
        self.lines: list[str] = []
        self.reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        assert self.process.stdout is not None
        async for line in self.process.stdout:
            self.lines.append(line.decode().rstrip("\n"))

    @property
    def output(self) -> str:
        return "\n".join(self.lines)

    async def wait_for(self, text: str) -> None:
        async with asyncio.timeout(60):
            while not any(text in line for line in self.lines):
                assert self.process.returncode is None, f"exited early:\n{self.output}"
                await asyncio.sleep(0.05)  # polling with a deadline


async def wait_ready(url: str, server: Server) -> None:
    async with httpx.AsyncClient() as client, asyncio.timeout(90):
        while True:
            assert server.process.returncode is None, f"exited early:\n{server.output}"
            try:
                if (await client.get(url)).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.2)  # polling with a deadline


async def test_sigterm_lets_the_request_in_flight_finish_then_stops_the_database(
    tmp_path: Path,
) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("KMOP_")}
    env |= {
        "KMOP_DATA_DIR": str(tmp_path / "kmop"),
        "KMOP_PORT": str(port),
        "KMOP_SHUTDOWN_GRACE_SECONDS": "60",
        "KMOP_DEADLINE_INTERVAL_SECONDS": "0",
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "app",
        "serve",
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    server = Server(process)
    try:
        await wait_ready(f"{base}/readyz", server)
        first_part_sent, release = asyncio.Event(), asyncio.Event()
        payload = json.dumps(bureau_body()).encode()

        async def slow_body() -> AsyncIterator[bytes]:
            yield payload[:10]
            first_part_sent.set()
            await release.wait()
            yield payload[10:]

        async with httpx.AsyncClient(base_url=base, timeout=90) as client:
            request = asyncio.create_task(
                client.post(
                    "/bureaus",
                    content=slow_body(),
                    headers=AGENCY | {"Content-Type": "application/json"},
                )
            )
            await first_part_sent.wait()
            # Answered after the request's first bytes arrived: the server has taken it in.
            async with httpx.AsyncClient(base_url=base) as other:
                assert (await other.get("/healthz")).status_code == 200
            process.send_signal(signal.SIGTERM)
            await server.wait_for("Shutting down")
            assert process.returncode is None  # waiting for the request in flight
            release.set()
            response = await request
        assert response.status_code == 201, response.text  # committed while shutting down
        assert response.json()["bureau_id"] == "bureau-kiwa"
        await asyncio.wait_for(process.wait(), timeout=60)
        await server.reader
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()

    assert process.returncode == 0, server.output
    assert "Embedded PostgreSQL stopped." in server.output
    assert not (tmp_path / "kmop" / "postgres" / "postmaster.pid").exists(), "still running"

    access = [
        entry
        for entry in (json.loads(line) for line in server.lines if line.startswith("{"))
        if entry.get("logger") == "kmop.access"
    ]
    posted = [entry for entry in access if entry["method"] == "POST"]
    assert len(posted) == 1, access
    assert (posted[0]["path"], posted[0]["status"]) == ("/bureaus", 201)
    assert posted[0]["client_id"] == "vlaio-backoffice"
    assert AGENCY["Authorization"].removeprefix("Bearer ") not in server.output
    assert not any('"uvicorn.access"' in line for line in server.lines)
