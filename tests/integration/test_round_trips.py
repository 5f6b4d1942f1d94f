"""The round trips a command costs, counted on the wire: a new application is BEGIN, one read,
one write, COMMIT (README "How a command reaches PostgreSQL"), with or without an
Idempotency-Key; so is an audit report, its audit found by the command's own read and its reply
made from what the command has in hand, also on a unit registered already (no round trip for
its number); so is every command on a subsidy project, the project found within the caller's
scope by the command's read and the reply made from its row as read and the command's events.
The app's connection to PostgreSQL goes through ``bench/pgproxy.py``, which
reads the protocol and counts the messages the client then waits on (Sync, Query, Flush); a
warm-up first opens the connections and prepares the statements, as a running service has."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Mapping
from datetime import date

import httpx
import pytest

from app.api.http.auth import Role
from app.main import create_app
from app.runtime import db
from app.runtime.settings import Settings
from app.services.clock import FixedClock
from bench.pgproxy import RoundTripProxy, Window, proxy_to, url_through
from tests.api.support import (
    AGENCY,
    BUREAU,
    BUREAU_ID,
    application_body,
    at,
    audit_planned,
    auth,
    bureau_body,
    ok,
    problem,
    register,
    report_body,
)
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


# --- audit reports ---------------------------------------------------------------------------

VISIT = date(2026, 1, 15)
FOLLOW_UP_VISIT = date(2026, 5, 4)


async def planned_audit(api: httpx.AsyncClient, clock: FixedClock, provider: dict[str, str]) -> str:
    """An application of ``provider`` declared, its audit assigned to bureau-kiwa and planned."""
    clock.set(at(date(2026, 1, 5)))
    applied = ok(await api.post("/applications", json=application_body(), headers=provider), 201)
    return await audit_planned(api, applied["application_id"], provider, visit=VISIT)


async def registered_conditionally(
    api: httpx.AsyncClient, clock: FixedClock, provider: dict[str, str]
) -> str:
    """A unit of ``provider`` registered conditionally: its registration number."""
    audit_id = await planned_audit(api, clock, provider)
    clock.set(at(date(2026, 1, 16)))
    conditional = report_body(
        range(1, 6),
        visit=VISIT,
        not_met=[3],
        result="conditionally_passed",
        follow_up_deadline=date(2026, 7, 16),
    )
    reported = ok(
        await api.post(f"/audits/{audit_id}/reports", json=conditional, headers=BUREAU), 201
    )
    clock.set(at(date(2026, 1, 20)))
    decision = f"/applications/{reported['application_id']}/decision"
    granted = ok(await api.post(decision, json={"granted": True}, headers=AGENCY))
    number: str = granted["registration_number"]
    return number


async def planned_follow_up(
    api: httpx.AsyncClient, clock: FixedClock, provider: dict[str, str]
) -> str:
    """A unit of ``provider`` registered conditionally, its follow-up audit planned."""
    number = await registered_conditionally(api, clock, provider)
    follow_up: str = ok(
        await api.post(
            f"/registrations/{number}/follow-up-audits",
            json={"bureau_id": BUREAU_ID},
            headers=provider,
        ),
        201,
    )["audit_id"]
    plan = {"visit_date": FOLLOW_UP_VISIT.isoformat(), "planned_hours": "2"}
    ok(await api.post(f"/audits/{follow_up}/plan", json=plan, headers=BUREAU))
    clock.set(at(date(2026, 5, 5)))
    return follow_up


async def counted_report(
    api: httpx.AsyncClient, proxy: RoundTripProxy, audit_id: str, body: dict[str, object]
) -> tuple[Window, dict[str, object]]:
    proxy.reset()
    reply = ok(await api.post(f"/audits/{audit_id}/reports", json=body, headers=BUREAU), 201)
    window = proxy.snapshot()
    assert window.new_connections == 0, "a connection was opened: the warm-up was too short"
    return window, reply


def assert_one_read_one_write(window: Window) -> None:
    assert window.round_trips <= COMMAND_ROUND_TRIPS, (window.round_trips, dict(window.statements))
    assert window.turns <= COMMAND_ROUND_TRIPS, (window.turns, dict(window.statements))
    statements = [sql.split()[0].upper() for sql in window.statements.elements()]
    assert sorted(statements) == ["BEGIN", "COMMIT", "SELECT", "WITH"], window.statements


async def test_an_audit_report_stays_within_its_round_trips(
    api: httpx.AsyncClient, counted: tuple[RoundTripProxy, str], clock: FixedClock
) -> None:
    proxy = counted[0]
    audits = [
        await planned_audit(api, clock, auth(Role.PROVIDER, enterprise_number=str(kbo)))
        for kbo in (enterprise_number(n) for n in range(20_000, 20_004))
    ]
    clock.set(at(date(2026, 1, 16)))
    body = report_body(range(1, 6), visit=VISIT)
    ok(await api.post(f"/audits/{audits[0]}/reports", json=body, headers=BUREAU), 201)  # warm-up
    for audit_id in audits[1:]:
        window, reply = await counted_report(api, proxy, audit_id, body)
        assert_one_read_one_write(window)
        assert reply["status"] == "reported"
        assert ok(await api.get(f"/audits/{audit_id}", headers=BUREAU)) == reply


async def test_a_report_on_a_registered_unit_stays_within_its_round_trips(
    api: httpx.AsyncClient, counted: tuple[RoundTripProxy, str], clock: FixedClock
) -> None:
    """The follow-up audit's report on a unit registered conditionally (two events: the report,
    the follow-up passed): the unit has its number, and its row is written once, from the state
    after both, with the command's one write."""
    proxy = counted[0]
    body = report_body([3], visit=FOLLOW_UP_VISIT, audit_type="conditional_follow_up")
    for n in range(20_100, 20_103):
        provider = auth(Role.PROVIDER, enterprise_number=str(enterprise_number(n)))
        follow_up = await planned_follow_up(api, clock, provider)
        window, reply = await counted_report(api, proxy, follow_up, body)
        registration = ok(
            await api.get(f"/registrations/{reply['registration_id']}", headers=AGENCY)
        )
        assert registration["registration_kind"] == "full"  # the follow-up made it whole
        assert registration["registration_number"] is not None
        assert registration["version"] == reply["version"]
        assert ok(await api.get(f"/audits/{follow_up}", headers=BUREAU)) == reply
    assert_one_read_one_write(window)  # the last: statements prepared by the ones before


