"""Random command sequences, valid and not, never corrupt the registry.

Hypothesis draws sequences of steps over three registration units (two service types of one
enterprise, and another enterprise): each step moves the clock forward (a day to years), then
sends one command of the decider (``SubmitApplication`` … ``ApplyDeadlines``) built from the
unit's current state, sometimes valid, sometimes not (a wrong id, an unknown bureau, a report
whose result contradicts its verdicts, a blank reason …), through the real
``RegistrationService`` on PostgreSQL. Whatever happens:

* a refused command (``DomainError`` / ``KmopError``) appended nothing and changed no row;
* every ``registrations`` row is what ``registration_row`` makes of the fold of its events;
* no two units share a registration number, and the numbers run without gaps;
* rebuilding every projection from the events gives back exactly the rows the commands wrote.

One database serves every example of a run (each example has enterprise numbers and ids of its
own), so an example costs its commands, not a database. ``KMOP_FUZZ_EXAMPLES`` sets how many
examples run (default 25; derandomized, so a CI run is reproducible).
"""

from __future__ import annotations

import itertools
import os
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from dateutil.relativedelta import relativedelta
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from app.domain.bureaus import AppointAuditBureau
from app.domain.decider import (
    ApplyDeadlines,
    ChooseAuditBureau,
    Command,
    PlanAudit,
    ReactToFailedAudit,
    RecordDecision,
    RecordSwornDeclaration,
    StopRegistration,
    SubmitApplication,
    SubmitAuditReport,
)
from app.domain.errors import KmopError
from app.domain.events import AuditResult, IndicatorScore, Score, Track, Verdict
from app.domain.identifiers import BankAccount, RegistrationUnit, ServiceType
from app.domain.norm import CURRENT_NORM, AuditType, Requirement, audited_requirements
from app.domain.policies import today
from app.domain.registration import Audit, UnitState
from app.events import Actor, EventMetadata
from app.events.bulk import PRIMARY_KEYS
from app.events.catalog import unit_stream_id
from app.events.projections import PROJECTION_TABLES, Projector, registration_row
from app.events.rebuild import rebuild_projections
from app.services.clock import FixedClock
from app.services.registrations import RegistrationService
from tests.integration.scenarios import enterprise_number
from tests.integration.test_rebuild import Snapshot, differences

pytestmark = pytest.mark.fuzz

EXAMPLES = int(os.environ.get("KMOP_FUZZ_EXAMPLES", "25"))
START = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
BUREAU = "prop-bureau"  # appointed from 2020, open-ended
SHORT_BUREAU = "prop-bureau-2026"  # appointed for the first half of 2026 only
NUMBER_BASE = 500
ACTOR = EventMetadata(actor=Actor(id="property-test", role="agency"))
BANK_ACCOUNT = BankAccount.parse("BE68539007547034")

KINDS = (
    "submit",
    "declare",
    "choose",
    "plan",
    "report",
    "react",
    "decide",
    "stop",
    "deadlines",
)
# Mostly small steps (a process takes weeks), sometimes long enough for every deadline to pass.
DAYS = (0, 0, 1, 1, 3, 7, 14, 14, 30, 60, 200, 400, 1900)


@dataclass(frozen=True)
class Step:
    kind: str  # one of KINDS, or "next": what the unit's process expects next
    unit: int  # which of the example's three units
    days: int  # the clock moves this far forward first
    flavour: int  # 0-2: variations of a valid command; 3: one that breaks something (not "next")


STEPS = st.builds(
    Step,
    # two steps in three move a unit on, and the first unit gets most of them: so that
    # sequences reach registrations, follow-ups, renewals and expiries, not only refusals
    kind=st.sampled_from(("next",) * 2 * len(KINDS) + KINDS),
    unit=st.sampled_from((0, 0, 0, 1, 2)),
    days=st.sampled_from(DAYS),
    flavour=st.integers(0, 3),
)


