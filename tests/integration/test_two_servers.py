"""Two service processes on one database: nothing lost, nothing twice, one number per unit.

A history is written first, in-process, on a clock set years back (registrations that have
since expired, conditional and starter registrations whose follow-up was never done, failed
audits never reacted to), so that deadlines are due by the real today. Then two `kmop serve`
processes start on that database, each running the deadline job every half second, and take
at once: applications of many providers (each also sent to the other server under the same
Idempotency-Key, some racing a second application for the same unit), sworn declarations,
decisions and stops sent to both servers for the same applications and registrations, and
`POST /deadlines/run` on both. Then, with both stopped:

* every acknowledged command's events are in the store, and every stream's versions run 1..n;
* each application, declaration, decision, stop and deadline event is there once per unit,
  and the deadline events the two processes report add up to those in the store;
* every registered unit has one number, no number is shared, serials run 1..n;
* the projections equal a rebuild from the events.
"""

from __future__ import annotations

import asyncio
import random
import signal
from collections import Counter
from collections.abc import AsyncIterator, Awaitable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from app.api.http.auth import Role
from app.domain.bureaus import AppointAuditBureau
from app.domain.decider import (
    ChooseAuditBureau,
    Command,
    PlanAudit,
    RecordDecision,
    RecordSwornDeclaration,
    SubmitApplication,
)
from app.domain.events import AuditResult, Track
from app.domain.identifiers import RegistrationUnit, ServiceType
from app.domain.norm import AuditType
from app.domain.policies import today
from app.events.catalog import unit_stream_id
from app.events.projections import Projector
from app.events.rebuild import rebuild_projections
from app.services.clock import FixedClock
from app.services.registrations import RegistrationService
from tests.api.support import AGENCY, application_body, auth
from tests.integration.scenarios import enterprise_number
from tests.integration.serving import Server, free_port, spawn_serve, wait_ready
from tests.integration.test_rebuild import differences, snapshot
from tests.unit.lifecycle import ALL, STARTER_SCOPE, apply, report

BRUSSELS = ZoneInfo("Europe/Brussels")
BUREAU_ID = "bureau-kiwa"
PER_KIND = 5  # units of each kind in the preloaded history
NEW_PROVIDERS = 24  # apply over HTTP while the servers race
DEADLINE_EVENTS = {"FollowUpMissed", "RegistrationExpired", "ApplicationRefusedForNoReaction"}


def on(day: date) -> datetime:
    return datetime.combine(day, time(10), tzinfo=BRUSSELS)


# --- the history written before the servers start --------------------------------------------


@dataclass
class Preloaded:
    due: dict[str, str] = field(default_factory=dict)  # unit key -> the deadline event it owes
    awaiting_decision: dict[str, str] = field(default_factory=dict)  # application id -> unit
    undeclared: dict[str, str] = field(default_factory=dict)  # application id -> unit
    registered: list[str] = field(default_factory=list)  # in force, not due
    expiring: list[str] = field(default_factory=list)  # expired by now: a stop must be refused


class History:
    """Drives one unit at a time through the service on a clock that it sets to each step."""

    def __init__(self, service: RegistrationService, clock: FixedClock) -> None:
        self.service, self.clock = service, clock
        self.count = 0

    async def run(self, unit_key: str, day: date, command: Command) -> None:
        self.clock.set(on(day))
        await self.service.execute(unit_key, command)

    async def unit(
        self,
        applied: date,
        *,
        track: Track = Track.BASIC,
        declare: bool = True,
        result: AuditResult | None = AuditResult.PASSED,
        decide: bool = True,
    ) -> tuple[str, str]:
        """Apply on ``applied`` and go on, a few days a step, as far as asked; returns the unit
        key and the application id."""
        self.count += 1
        unit = RegistrationUnit(enterprise_number(50_000 + self.count), ServiceType.TRAINING)
        key, application_id, audit_id = unit.key, f"app-{self.count}", f"audit-{self.count}"
        starter = track is Track.STARTER
        started = applied - timedelta(days=400) if starter else None
        submit: SubmitApplication = apply(
            track,
            unit=unit,
            application_id=application_id,
            activity_started_on=started,
            dossiers=5 if starter else None,
        )
        await self.run(key, applied, submit)
        if not declare:
            return key, application_id
        await self.run(key, applied + timedelta(days=1), RecordSwornDeclaration(application_id))
        await self.run(key, applied + timedelta(days=2), ChooseAuditBureau(audit_id, BUREAU_ID))
        visit = applied + timedelta(days=30)
        await self.run(
            key, applied + timedelta(days=3), PlanAudit(audit_id, BUREAU_ID, visit, Decimal(6))
        )
        if result is None:
            return key, application_id
        audit_type = AuditType.STARTER if starter else AuditType.BASIC
        conditional = result is AuditResult.CONDITIONALLY_PASSED
        submitted = report(
            STARTER_SCOPE if starter else ALL,
            audit_type=audit_type,
            not_met=[3] if result is not AuditResult.PASSED else [],
            result=result,
            follow_up_deadline=visit + timedelta(days=300) if conditional else None,
            audit_id=audit_id,
            report_id=f"report-{self.count}",
            bureau_id=BUREAU_ID,
            visit=visit,
        )
        await self.run(key, visit + timedelta(days=2), submitted)
        if decide and result is not AuditResult.FAILED:
            decided = visit + timedelta(days=10)
            await self.run(key, decided, RecordDecision(application_id, True, decided))
        return key, application_id


