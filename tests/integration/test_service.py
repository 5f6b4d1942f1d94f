"""The service layer on a real PostgreSQL: commands through load -> decide -> append ->
project, numbers, optimistic concurrency, the deadline job and "as of" queries."""

from __future__ import annotations

import asyncio
import contextlib
from collections import Counter
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from app.domain import errors
from app.domain.bureaus import AppointAuditBureau
from app.domain.decider import (
    ApplyDeadlines,
    ChooseAuditBureau,
    PlanAudit,
    RecordDecision,
    RecordSwornDeclaration,
    StopRegistration,
    SubmitApplication,
    SubmitAuditReport,
)
from app.domain.events import AuditResult, IndicatorScore, Score, Verdict
from app.domain.identifiers import BankAccount, EnterpriseNumber, RegistrationUnit, ServiceType
from app.domain.norm import CURRENT_NORM, AuditType, Exemptions, audited_requirements
from app.domain.registration import Status
from app.events import Actor, EventMetadata
from app.events.projections import Projector
from app.services.clock import FixedClock
from app.services.deadlines import run_deadlines, run_periodically
from app.services.registrations import RegistrationService, StaleVersion

AGENCY = EventMetadata(actor=Actor(id="vlaio-backoffice", role="agency"), correlation_id="t")
BUREAU_ID = "kiwa"
START = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
KBO = ["0403170701", "0202239951", "0417497106", "0428750985", "0453834195", "0462920226"]


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(START)


@pytest.fixture
async def service(engine: AsyncEngine, clock: FixedClock) -> RegistrationService:
    service = RegistrationService(engine, clock=clock, projector=Projector(number_base=236716))
    await service.execute_bureau(
        AppointAuditBureau(
            bureau_id=BUREAU_ID,
            name="Kiwa Belgium",
            enterprise_number=EnterpriseNumber.parse("0881285481"),
            appointed_from=date(2020, 1, 1),
        ),
        AGENCY,
    )
    return service


def unit(n: int, service_type: ServiceType = ServiceType.TRAINING) -> RegistrationUnit:
    return RegistrationUnit(EnterpriseNumber.parse(KBO[n]), service_type)


def full_report(
    audit_id: str, visit: date, audit_type: AuditType = AuditType.BASIC
) -> SubmitAuditReport:
    scope = audited_requirements(audit_type, ServiceType.TRAINING, Exemptions(), visit)
    return SubmitAuditReport(
        audit_id=audit_id,
        report_id=f"r-{audit_id}",
        bureau_id=BUREAU_ID,
        audit_type=audit_type,
        visit_date=visit,
        scores=tuple(
            IndicatorScore(indicator=code, conformity=Score.T, demonstrability=Score.V)
            for code in sorted(CURRENT_NORM.indicators_of(scope))
        ),
        verdicts=tuple(Verdict(requirement=r, met=True) for r in sorted(scope)),
        result=AuditResult.PASSED,
    )


async def prepare(
    service: RegistrationService, clock: FixedClock, u: RegistrationUnit, tag: str
) -> None:
    """Take a unit from application to a passed audit report, days apart."""
    key = u.key
    await service.execute(
        key,
        SubmitApplication(
            application_id=f"app-{tag}",
            unit=u,
            provider_name=f"Provider {tag}",
            bank_account=BankAccount.parse("BE68539007547034"),
            activities="Opleidingen digitale vaardigheden",
            themes=("digitalisering",),
        ),
        AGENCY,
    )
    await service.execute(key, RecordSwornDeclaration(application_id=f"app-{tag}"), AGENCY)
    await service.execute(key, ChooseAuditBureau(audit_id=f"audit-{tag}", bureau_id=BUREAU_ID))
    visit = clock.now().date() + timedelta(days=7)
    await service.execute(
        key,
        PlanAudit(f"audit-{tag}", BUREAU_ID, visit_date=visit, planned_hours=Decimal(16)),
    )
    clock.advance(days=10)
    await service.execute(key, full_report(f"audit-{tag}", visit))


