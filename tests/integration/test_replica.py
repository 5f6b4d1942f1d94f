"""The public reads on a real streaming replica (``KMOP_READ_DATABASE_URL``;
``app.runtime.readers``).

A primary and a standby made from the embedded PostgreSQL's binaries (``replication.py``): the
app writes to the primary and its public search, public check and web page read the standby. With
the standby's replay paused, a stop recorded on the primary is not seen by the public search
(proof that it reads the standby, not the primary); once replayed, the provider is gone. Then the
primary is stopped: the public reads keep answering, a command gets a 503 problem at once, and
``/readyz`` names the primary as the database that does not answer. And the other way round: a
replica that does not answer costs the public reads only.
"""

from __future__ import annotations

import socket
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

import asyncpg
import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from app.main import create_app
from app.runtime import db, embedded
from app.runtime.settings import Settings
from app.services.clock import FixedClock
from tests.api.support import AGENCY, OTHER_BUREAU_ID, PROBLEM, bureau_body, ok, problem
from tests.integration.replication import Replication, primary_and_standby, replayed
from tests.web.support import Provider, register

DATABASE = "kmop"
NAME = "Vinçotte Academy"
KBO = "0403170701"
COMMAND_TIMEOUT_SECONDS = 8.0  # the connect timeout (5 s) and some: no hang


@pytest.fixture(scope="module")
def replication() -> Iterator[Replication]:
    with primary_and_standby() as servers:
        embedded.ensure_database_sync(servers.primary.dsn(), DATABASE)
        db.upgrade(servers.primary.url(DATABASE))
        yield servers


@dataclass(frozen=True)
class Replicated:
    """The app with its public reads on the standby, and its clock."""

    api: httpx.AsyncClient
    clock: FixedClock


@pytest.fixture
async def replicated(replication: Replication) -> AsyncIterator[Replicated]:
    engine = db.make_engine(replication.primary.url(DATABASE))
    settings = Settings(environment="test", read_database_url=replication.standby.url(DATABASE))
    clock = FixedClock(datetime(2026, 1, 5, 9, tzinfo=UTC))
    app = create_app(settings, engine=engine, clock=clock)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            yield Replicated(client, clock)
    finally:
        await app.state.pg.close()
        await app.state.public.close()
        await engine.dispose()


async def listed(api: httpx.AsyncClient) -> list[str]:
    found = ok(await api.get("/public/providers", params={"q": "vincotte"}))
    return [item["name"] for item in found["items"]]


async def test_public_reads_follow_the_replica_and_outlive_the_primary(
    replication: Replication, replicated: Replicated
) -> None:
    api, clock = replicated.api, replicated.clock
    numbers = await register(api, clock, [Provider(KBO, NAME)])
    (number,) = numbers[KBO]
    await replayed(replication)
    assert await listed(api) == [NAME]

    standby = await asyncpg.connect(replication.standby.dsn())
    try:
        await standby.execute("SELECT pg_wal_replay_pause()")
        clock.set(datetime(2026, 2, 2, 10, tzinfo=UTC))
        stop = {"reason": "Misbruik"}
        ok(await api.post(f"/registrations/{number}/stop", json=stop, headers=AGENCY))
        # The primary has it; the replica, not replaying, does not: the search reads the replica.
        stopped = ok(await api.get(f"/registrations/{number}", headers=AGENCY))
        assert stopped["status"] == "stopped"
        assert await listed(api) == [NAME]
        ok(await api.get(f"/public/providers/{KBO}"))
        await standby.execute("SELECT pg_wal_replay_resume()")
    finally:
        await standby.close()
    await replayed(replication)
    assert await listed(api) == []
    problem(await api.get(f"/public/providers/{KBO}"), 404, "not-found")

    replication.primary.stop("fast")

    assert await listed(api) == []
    problem(await api.get(f"/public/providers/{KBO}"), 404, "not-found")  # answered, not a 503
    assert ok(await api.get("/public/providers"))["total"] == 0
    check = ok(await api.get(f"/public/registrations/{number}", params={"on": "2026-01-25"}))
    assert check["in_force"] is True  # the past, from the replica's events
    page = await api.get("/", params={"q": "vincotte"})
    assert page.status_code == 200
    assert "text/html" in page.headers["content-type"]
    form = await api.get("/controle", params={"nummer": number, "datum": "2026-01-25"})
    assert form.status_code == 200
    assert NAME in form.text

    began = time.monotonic()
    refused = await api.post("/bureaus", json=bureau_body(OTHER_BUREAU_ID), headers=AGENCY)
    assert time.monotonic() - began < COMMAND_TIMEOUT_SECONDS
    assert refused.status_code == 503
    assert refused.headers["content-type"] == PROBLEM
    assert refused.json()["code"] == "database-unavailable"
    assert "Retry-After" in refused.headers

    ready = await api.get("/readyz")
    assert ready.status_code == 503
    assert ready.json()["code"] == "database-unavailable"
    assert ready.json()["unavailable"] == ["primary"]


async def test_a_replica_that_does_not_answer_costs_the_public_reads_only(
    engine: AsyncEngine,
) -> None:
    """The other way round: the replica down, the primary up. The public reads get a 503 (a
    problem, or the web page's own), never a 500; commands and authenticated reads go on."""
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        nobody = f"postgresql://nobody@127.0.0.1:{sock.getsockname()[1]}/none"
    settings = Settings(environment="test", read_database_url=nobody)
    app = create_app(settings, engine=engine, clock=FixedClock(datetime(2026, 1, 5, tzinfo=UTC)))
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as api:
            ok(await api.post("/bureaus", json=bureau_body(), headers=AGENCY), 201)
            ok(await api.get("/bureaus", headers=AGENCY))
            for path in ("/public/providers", "/public/registrations/DV.O000001"):
                problem(await api.get(path), 503, "database-unavailable")
            page = await api.get("/", params={"q": "vincotte"})
            assert page.status_code == 503
            assert "niet beschikbaar" in page.text
            assert (await api.get("/controle", params={"nummer": "DV.O000001"})).status_code == 503
            assert (await api.get("/readyz")).json()["unavailable"] == ["replica"]
    finally:
        await app.state.pg.close()
        await app.state.public.close()
