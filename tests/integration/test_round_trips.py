"""The round trips a command costs, counted on the wire: a new application is BEGIN, one read,
one write, COMMIT (README "How a command reaches PostgreSQL"), with or without an
Idempotency-Key. The app's connection to PostgreSQL goes through ``bench/pgproxy.py``, which
reads the protocol and counts the messages the client then waits on (Sync, Query, Flush); a
warm-up first opens the connections and prepares the statements, as a running service has."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import httpx
import pytest

from app import db
from app.api.auth import Role
from app.main import create_app
from app.services.clock import FixedClock
from app.settings import Settings
from bench.pgproxy import RoundTripProxy, Window, proxy_to, url_through
from tests.api.support import AGENCY, application_body, auth, bureau_body, ok
from tests.integration.scenarios import enterprise_number

COMMAND_ROUND_TRIPS = 4  # issue 12: at most 4 per command
WITH_KEY_ROUND_TRIPS = 5  # and 5 with an Idempotency-Key


@pytest.fixture
async def counted(database_url: str) -> AsyncIterator[tuple[RoundTripProxy, str]]:
    """A proxy to the test database, and the database's URL through it."""
    proxy = proxy_to(database_url)
    port = await proxy.start()
    try:
        yield proxy, url_through(database_url, port)
    finally:
        await proxy.close()


@pytest.fixture
async def api(
    counted: tuple[RoundTripProxy, str], clock: FixedClock
) -> AsyncIterator[httpx.AsyncClient]:
    engine = db.make_engine(counted[1])
    app = create_app(Settings(environment="test"), engine=engine, clock=clock)
    transport = httpx.ASGITransport(app=app)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            ok(await client.post("/bureaus", json=bureau_body(), headers=AGENCY), 201)
            yield client
    finally:
        await app.state.pg.close()
        await engine.dispose()


_enterprises = iter(range(10_000, 20_000))


async def apply(api: httpx.AsyncClient, *, key: bool) -> None:
    headers = auth(Role.PROVIDER, enterprise_number=str(enterprise_number(next(_enterprises))))
    if key:
        headers["Idempotency-Key"] = str(uuid.uuid4())
    ok(await api.post("/applications", json=application_body(), headers=headers), 201)


async def counted_command(api: httpx.AsyncClient, proxy: RoundTripProxy, *, key: bool) -> Window:
    proxy.reset()
    await apply(api, key=key)
    window = proxy.snapshot()
    assert window.new_connections == 0, "a connection was opened: the warm-up was too short"
    return window


@pytest.mark.parametrize(
    ("key", "budget"), [(False, COMMAND_ROUND_TRIPS), (True, WITH_KEY_ROUND_TRIPS)]
)
async def test_a_new_application_stays_within_its_round_trips(
    api: httpx.AsyncClient, counted: tuple[RoundTripProxy, str], key: bool, budget: int
) -> None:
    proxy = counted[0]
    for _ in range(3):  # connections made, statements prepared
        await apply(api, key=key)
    for _ in range(5):
        window = await counted_command(api, proxy, key=key)
        assert window.round_trips <= budget, (window.round_trips, dict(window.statements))
        assert window.turns <= budget, (window.turns, dict(window.statements))
    # what they are: BEGIN, the one read, the one write, COMMIT
    statements = [sql.split()[0].upper() for sql in window.statements.elements()]
    assert sorted(statements) == ["BEGIN", "COMMIT", "SELECT", "WITH"], window.statements


async def test_a_replayed_key_reads_and_writes_nothing_more(
    api: httpx.AsyncClient, counted: tuple[RoundTripProxy, str]
) -> None:
    proxy = counted[0]
    headers = auth(Role.PROVIDER, enterprise_number=str(enterprise_number(9_999)))
    headers["Idempotency-Key"] = "replayed"
    for _ in range(2):
        first = await api.post("/applications", json=application_body(), headers=headers)
    proxy.reset()
    again = await api.post("/applications", json=application_body(), headers=headers)
    window = proxy.snapshot()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.content == first.content
    assert window.round_trips <= 3, dict(window.statements)  # BEGIN, the read, ROLLBACK