class Example:
    """One example's units, ids and clock."""

    _numbers = itertools.count(20_000, 10)

    def __init__(self, service: RegistrationService, clock: FixedClock) -> None:
        base = next(self._numbers)
        one, other = enterprise_number(base), enterprise_number(base + 1)
        self.units = (
            RegistrationUnit(one, ServiceType.TRAINING),
            RegistrationUnit(one, ServiceType.ADVICE),
            RegistrationUnit(other, ServiceType.TRAINING),
        )
        self.service = service
        self.clock = clock
        self.prefix = f"x{base}"
        self.ids = itertools.count(1)
        self.used_application_ids: list[str] = []

    def new_id(self, what: str) -> str:
        return f"{self.prefix}-{what}-{next(self.ids)}"

    def today(self) -> date:
        return today(self.clock.now())


def _current_audit(state: UnitState) -> Audit | None:
    if state.application is not None and state.application.audit is not None:
        return state.application.audit
    return state.registration.follow_up_audit if state.registration else None


def _report(audit: Audit | None, state: UnitState, example: Example, flavour: int) -> Command:
    if audit is None:
        return SubmitAuditReport(
            audit_id=example.new_id("no-audit"),
            report_id=example.new_id("report"),
            bureau_id=BUREAU,
            audit_type=AuditType.BASIC,
            visit_date=example.today(),
            scores=(),
            verdicts=(),
            result=AuditResult.PASSED,
        )
    assert state.unit is not None
    visit = audit.visit_date or example.today()
    lacking = state.registration.lacking if state.registration else frozenset()
    audited = audited_requirements(
        audit.audit_type, state.unit.service_type, state.exemptions, visit, lacking=lacking
    )
    first = sorted(audited)[:1]
    result = AuditResult.PASSED
    not_met: frozenset[Requirement] = frozenset()
    follow_up_deadline = None
    if flavour == 1 and first:
        result, not_met = AuditResult.FAILED, frozenset(first)
    elif flavour == 2 and first:
        result, not_met = AuditResult.CONDITIONALLY_PASSED, frozenset(first)
        follow_up_deadline = visit + relativedelta(months=9)
    elif flavour == 3:  # passed, yet a requirement not met: the report contradicts itself
        not_met = frozenset(first)
    return SubmitAuditReport(
        audit_id=audit.audit_id,
        report_id=example.new_id("report"),
        bureau_id=audit.bureau_id,
        audit_type=audit.audit_type,
        visit_date=visit,
        scores=tuple(
            IndicatorScore(
                indicator=indicator.code,
                conformity=Score.B if indicator.requirement in not_met else Score.T,
                demonstrability=Score.G if indicator.requirement in not_met else Score.V,
            )
            for indicator in CURRENT_NORM.indicators
            if indicator.requirement in audited
        ),
        verdicts=tuple(Verdict(requirement=r, met=r not in not_met) for r in sorted(audited)),
        result=result,
        follow_up_deadline=follow_up_deadline,
        norm_version=CURRENT_NORM.version,
    )


def next_kind(state: UnitState, audit: Audit | None, today_: date) -> str:
    """The command that moves the unit's process on from where it is."""
    application = state.application
    if application is not None:
        if application.sworn_declaration_on is None:
            return "declare"
        if audit is None:
            return "choose"
        if audit.visit_date is None:
            return "plan"
        if audit.failed_without_reaction:
            return "react"
        return "report" if audit.awaits_report else "decide"
    registration = state.registration
    if registration is None or not registration.in_force:
        return "submit"
    if registration.valid_until - relativedelta(months=6) <= today_:
        return "renew"
    if registration.follow_up_deadline is not None:
        if audit is None:
            return "choose"
        return "plan" if audit.visit_date is None else "report"
    return "deadlines"