async def preload(engine: AsyncEngine) -> Preloaded:
    clock = FixedClock(on(date(2019, 1, 2)))
    service = RegistrationService(engine, clock=clock)
    await service.execute_bureau(
        AppointAuditBureau(BUREAU_ID, "Kiwa Belgium", enterprise_number(900), date(2019, 1, 1))
    )
    history, loaded = History(service, clock), Preloaded()
    for n in range(PER_KIND):
        # registered for five years from early 2021: expired by now
        key, _ = await history.unit(date(2021, 1, 4) + timedelta(days=n))
        loaded.due[key] = "RegistrationExpired"
        loaded.expiring.append(key)
        # conditional in 2024, follow-up deadline early 2025, never followed up
        key, _ = await history.unit(date(2024, 1, 8), result=AuditResult.CONDITIONALLY_PASSED)
        loaded.due[key] = "FollowUpMissed"
        # a starter registered mid-2023 for two years, follow-up never done
        key, _ = await history.unit(date(2023, 5, 2), track=Track.STARTER)
        loaded.due[key] = "FollowUpMissed"
        # failed early 2025, no reaction within six months
        key, _ = await history.unit(date(2025, 1, 6), result=AuditResult.FAILED)
        loaded.due[key] = "ApplicationRefusedForNoReaction"
        # reported this month: the decision is the agency's to take
        key, application_id = await history.unit(date(2026, 10, 1), decide=False)
        loaded.awaiting_decision[application_id] = key
        # applied last week, the sworn declaration not yet received
        key, application_id = await history.unit(date(2026, 11, 16), declare=False)
        loaded.undeclared[application_id] = key
        # registered last month
        key, _ = await history.unit(date(2026, 9, 10))
        loaded.registered.append(key)
    return loaded


# --- two servers -------------------------------------------------------------------------------


@dataclass
class Service:
    server: Server
    base: str


async def start(database_url: str) -> Service:
    port = free_port()
    process = await spawn_serve(
        port,
        KMOP_DATABASE_URL=database_url,
        KMOP_ENVIRONMENT="development",  # the deadline job runs (not in "test")
        KMOP_DEADLINE_INTERVAL_SECONDS="0.5",
        KMOP_DB_POOL_SIZE="8",
        KMOP_DB_MAX_OVERFLOW="4",
    )
    service = Service(Server(process), f"http://127.0.0.1:{port}")
    await wait_ready(f"{service.base}/readyz", service.server)
    return service


async def stop(service: Service) -> None:
    process = service.server.process
    if process.returncode is None:
        process.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(process.wait(), timeout=30)
        except TimeoutError:
            process.kill()
            await process.wait()
    await service.server.reader


@asynccontextmanager
async def two_servers(database_url: str) -> AsyncIterator[list[httpx.AsyncClient]]:
    """Both servers started at once (both migrate-check and schedule the job at once), and a
    keep-alive client for each; stopped with SIGTERM on the way out."""
    started = await asyncio.gather(start(database_url), start(database_url), return_exceptions=True)
    running = [s for s in started if isinstance(s, Service)]
    try:
        for failed in started:
            if isinstance(failed, BaseException):
                raise failed
        async with (
            httpx.AsyncClient(base_url=running[0].base, timeout=30) as first,
            httpx.AsyncClient(base_url=running[1].base, timeout=30) as second,
        ):
            yield [first, second]
    finally:
        await asyncio.gather(*(stop(s) for s in running))