async def test_choosing_a_bureau_stays_within_its_round_trips(
    api: httpx.AsyncClient, counted: tuple[RoundTripProxy, str], clock: FixedClock
) -> None:
    """The application (or, for a follow-up, the registration) is found by the command's one
    read, and the new audit's reply is made from what the command has in hand."""
    proxy = counted[0]
    clock.set(at(date(2026, 1, 5)))
    for n in range(20_200, 20_204):
        provider = auth(Role.PROVIDER, enterprise_number=str(enterprise_number(n)))
        applied = ok(
            await api.post("/applications", json=application_body(), headers=provider), 201
        )
        url = f"/applications/{applied['application_id']}"
        ok(await api.post(f"{url}/sworn-declaration", json={}, headers=AGENCY))
        proxy.reset()
        chosen = ok(
            await api.post(f"{url}/audits", json={"bureau_id": BUREAU_ID}, headers=provider), 201
        )
        window = proxy.snapshot()
        assert chosen["application_id"] == applied["application_id"]
        assert ok(await api.get(f"/audits/{chosen['audit_id']}", headers=provider)) == chosen
    assert window.new_connections == 0
    assert_one_read_one_write(window)  # the last: statements prepared by the ones before


async def test_choosing_the_follow_up_bureau_stays_within_its_round_trips(
    api: httpx.AsyncClient, counted: tuple[RoundTripProxy, str], clock: FixedClock
) -> None:
    """The registration is found by its number in the command's one read."""
    proxy = counted[0]
    for n in range(20_300, 20_303):
        provider = auth(Role.PROVIDER, enterprise_number=str(enterprise_number(n)))
        number = await registered_conditionally(api, clock, provider)
        proxy.reset()
        chosen = ok(
            await api.post(
                f"/registrations/{number}/follow-up-audits",
                json={"bureau_id": BUREAU_ID},
                headers=provider,
            ),
            201,
        )
        window = proxy.snapshot()
        assert chosen["audit_type"] == "conditional_follow_up"
        assert ok(await api.get(f"/audits/{chosen['audit_id']}", headers=provider)) == chosen
    assert window.new_connections == 0
    assert_one_read_one_write(window)  # the last: statements prepared by the ones before


# --- subsidy projects ------------------------------------------------------------------------

FILED = date(2026, 2, 10)


def project_body(project_id: str, number: str, n: int) -> dict[str, object]:
    """A training filed with ``number``'s provider; odd ones name no unit of this registry, and
    train 2.5 days (the reply shows the days as stored, ``2.50``, and the cap of EUR 250.00)."""
    body: dict[str, object] = {
        "project_id": project_id,
        "client_enterprise_number": str(enterprise_number(777)),
        "registration_number": number if n % 2 == 0 else "DV.O009999",
        "service_type": "opleiding",
        "theme": "digitalisering",
        "start_date": date(2026, 2, 2).isoformat(),
        "end_date": date(2026, 2, 4).isoformat(),
        "price_excluding_vat": "1200",
        "vat": "252.00",
        "participants": 4,
        "training_days": "3" if n % 2 == 0 else "2.5",
        "catering_cost": "400.00",
    }
    return body