def command_for(step: Step, state: UnitState, example: Example) -> Command:
    """The step's command, built from what the unit is now (so that most can apply)."""
    unit, flavour, day = example.units[step.unit], step.flavour, example.today()
    application_id = state.application.application_id if state.application else None
    audit = _current_audit(state)
    kind = step.kind
    if kind == "next":  # a valid variation of what comes next
        kind, flavour = next_kind(state, audit, day), min(flavour, 2)
    broken = flavour == 3
    renewing = kind == "renew"
    if renewing:
        kind = "submit"
    match kind:
        case "submit":
            if broken and example.used_application_ids:  # an id another application has
                new_id = example.used_application_ids[0]
            else:
                new_id = example.new_id("application")
            example.used_application_ids.append(new_id)
            track = (Track.BASIC, Track.STARTER, Track.RENEWAL, Track.BASIC)[flavour]
            if renewing:
                track = Track.RENEWAL
            elif step.kind == "next" and track is Track.RENEWAL:
                track = Track.BASIC
            starter = track is Track.STARTER
            return SubmitApplication(
                application_id=new_id,
                unit=unit,
                provider_name=f"Provider {unit.enterprise_number}",
                bank_account=BANK_ACCOUNT,
                activities="Opleidingen en advies",
                themes=("digitalisering",) if not broken else ("koken",),
                track=track,
                activity_started_on=day - timedelta(days=400) if starter else None,
                dossiers=5 if starter else None,
            )
        case "declare":
            target = application_id if not broken else example.new_id("unknown")
            return RecordSwornDeclaration(application_id=target or example.new_id("none"))
        case "choose":
            choices = (BUREAU, SHORT_BUREAU, BUREAU, "no-such-bureau")
            return ChooseAuditBureau(
                audit_id=example.new_id("audit"),
                bureau_id=BUREAU if step.kind == "next" else choices[flavour],
                follow_up=state.application is None if step.kind == "next" else flavour == 2,
            )
        case "plan":
            return PlanAudit(
                audit_id=audit.audit_id if audit else example.new_id("no-audit"),
                bureau_id=audit.bureau_id if audit else BUREAU,
                visit_date=day + timedelta(days=(0, 2, 10, 5)[flavour]),
                planned_hours=Decimal("0") if broken else Decimal("7.5"),
            )
        case "report":
            return _report(audit, state, example, flavour)
        case "react":
            return ReactToFailedAudit(
                audit_id=audit.audit_id if audit else example.new_id("no-audit"),
                reaction="   " if broken else "De klanttevredenheid wordt nu gemeten.",
            )
        case "decide":
            return RecordDecision(
                application_id=application_id or example.new_id("none"),
                granted=flavour != 1,
                decision_date=day - timedelta(days=400) if broken else day,
                reason="Het dossier is onvolledig." if flavour == 1 else None,
            )
        case "stop":
            return StopRegistration(reason="  " if broken else "Misbruik vastgesteld")
        case _:
            return ApplyDeadlines()


# --- what must hold -----------------------------------------------------------------------


async def _scalar(engine: AsyncEngine, sql: str, **params: Any) -> Any:
    async with engine.connect() as conn:
        return await conn.scalar(text(sql), params)


async def _registration(engine: AsyncEngine, unit_key: str) -> dict[str, Any] | None:
    async with engine.connect() as conn:
        result = await conn.execute(
            text("SELECT * FROM registrations WHERE unit_key = :key"), {"key": unit_key}
        )
        row = result.mappings().first()
    return dict(row) if row is not None else None


async def snapshot(engine: AsyncEngine) -> Snapshot:
    assert set(PRIMARY_KEYS) == set(PROJECTION_TABLES)
    tables: Snapshot = {}
    async with engine.connect() as conn:
        for table, key in PRIMARY_KEYS.items():
            result = await conn.execute(text(f"SELECT * FROM {table} ORDER BY {key}"))
            tables[table] = [dict(row._mapping) for row in result]
    return tables