async def register(
    service: RegistrationService, clock: FixedClock, u: RegistrationUnit, tag: str
) -> None:
    await prepare(service, clock, u, tag)
    clock.advance(days=1)
    decision = RecordDecision(f"app-{tag}", granted=True, decision_date=clock.now().date())
    await service.execute(u.key, decision, AGENCY)


async def row(engine: AsyncEngine, unit_key: str) -> dict[str, object]:
    async with engine.connect() as conn:
        result = await conn.execute(
            text("SELECT * FROM registrations WHERE unit_key = :k"), {"k": unit_key}
        )
        return dict(result.mappings().one())


async def test_a_unit_goes_from_application_to_registration_and_the_projection_agrees(
    service: RegistrationService, clock: FixedClock, engine: AsyncEngine
) -> None:
    u = unit(0)
    await register(service, clock, u, "a")
    state, version = await service.unit_state(u.key)
    assert state.status is Status.REGISTERED
    projected = await row(engine, u.key)
    assert projected["status"] == "registered"
    assert projected["registration_number"] == "DV.O236716"
    assert projected["valid_from"] == date(2026, 1, 16)
    assert projected["valid_until"] == date(2031, 1, 15)
    assert projected["pending_deadline"] == date(2031, 1, 15)
    assert projected["deadline_kind"] == "expiry"
    assert projected["stream_version"] == version == 6
    async with engine.connect() as conn:
        audit = (await conn.execute(text("SELECT * FROM audits"))).mappings().one()
        application = (await conn.execute(text("SELECT * FROM applications"))).mappings().one()
        metadata = await conn.scalar(
            text("SELECT metadata FROM events WHERE event_type = 'RegistrationGranted'")
        )
    assert audit["status"] == "reported"
    assert audit["cost_estimate"] == Decimal("3082.40")  # 16 h x EUR 192.65
    assert application["status"] == "granted"
    assert "vlaio-backoffice" in str(metadata)


async def test_numbers_follow_first_registrations_with_one_counter_for_both_types(
    service: RegistrationService, clock: FixedClock, engine: AsyncEngine
) -> None:
    training, advice, other = unit(1), unit(1, ServiceType.ADVICE), unit(2)
    await register(service, clock, training, "t")
    await register(service, clock, advice, "a")
    await register(service, clock, other, "o")
    numbers = [(await row(engine, u.key))["registration_number"] for u in (training, advice, other)]
    assert numbers == ["DV.O236716", "DV.A236717", "DV.O236718"]


async def test_concurrent_decisions_get_unique_contiguous_numbers_in_global_order(
    service: RegistrationService, clock: FixedClock, engine: AsyncEngine
) -> None:
    units = [unit(n) for n in range(6)]
    for n, u in enumerate(units):  # everything up to the decision
        await prepare(service, clock, u, str(n))
    day = clock.now().date()
    await asyncio.gather(
        *(
            service.execute(u.key, RecordDecision(f"app-{n}", True, day), AGENCY)
            for n, u in enumerate(units)
        )
    )
    async with engine.connect() as conn:
        by_order = (
            (
                await conn.execute(
                    text(
                        "SELECT r.registration_serial FROM events e JOIN registrations r"
                        " ON e.stream_id = 'unit:' || r.unit_key"
                        " WHERE e.event_type = 'RegistrationGranted'"
                        " ORDER BY e.transaction_id, e.position"
                    )
                )
            )
            .scalars()
            .all()
        )
    assert by_order == list(range(236716, 236722))  # the global order numbers them