async def counted_project_command(
    api: httpx.AsyncClient,
    proxy: RoundTripProxy,
    url: str,
    headers: dict[str, str],
    body: Mapping[str, object] | None = None,
    *,
    key: bool,
) -> tuple[Window, dict[str, object]]:
    """One project command, its round trips, and its reply, which must be the project as the
    caller then reads it (ETag included)."""
    sent = {**headers, "Idempotency-Key": str(uuid.uuid4())} if key else headers
    proxy.reset()
    response = await api.post(url, json=body or {}, headers=sent)
    window = proxy.snapshot()
    reply: dict[str, object] = ok(response, 201 if url == "/projects" else 200)
    project_url = f"/projects/{reply['project_id']}"
    read = await api.get(project_url, headers=headers)
    assert ok(read) == reply
    assert response.headers["ETag"] == read.headers["ETag"] == f'"{reply["version"]}"'
    if url == "/projects":
        assert response.headers["Location"] == project_url
    return window, reply


@pytest.mark.parametrize(
    ("key", "budget"), [(False, COMMAND_ROUND_TRIPS), (True, WITH_KEY_ROUND_TRIPS)]
)
async def test_every_project_command_stays_within_its_round_trips(
    api: httpx.AsyncClient,
    counted: tuple[RoundTripProxy, str],
    clock: FixedClock,
    key: bool,
    budget: int,
) -> None:
    """Recording a project (the agency), confirming or disputing it (its provider), approving,
    stopping and reclaiming it (the agency): the project is found within the caller's scope by
    the command's one read, and the reply is made from its row as read and the command's
    events; each reply is what a read of the project then gives the caller."""
    proxy = counted[0]
    provider = auth(Role.PROVIDER, enterprise_number=str(enterprise_number(20_400)))
    registered = await register(api, clock, provider)
    registration = ok(await api.get(f"/registrations/{registered.registration_id}", headers=AGENCY))
    number = registration["registration_number"]
    clock.set(at(FILED))
    windows: dict[str, Window] = {}
    for n in range(4):  # the first two prepare the statements (each caller's scope its own)
        checked, disputed = f"p-{n}-checked", f"p-{n}-disputed"
        for project_id in (checked, disputed):
            body = project_body(project_id, number, n)
            windows["record"], recorded = await counted_project_command(
                api, proxy, "/projects", AGENCY, body, key=key
            )
            assert recorded["status"] == "to_check"
        if n % 2 == 1:  # named no unit of this registry: the agency's alone
            assert recorded["provider_enterprise_number"] is None
            assert recorded["training_days"] == "2.50"
            continue
        url = f"/projects/{checked}"
        windows["confirm"], confirmed = await counted_project_command(
            api, proxy, f"{url}/confirmation", provider, key=key
        )
        assert (confirmed["status"], confirmed["decision_reason"]) == ("confirmed", None)
        windows["approve"], approved = await counted_project_command(
            api, proxy, f"{url}/approval", AGENCY, key=key
        )
        assert approved["status"] == "approved"
        reason = {"reason": "De klant nam niet deel"}
        windows["reclaim"], reclaimed = await counted_project_command(
            api, proxy, f"{url}/reclaim", AGENCY, reason, key=key
        )
        assert (reclaimed["status"], reclaimed["decision_reason"]) == (
            "reclaimed",
            reason["reason"],
        )
        url = f"/projects/{disputed}"
        dispute = {"reason": "client_did_not_enrol", "comment": "Deze klant kennen we niet"}
        windows["dispute"], disputed_view = await counted_project_command(
            api, proxy, f"{url}/dispute", provider, dispute, key=key
        )
        assert (disputed_view["status"], disputed_view["dispute_comment"]) == (
            "disputed",
            dispute["comment"],
        )
        windows["stop"], stopped = await counted_project_command(
            api, proxy, f"{url}/stop", AGENCY, reason, key=key
        )
        assert stopped["status"] == "stopped"
    assert set(windows) == {"record", "confirm", "dispute", "approve", "stop", "reclaim"}
    for command, window in windows.items():  # the last of each kind
        assert window.new_connections == 0, command
        assert window.round_trips <= budget, (command, window.round_trips, dict(window.statements))
        assert window.turns <= budget, (command, window.turns, dict(window.statements))
        if not key:
            assert_one_read_one_write(window)


async def test_a_project_command_on_a_project_not_yours_reads_once(
    api: httpx.AsyncClient, counted: tuple[RoundTripProxy, str], clock: FixedClock
) -> None:
    """Another provider's project is not found (404) by the command's one read, before it
    decides: BEGIN, the read, ROLLBACK."""
    proxy = counted[0]
    provider = auth(Role.PROVIDER, enterprise_number=str(enterprise_number(20_500)))
    other = auth(Role.PROVIDER, enterprise_number=str(enterprise_number(20_501)))
    registered = await register(api, clock, provider)
    registration = ok(await api.get(f"/registrations/{registered.registration_id}", headers=AGENCY))
    clock.set(at(FILED))
    for n in range(3):
        body = project_body(f"p-{n}", registration["registration_number"], 0)
        ok(await api.post("/projects", json=body, headers=AGENCY), 201)
        proxy.reset()
        response = await api.post(f"/projects/p-{n}/confirmation", json={}, headers=other)
        window = proxy.snapshot()
        problem(response, 404, "not-found")
    assert window.new_connections == 0
    assert window.round_trips <= 3, (window.round_trips, dict(window.statements))