# --- the race ----------------------------------------------------------------------------------


@dataclass
class Answers:
    """What the servers acknowledged (2xx) and refused, per kind of command."""

    acknowledged: Counter[str] = field(default_factory=Counter)
    applications: set[str] = field(default_factory=set)  # ids in 2xx answers
    replayed: int = 0
    refused: Counter[str] = field(default_factory=Counter)  # kind and problem code
    unexpected: list[str] = field(default_factory=list)

    def note(self, kind: str, response: httpx.Response) -> None:
        if response.is_success:
            self.acknowledged[kind] += 1
            self.replayed += response.headers.get("Idempotent-Replayed") == "true"
            if kind == "apply":
                self.applications.add(response.json()["application_id"])
        elif response.status_code == 409:
            self.refused[f"{kind}: {response.json()['code']}"] += 1
        else:
            self.unexpected.append(f"{kind}: {response.status_code} {response.text[:300]}")


def provider(n: int) -> tuple[str, dict[str, str]]:
    kbo = str(enterprise_number(70_000 + n))
    return kbo, auth(Role.PROVIDER, sub=f"provider-{n}", enterprise_number=kbo)


def requests(
    loaded: Preloaded, clients: list[httpx.AsyncClient], answers: Answers
) -> list[Awaitable[None]]:
    """Every request of the race, each to one server; the same command goes to both."""

    async def send(
        kind: str, client: httpx.AsyncClient, path: str, body: object, headers: dict[str, str]
    ) -> None:
        answers.note(kind, await client.post(path, json=body, headers=headers))

    work: list[Awaitable[None]] = []
    for n in range(NEW_PROVIDERS):
        _, token = provider(n)
        body = application_body(provider_name=f"Opleidingen Nummer {n}")
        for client in clients:  # one request, retried on the other server with its key
            work.append(send("apply", client, "/applications", body, token | {KEY: f"apply-{n}"}))
        if n % 3 == 0:  # and another application for the same unit, under a key of its own
            work.append(send("apply", clients[n % 2], "/applications", body, token))
    for application_id in loaded.awaiting_decision:
        path = f"/applications/{application_id}/decision"
        for client in (*clients, *clients):
            work.append(send("decide", client, path, {"granted": True}, AGENCY))
    for application_id in loaded.undeclared:
        path = f"/applications/{application_id}/sworn-declaration"
        for client in (*clients, *clients):
            work.append(send("declare", client, path, {}, AGENCY))
    for unit_key in (*loaded.registered, *loaded.expiring):
        for client in clients:
            stop_body = {"reason": "Misbruik vastgesteld"}
            work.append(send("stop", client, f"/registrations/{unit_key}/stop", stop_body, AGENCY))
    for _ in range(3):
        for client in clients:
            work.append(send("deadlines", client, "/deadlines/run", None, AGENCY))
    random.Random(20261125).shuffle(work)
    return work


KEY = "Idempotency-Key"


async def metric(client: httpx.AsyncClient, name: str) -> float:
    """The sum of a counter's samples (over its labels) in one process's /metrics."""
    exposition = (await client.get("/metrics")).text
    return sum(
        float(line.rsplit(" ", 1)[1])
        for line in exposition.splitlines()
        if line.startswith(name) and (line[len(name)] in " {")
    )


@dataclass
class Outcome:
    answers: Answers
    runs: list[float]  # completed deadline runs, per process
    deadline_events: float  # deadline events written, as both processes count them


async def race(database_url: str, loaded: Preloaded) -> Outcome:
    async with two_servers(database_url) as clients:
        answers = Answers()
        await asyncio.gather(*requests(loaded, clients, answers))
        # A scheduled run counts its events when it completes: wait for the count to arrive.
        written = 0.0
        async with asyncio.timeout(20):
            while written < len(loaded.due):
                written = sum([await metric(c, "kmop_deadline_events_total") for c in clients])
                await asyncio.sleep(0.1)  # polling with a deadline
        await asyncio.sleep(1.5)  # three more scheduled runs each: none may write again
        written = sum([await metric(c, "kmop_deadline_events_total") for c in clients])
        runs = [await metric(c, "kmop_deadline_runs_total") for c in clients]
    return Outcome(answers, runs, written)


