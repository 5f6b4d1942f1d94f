"""`kmop serve` on SIGTERM (docker stop, systemd, Kubernetes): it stops taking connections, lets
the request in flight finish and commit, then stops the embedded PostgreSQL and exits 0. Its
logs are JSON lines on a pipe, one access line per request, without the token."""

from __future__ import annotations

import asyncio
import json
import signal
from collections.abc import AsyncIterator
from pathlib import Path

import httpx

from tests.api.support import AGENCY, bureau_body
from tests.integration.serving import free_port, serving, spawn_serve, wait_ready


async def test_sigterm_lets_the_request_in_flight_finish_then_stops_the_database(
    tmp_path: Path,
) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    process = await spawn_serve(
        port,
        KMOP_DATA_DIR=str(tmp_path / "kmop"),
        KMOP_SHUTDOWN_GRACE_SECONDS="60",
        KMOP_DEADLINE_INTERVAL_SECONDS="0",
    )
    async with serving(process) as server:
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
        await server.exited()

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