async def test_racing_applications_for_one_unit_never_both_apply(
    service: RegistrationService, engine: AsyncEngine
) -> None:
    u = unit(3)

    async def apply(n: int) -> str:
        try:
            await service.execute(
                u.key,
                SubmitApplication(
                    application_id=f"race-{n}",
                    unit=u,
                    provider_name="Racer",
                    bank_account=BankAccount.parse("BE68539007547034"),
                    activities="Advies",
                    themes=("innovatie",),
                ),
            )
            return "applied"
        except errors.DomainError as refused:
            return refused.code

    results = await asyncio.gather(*(apply(n) for n in range(8)))
    assert Counter(results) == {"applied": 1, "application-already-open": 7}
    async with engine.connect() as conn:
        assert await conn.scalar(text("SELECT count(*) FROM applications")) == 1
        assert (
            await conn.scalar(text("SELECT count(*) FROM events WHERE stream_id LIKE 'unit:%'"))
            == 1
        )


async def test_a_pinned_version_that_moved_on_is_refused(service: RegistrationService) -> None:
    u = unit(4)
    await service.execute(
        u.key,
        SubmitApplication(
            application_id="pin",
            unit=u,
            provider_name="Pinned",
            bank_account=BankAccount.parse("BE68539007547034"),
            activities="Opleiding",
            themes=("duurzaamheid",),
        ),
        expected_version=0,
    )
    with pytest.raises(StaleVersion):
        await service.execute(u.key, RecordSwornDeclaration("pin"), AGENCY, expected_version=0)
    outcome = await service.execute(
        u.key, RecordSwornDeclaration("pin"), AGENCY, expected_version=1
    )
    assert outcome.version == 2


async def test_the_deadline_job_writes_each_event_once_even_when_run_twice_at_once(
    service: RegistrationService, clock: FixedClock, engine: AsyncEngine
) -> None:
    units = [unit(n) for n in range(4)]
    for n, u in enumerate(units):
        await register(service, clock, u, f"d{n}")
    later = clock.now() + timedelta(days=5 * 366)
    first, second = await asyncio.gather(
        run_deadlines(service, later, may_run_ahead=True),
        run_deadlines(service, later, may_run_ahead=True),
    )
    assert first.events["RegistrationExpired"] + second.events["RegistrationExpired"] == 4
    async with engine.connect() as conn:
        expired = await conn.scalar(
            text("SELECT count(*) FROM events WHERE event_type = 'RegistrationExpired'")
        )
        statuses = (
            (await conn.execute(text("SELECT DISTINCT status FROM registrations"))).scalars().all()
        )
    assert expired == 4
    assert statuses == ["expired"]
    again = await run_deadlines(service, later, may_run_ahead=True)
    assert again.units_checked == 0
    assert not again.events
    # and a unit asked directly has nothing left to do
    outcome = await service.execute(units[0].key, ApplyDeadlines(), now=later)
    assert outcome.events == ()


async def test_state_as_of_a_past_instant_is_the_fold_up_to_then(
    service: RegistrationService, clock: FixedClock
) -> None:
    u = unit(5)
    await register(service, clock, u, "asof")
    before_decision = clock.now() - timedelta(seconds=1)
    past, past_version = await service.unit_state(u.key, as_of=before_decision)
    now, now_version = await service.unit_state(u.key)
    assert past.status is Status.AWAITING_DECISION
    assert now.status is Status.REGISTERED
    assert past_version == now_version - 1
    nothing, _ = await service.unit_state(u.key, as_of=START - timedelta(days=1))
    assert nothing.status is Status.NONE


async def test_the_service_runs_the_deadline_job_on_its_own_schedule(
    service: RegistrationService, clock: FixedClock, engine: AsyncEngine
) -> None:
    u = unit(0)
    await register(service, clock, u, "scheduled")
    clock.advance(days=5 * 366)
    job = asyncio.create_task(run_periodically(service, interval_seconds=0.01, may_run_ahead=True))
    try:
        async with asyncio.timeout(10):
            # The state is in the database, not in an in-process event: poll it.
            while (await row(engine, u.key))["status"] != "expired":  # noqa: ASYNC110
                await asyncio.sleep(0.01)
    finally:
        job.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await job
    async with engine.connect() as conn:
        expired = await conn.scalar(
            text("SELECT count(*) FROM events WHERE event_type = 'RegistrationExpired'")
        )
    assert expired == 1  # many runs, one event