async def stored_events(engine: AsyncEngine) -> list[tuple[str, str, str | None]]:
    async with engine.connect() as conn:
        rows = await conn.execute(
            text("SELECT stream_id, event_type, data->>'application_id' FROM events")
        )
        return [(row[0], row[1], row[2]) for row in rows]


# --- the test ----------------------------------------------------------------------------------


async def test_two_servers_race_on_one_database_and_lose_nothing(
    engine: AsyncEngine, database_url: str
) -> None:
    loaded = await preload(engine)
    assert today(datetime.now(UTC)) >= date(2026, 2, 10), "the history's deadlines must be due"
    outcome = await race(database_url, loaded)
    answers = outcome.answers
    assert not answers.unexpected, answers.unexpected
    events = await stored_events(engine)
    per_stream = Counter((stream, event_type) for stream, event_type, _ in events)

    # no lost update: every acknowledged command's events are there, versions run 1..n
    submitted = [app for _, event_type, app in events if event_type == "ApplicationSubmitted"]
    assert answers.applications <= set(submitted)
    async with engine.connect() as conn:
        gaps = (
            await conn.execute(
                text(
                    "SELECT stream_id, count(*), min(version), max(version) FROM events"
                    " GROUP BY stream_id HAVING min(version) <> 1 OR max(version) <> count(*)"
                )
            )
        ).all()
    assert not gaps, gaps

    # no duplicate: one application per provider (the retries on the other server replayed),
    # one of each racing command per unit, the rest refused
    assert len(submitted) == len(set(submitted))
    assert len(answers.applications) == NEW_PROVIDERS
    for n in range(NEW_PROVIDERS):
        unit = unit_stream_id(f"{provider(n)[0]}:opleiding")
        assert per_stream[(unit, "ApplicationSubmitted")] == 1, unit
    assert answers.replayed >= 1
    assert answers.acknowledged["decide"] == len(loaded.awaiting_decision)
    assert answers.acknowledged["declare"] == len(loaded.undeclared)
    assert answers.acknowledged["stop"] == len(loaded.registered)
    assert answers.acknowledged["deadlines"] == 6
    for unit in loaded.awaiting_decision.values():  # granted once, through one server
        assert per_stream[(unit_stream_id(unit), "RegistrationGranted")] == 1, unit
        assert per_stream[(unit_stream_id(unit), "AuditReportSubmitted")] == 1, unit
    for unit in loaded.undeclared.values():
        assert per_stream[(unit_stream_id(unit), "SwornDeclarationReceived")] == 1, unit
    for unit in loaded.registered:
        assert per_stream[(unit_stream_id(unit), "RegistrationStopped")] == 1, unit
    for unit in loaded.expiring:  # expired before it could be stopped
        assert per_stream[(unit_stream_id(unit), "RegistrationStopped")] == 0, unit

    # each deadline event once per unit, however many runs in however many processes
    deadline = Counter(
        (stream, event_type) for stream, event_type, _ in events if event_type in DEADLINE_EVENTS
    )
    assert dict(deadline) == {(unit_stream_id(u), kind): 1 for u, kind in loaded.due.items()}
    assert outcome.deadline_events == len(loaded.due)  # what the two processes say they wrote
    assert all(runs >= 4 for runs in outcome.runs), outcome.runs  # 3 POSTs + the schedule

    # one number per registered unit, none shared, serials 1..n
    async with engine.connect() as conn:
        numbers = (
            await conn.execute(
                text(
                    "SELECT registration_serial, registration_number FROM registrations"
                    " WHERE first_registered_on IS NOT NULL ORDER BY registration_serial"
                )
            )
        ).all()
        unnumbered = await conn.scalar(
            text(
                "SELECT count(*) FROM registrations"
                " WHERE (first_registered_on IS NULL) <> (registration_number IS NULL)"
            )
        )
    assert unnumbered == 0
    assert [serial for serial, _ in numbers] == list(range(1, len(numbers) + 1))
    assert len({number for _, number in numbers}) == len(numbers)
    # expired, conditional, starter, registered last month; and those decided in the race
    assert len(numbers) == 5 * PER_KIND

    # what the two processes projected is what a rebuild from the events gives
    live = await snapshot(engine)
    await rebuild_projections(engine, Projector())
    rebuilt = await snapshot(engine)
    assert rebuilt == live, differences(live, rebuilt)
