"""The public search pays for its own statements and nothing else: no pre-ping, no BEGIN or
ROLLBACK around a read, no reset of the connection, no second statement for the total.

Every message the app sends to PostgreSQL goes through a proxy that reads the frontend protocol
(``bench/pgproxy.py``) and counts the messages after which the client waits for the server
(Sync, Query, Flush): its round trips. Once a statement is prepared on the connection (a first
request of each kind), a request must cost exactly one round trip per statement it runs, and
all of them must be the search's own SELECTs.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date

import httpx
import pytest
from fastapi import FastAPI

from app.api.http.auth import Role
from app.main import create_app
from app.runtime import db
from app.runtime.settings import Settings
from app.services.clock import FixedClock
from bench.pgproxy import RoundTripProxy, Window, proxy_to, url_through
from tests.api.support import AGENCY, at, auth, bureau_body, ok, register
from tests.integration.scenarios import enterprise_number


@pytest.fixture
async def proxy(database_url: str) -> AsyncIterator[RoundTripProxy]:
    proxy = proxy_to(database_url)
    await proxy.start()
    try:
        yield proxy
    finally:
        await proxy.close()


@pytest.fixture
async def counted(
    database_url: str, proxy: RoundTripProxy, clock: FixedClock
) -> AsyncIterator[httpx.AsyncClient]:
    """The app, every connection of it through the proxy, with three registered providers."""
    engine = db.make_engine(url_through(database_url, proxy.port), pool_size=2)
    app: FastAPI = create_app(Settings(environment="test"), engine=engine, clock=clock)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as api:
            ok(await api.post("/bureaus", json=bureau_body(), headers=AGENCY), 201)
            for n, name in enumerate(("Vormingscentrum Noord", "Vormingscentrum Zuid", "Kiwa")):
                kbo = str(enterprise_number(20 + n))
                headers = auth(Role.PROVIDER, sub=f"app-{kbo}", enterprise_number=kbo)
                await register(api, clock, headers, provider_name=name, themes=["innovatie"])
            clock.set(at(date(2026, 2, 1)))
            yield api
    finally:
        await app.state.pg.close()
        await engine.dispose()


async def round_trips(proxy: RoundTripProxy, api: httpx.AsyncClient, path: str) -> Window:
    """The messages of one request for ``path``, after a first one prepared its statements."""
    assert (await api.get(path)).status_code == 200
    proxy.reset()
    response = await api.get(path)
    window = proxy.snapshot()
    assert response.status_code == 200, response.text
    return window


# path, statements: the page (with its registrations, rating and capped total) is one; free
# text adds the count that picks how it is matched (exactly, or by similarity)
REQUESTS = [
    ("/public/providers?number=DV.O000001", 1),
    ("/public/providers?theme=innovatie&region=gent", 1),
    ("/public/providers?limit=1", 1),  # a full page: the total is counted in the same statement
    ("/public/providers?page=9", 1),  # an empty later page: the same
    ("/public/providers?q=vormingscentrum&limit=1", 2),
    ("/public/providers?q=vormingcentrm", 2),  # a typo: matched by similarity
    (f"/public/providers/{enterprise_number(20)}", 1),
    ("/?q=vormingscentrum&theme=innovatie", 2),  # the web page runs the same SQL
    (f"/dienstverleners/{enterprise_number(21)}", 1),
]


@pytest.mark.parametrize(("path", "statements"), REQUESTS)
async def test_a_public_read_costs_one_round_trip_per_statement_of_its_own(
    counted: httpx.AsyncClient, proxy: RoundTripProxy, path: str, statements: int
) -> None:
    window = await round_trips(proxy, counted, path)
    assert window.new_connections == 0
    assert sum(window.statements.values()) == statements, window.statements
    assert window.round_trips == statements, window.messages  # nothing but those statements
    assert set(window.messages) == {"B", "E", "S"}, window.messages  # prepared, no simple query
    assert window.turns == statements
    for sql in window.statements:
        assert sql.lstrip().startswith(("SELECT", "WITH")), sql