async def test_application_and_audit_ids_name_one_thing_across_units(
    service: RegistrationService, clock: FixedClock
) -> None:
    await register(service, clock, unit(0), "x")
    other = unit(1)
    application = SubmitApplication(
        application_id="app-x",  # already unit 0's
        unit=other,
        provider_name="Other",
        bank_account=BankAccount.parse("BE68539007547034"),
        activities="Opleiding",
        themes=("innovatie",),
    )
    with pytest.raises(errors.IdentifierInUse):
        await service.execute(other.key, application)
    await service.execute(other.key, replace(application, application_id="app-y"))
    with pytest.raises(errors.IdentifierInUse):
        await service.execute(other.key, ChooseAuditBureau(audit_id="audit-x", bureau_id=BUREAU_ID))


async def test_a_stop_cancels_the_open_follow_up_audit_in_the_audits_table(
    service: RegistrationService, clock: FixedClock, engine: AsyncEngine
) -> None:
    u = unit(2)
    await prepare_conditional(service, clock, u)
    await service.execute(u.key, ChooseAuditBureau(audit_id="follow-up", bureau_id=BUREAU_ID))
    await service.execute(u.key, StopRegistration(reason="Misbruik"), AGENCY)
    async with engine.connect() as conn:
        status = await conn.scalar(text("SELECT status FROM audits WHERE audit_id = 'follow-up'"))
    assert status == "cancelled"
    assert (await row(engine, u.key))["current_audit_id"] is None


async def prepare_conditional(
    service: RegistrationService, clock: FixedClock, u: RegistrationUnit
) -> None:
    await service.execute(
        u.key,
        SubmitApplication(
            application_id="app-c",
            unit=u,
            provider_name="Conditional",
            bank_account=BankAccount.parse("BE68539007547034"),
            activities="Advies",
            themes=("innovatie",),
        ),
    )
    await service.execute(u.key, RecordSwornDeclaration(application_id="app-c"), AGENCY)
    await service.execute(u.key, ChooseAuditBureau(audit_id="audit-c", bureau_id=BUREAU_ID))
    visit = clock.now().date()
    await service.execute(u.key, PlanAudit("audit-c", BUREAU_ID, visit, Decimal(8)))
    passed = full_report("audit-c", visit)
    verdicts = tuple(
        v.model_copy(update={"met": v.requirement.value != 3}) for v in passed.verdicts
    )
    conditional = replace(
        passed,
        verdicts=verdicts,
        result=AuditResult.CONDITIONALLY_PASSED,
        follow_up_deadline=visit + timedelta(days=270),
    )
    await service.execute(u.key, conditional)
    await service.execute(u.key, RecordDecision("app-c", True, clock.now().date()), AGENCY)
    state, _ = await service.unit_state(u.key)
    assert state.status is Status.REGISTERED_CONDITIONALLY


async def test_the_deadline_job_goes_on_past_a_unit_that_fails(
    service: RegistrationService, clock: FixedClock, engine: AsyncEngine
) -> None:
    broken, healthy = unit(3), unit(4)
    await register(service, clock, broken, "broken")
    await register(service, clock, healthy, "healthy")
    async with engine.begin() as conn:  # a row no code can read: the unit cannot be loaded
        await conn.execute(
            text(
                "INSERT INTO events (event_id, stream_id, stream_type, version, event_type,"
                " schema_version, data) VALUES (gen_random_uuid(), :stream, 'registration-unit',"
                " 7, 'FromTheFuture', 1, '{}')"
            ),
            {"stream": f"unit:{broken.key}"},
        )
    run = await run_deadlines(service, clock.now() + timedelta(days=5 * 366), may_run_ahead=True)
    assert run.failed == [broken.key]
    assert run.events == {"RegistrationExpired": 1}
    assert (await row(engine, healthy.key))["status"] == "expired"
