"""`kmop serve --workers 2`: two processes answer on one port, each with its own app and pools;
SIGTERM stops both (exit 0) and leaves no process behind."""

from __future__ import annotations

import asyncio
import os
import re
import signal

import httpx

from tests.api.support import AGENCY, bureau_body
from tests.integration.serving import free_port, serving, spawn_serve, wait_ready

WORKER = re.compile(r'^kmop_worker_info\{pid="(\d+)",worker="(\d+)"\} 1\.0$', re.MULTILINE)


async def workers_answering(base: str) -> dict[str, int]:
    """Worker index -> pid, from /metrics scraped over fresh connections, many at once (an idle
    worker takes the next connection; a busy one leaves it to the other), until both show."""
    seen: dict[str, int] = {}
    fresh = httpx.Limits(max_keepalive_connections=0)
    async with httpx.AsyncClient(base_url=base, limits=fresh) as client, asyncio.timeout(60):
        while len(seen) < 2:
            answers = await asyncio.gather(*(client.get("/metrics") for _ in range(16)))
            for answer in answers:
                assert answer.status_code == 200
                for pid, worker in WORKER.findall(answer.text):
                    seen[worker] = int(pid)
    return seen


async def spawn_two_workers(port: int, database_url: str) -> asyncio.subprocess.Process:
    return await spawn_serve(
        port,
        "--no-migrate",
        "--workers",
        "2",
        KMOP_DATABASE_URL=database_url,
        KMOP_DEADLINE_INTERVAL_SECONDS="0",
        KMOP_CHECKPOINT_INTERVAL_SECONDS="0",
    )


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


async def test_two_workers_share_the_port_and_stop_together(database_url: str) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    process = await spawn_two_workers(port, database_url)
    async with serving(process) as server:
        await wait_ready(f"{base}/readyz", server)
        workers = await workers_answering(base)
        assert set(workers) == {"0", "1"}
        assert len(set(workers.values())) == 2, workers  # two processes
        assert process.pid not in workers.values()  # neither is the parent
        fresh = httpx.Limits(max_keepalive_connections=0)
        async with httpx.AsyncClient(base_url=base, limits=fresh) as client:
            created = await client.post("/bureaus", json=bureau_body(), headers=AGENCY)
            assert created.status_code == 201, created.text
            for _ in range(10):  # a connection each: whichever worker takes it, the same answers
                found = await client.get("/bureaus/bureau-kiwa", headers=AGENCY)
                assert found.status_code == 200, found.text
                assert (await client.get("/public/providers")).status_code == 200
        process.send_signal(signal.SIGTERM)
        await server.exited()

    assert process.returncode == 0, server.output
    assert [pid for pid in workers.values() if alive(pid)] == [], server.output
    assert server.output.count("Finished server process") == 2, server.output


async def test_a_worker_that_dies_stops_the_others_and_the_exit_is_1(database_url: str) -> None:
    """No crash loop hidden behind the parent: the orchestrator sees it and restarts the whole."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    process = await spawn_two_workers(port, database_url)
    async with serving(process) as server:
        await wait_ready(f"{base}/readyz", server)
        workers = await workers_answering(base)
        os.kill(workers["1"], signal.SIGKILL)
        await server.exited()

    assert process.returncode == 1, server.output
    assert "worker kmop-worker-1" in server.output, server.output
    assert "exited with -9" in server.output, server.output
    assert not alive(workers["0"]), server.output