async def run_step(step: Step, example: Example) -> None:
    service, engine = example.service, example.service.engine
    unit_key = example.units[step.unit].key
    example.clock.advance(days=step.days)
    state, version = await service.unit_state(unit_key)
    command = command_for(step, state, example)
    events_before = await _scalar(engine, "SELECT count(*) FROM events")
    row_before = await _registration(engine, unit_key)
    try:
        outcome = await service.execute(unit_key, command, ACTOR)
    except KmopError as refusal:
        refused: KmopError | None = refusal
    else:
        refused = None
    if refused is not None:
        event(f"refused: {refused.code}")  # --hypothesis-show-statistics shows what was tried
        assert await _scalar(engine, "SELECT count(*) FROM events") == events_before, refused
        assert await _registration(engine, unit_key) == row_before, refused
        assert (await service.unit_state(unit_key))[1] == version
        return
    assert outcome.version == version + len(outcome.events)
    appended = await _scalar(engine, "SELECT count(*) FROM events")
    assert appended == events_before + len(outcome.events)


async def check_rows_are_the_fold(example: Example) -> None:
    engine = example.service.engine
    for unit in example.units:
        state, version = await example.service.unit_state(unit.key)
        row = await _registration(engine, unit.key)
        event(f"a unit ended {state.status.value}")
        if version == 0:
            assert row is None
            continue
        assert row is not None
        last_recorded = await _scalar(
            engine,
            "SELECT max(recorded_at) FROM events WHERE stream_id = :s",
            s=unit_stream_id(unit.key),
        )
        expected = registration_row(unit.key, state, version, last_recorded)
        assert {column: row[column] for column in expected} == expected
        numbered = state.first_registered_on is not None
        assert (row["registration_number"] is not None) is numbered, row
        assert (row["registration_serial"] is not None) is numbered, row


async def check_numbers(engine: AsyncEngine) -> None:
    async with engine.connect() as conn:
        rows = (
            await conn.execute(
                text(
                    "SELECT registration_serial, registration_number FROM registrations "
                    "WHERE registration_serial IS NOT NULL ORDER BY registration_serial"
                )
            )
        ).all()
    numbers = [number for _, number in rows]
    assert len(set(numbers)) == len(numbers), numbers
    assert [serial for serial, _ in rows] == list(range(NUMBER_BASE, NUMBER_BASE + len(rows)))


async def check_rebuild_gives_the_same_rows(service: RegistrationService) -> None:
    live = await snapshot(service.engine)
    await rebuild_projections(service.engine, service.projector)
    rebuilt = await snapshot(service.engine)
    assert rebuilt == live, differences(live, rebuilt)


# --- the property ---------------------------------------------------------------------------


async def appoint_bureaus(service: RegistrationService) -> None:
    bureaus = (
        (BUREAU, enterprise_number(19_001), date(2020, 1, 1), None),
        (SHORT_BUREAU, enterprise_number(19_002), date(2026, 1, 1), date(2026, 6, 30)),
    )
    for bureau_id, number, since, until in bureaus:
        command = AppointAuditBureau(bureau_id, f"Bureau {bureau_id}", number, since, until)
        await service.execute_bureau(command, ACTOR)


@pytest.fixture
async def service(engine: AsyncEngine) -> RegistrationService:
    service = RegistrationService(engine, clock=FixedClock(START), projector=Projector(NUMBER_BASE))
    await appoint_bureaus(service)
    return service


# One database for all examples (each example's units and ids are its own): the
# function-scoped fixture is shared on purpose.
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(steps=st.lists(STEPS, min_size=12, max_size=40))
async def test_command_sequences_never_corrupt_the_projections(
    service: RegistrationService, steps: list[Step]
) -> None:
    clock = FixedClock(START)
    service.clock = clock
    example = Example(service, clock)
    for step in steps:
        await run_step(step, example)
    await check_rows_are_the_fold(example)
    await check_numbers(service.engine)
    await check_rebuild_gives_the_same_rows(service)
