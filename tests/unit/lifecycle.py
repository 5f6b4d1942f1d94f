"""Given/when/then for the registration decider, with no database and no clock.

* ``given(*events)`` folds a unit's history into its state (``registration.fold``);
* ``when(command, state, now)`` runs the decider at an instant (a ``date`` means noon in Brussels);
* ``refused(error, command, state, now)`` asserts the decider refuses with exactly that error.

One story runs through the tests: a provider applies on 2026-01-12, the agency receives its sworn
declaration, it chooses bureau ``bureau-1``, the bureau visits on 2026-03-02 and reports on
2026-03-16, the minister decides on 2026-04-01. The builders below make the events of that story
(complete reports against ``CURRENT_NORM``) so each test states only what it changes.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from app.domain.bureaus import BureauState, evolve_bureau
from app.domain.decider import Command, Context, SubmitApplication, SubmitAuditReport, decide
from app.domain.errors import DomainError
from app.domain.event import DomainEvent
from app.domain.events import (
    ApplicationSubmitted,
    AuditBureauAppointed,
    AuditBureauAppointmentEnded,
    AuditBureauChosen,
    AuditPlanned,
    AuditReportSubmitted,
    AuditResult,
    CertificateHeld,
    IndicatorScore,
    RegistrationGranted,
    RegistrationKind,
    Score,
    SwornDeclarationReceived,
    Track,
    Verdict,
)
from app.domain.identifiers import BankAccount, EnterpriseNumber, RegistrationUnit, ServiceType
from app.domain.norm import CURRENT_NORM, AuditType, ProfessionalBody, Requirement
from app.domain.registration import UnitState, fold

BRUSSELS = ZoneInfo("Europe/Brussels")

# --- who -----------------------------------------------------------------------------------

ENTERPRISE = EnterpriseNumber.parse("0403170701")
UNIT = RegistrationUnit(ENTERPRISE, ServiceType.TRAINING)
ADVICE_UNIT = RegistrationUnit(ENTERPRISE, ServiceType.ADVICE)
BANK_ACCOUNT = BankAccount.parse("BE68539007547034")
PROVIDER_NAME = "Opleidingen Peeters"
THEMES = ("digitalisering", "innovatie")

BUREAU = "bureau-1"  # appointed since 2020, open-ended
OTHER_BUREAU = "bureau-2"  # appointed since 2020, open-ended
RETIRED_BUREAU = "bureau-retired"  # appointed 2020 through 2025-12-31
BUREAU_ENTERPRISE = "0202239951"
RETIRED_BUREAU_ENTERPRISE = "0428750985"
APPLICATION_ID = "application-1"
AUDIT_ID = "audit-1"
REPORT_ID = "report-1"
FOLLOW_UP_AUDIT_ID = "audit-follow-up"

# --- when ----------------------------------------------------------------------------------

APPLIED_ON = date(2026, 1, 12)
DECLARED_ON = date(2026, 1, 20)
CHOSEN_ON = date(2026, 2, 2)
PLANNED_ON = date(2026, 2, 3)
VISIT = date(2026, 3, 2)
REPORTED_ON = date(2026, 3, 16)
REACTION_DEADLINE = date(2026, 9, 15)  # within 6 months of the report
DECIDED_ON = date(2026, 4, 1)
VALID_UNTIL = date(2031, 3, 31)  # 5 years from the decision, last day included
STARTER_VALID_UNTIL = date(2028, 3, 31)  # 2 years from the decision
CONDITIONAL_DEADLINE = date(2026, 12, 2)  # 9 months after the visit, set by the bureau
LACKING = (Requirement.CLIENT_SATISFACTION, Requirement.INTEGRITY)
STARTED_ACTIVITY_ON = date(2025, 1, 1)
FOLLOW_UP_CHOSEN_ON = date(2026, 9, 1)
FOLLOW_UP_VISIT = date(2026, 10, 5)
FOLLOW_UP_REPORTED_ON = date(2026, 10, 19)

RATE_2016, RATE_2024 = Decimal("150.00"), Decimal("192.65")  # hourly audit rates
ALL, STARTER_SCOPE = (1, 2, 3, 4, 5), (1, 4, 5)  # requirements audited


def req(*numbers: int) -> frozenset[Requirement]:
    return frozenset(Requirement(n) for n in numbers)


def on(day: date, hour: int = 12) -> datetime:
    """An aware instant on a Belgian calendar day."""
    return datetime.combine(day, time(hour), tzinfo=BRUSSELS)


# --- the appointed bureaus -----------------------------------------------------------------


def bureau(*events: DomainEvent) -> BureauState:
    state = BureauState()
    for event in events:
        state = evolve_bureau(state, event)
    return state


def appointed(
    bureau_id: str, enterprise: str, since: date, until: date | None = None
) -> AuditBureauAppointed:
    return AuditBureauAppointed(
        bureau_id=bureau_id,
        name=f"Bureau {bureau_id}",
        enterprise_number=enterprise,
        appointed_from=since,
        appointed_until=until,
    )


SINCE_2020 = date(2020, 1, 1)
CONTEXT = Context(
    bureaus={
        BUREAU: bureau(appointed(BUREAU, BUREAU_ENTERPRISE, SINCE_2020)),
        OTHER_BUREAU: bureau(appointed(OTHER_BUREAU, "0417497106", SINCE_2020)),
        RETIRED_BUREAU: bureau(
            appointed(RETIRED_BUREAU, RETIRED_BUREAU_ENTERPRISE, SINCE_2020),
            AuditBureauAppointmentEnded(bureau_id=RETIRED_BUREAU, last_day=date(2025, 12, 31)),
        ),
    }
)


def context_with(bureau_id: str, state: BureauState) -> Context:
    return Context(bureaus={**CONTEXT.bureaus, bureau_id: state})


# --- given, when, then ---------------------------------------------------------------------


def given(*events: DomainEvent) -> UnitState:
    return fold(list(events))


def when(
    command: Command, state: UnitState, now: date | datetime, context: Context = CONTEXT
) -> list[DomainEvent]:
    instant = now if isinstance(now, datetime) else on(now)
    return list(decide(command, state, instant, context))


def refused(
    error: type[DomainError],
    command: Command,
    state: UnitState,
    now: date | datetime,
    context: Context = CONTEXT,
) -> DomainError:
    """Then the command is refused with exactly ``error``; returns it to check its message."""
    with pytest.raises(DomainError) as caught:
        when(command, state, now, context)
    assert type(caught.value) is error, f"{type(caught.value).__name__}: {caught.value.detail}"
    assert caught.value.code == error.code
    return caught.value


# --- commands ------------------------------------------------------------------------------


def apply(
    track: Track = Track.BASIC,
    *,
    unit: RegistrationUnit = UNIT,
    application_id: str = APPLICATION_ID,
    themes: tuple[str, ...] = THEMES,
    certificates: tuple[CertificateHeld, ...] = (),
    professional_body: ProfessionalBody | None = None,
    activity_started_on: date | None = None,
    dossiers: int | None = None,
) -> SubmitApplication:
    return SubmitApplication(
        application_id=application_id,
        unit=unit,
        provider_name=PROVIDER_NAME,
        bank_account=BANK_ACCOUNT,
        activities="Opleidingen over digitale boekhouding",
        themes=themes,
        track=track,
        certificates=certificates,
        professional_body=professional_body,
        activity_started_on=activity_started_on,
        dossiers=dossiers,
    )


def scores_for(requirements: Iterable[int]) -> tuple[IndicatorScore, ...]:
    """Both scores of every indicator of these requirements in the current norm."""
    wanted = req(*requirements)
    return tuple(
        IndicatorScore(indicator=i.code, conformity=Score.T, demonstrability=Score.V)
        for i in CURRENT_NORM.indicators
        if i.requirement in wanted
    )


def report(
    audited: Iterable[int] = ALL,
    *,
    audit_type: AuditType = AuditType.BASIC,
    not_met: Iterable[int] = (),
    result: AuditResult | None = None,
    follow_up_deadline: date | None = None,
    audit_id: str = AUDIT_ID,
    report_id: str = REPORT_ID,
    bureau_id: str = BUREAU,
    visit: date = VISIT,
) -> SubmitAuditReport:
    """A complete report on ``audited``; the result follows the verdicts unless given."""
    audited, lacking = req(*audited), req(*not_met)
    if result is None:
        result = AuditResult.FAILED if lacking else AuditResult.PASSED
    return SubmitAuditReport(
        audit_id=audit_id,
        report_id=report_id,
        bureau_id=bureau_id,
        audit_type=audit_type,
        visit_date=visit,
        scores=scores_for(audited),
        verdicts=tuple(Verdict(requirement=r, met=r not in lacking) for r in sorted(audited)),
        result=result,
        follow_up_deadline=follow_up_deadline,
    )


def conditional_report(follow_up_deadline: date | None = CONDITIONAL_DEADLINE) -> SubmitAuditReport:
    """A basic audit passed on condition: requirements 3 and 5 lacking."""
    conditional = AuditResult.CONDITIONALLY_PASSED
    return report(not_met=LACKING, result=conditional, follow_up_deadline=follow_up_deadline)


# --- events --------------------------------------------------------------------------------


def application_submitted(
    track: Track = Track.BASIC, *, submitted_on: date = APPLIED_ON, **fields: Any
) -> ApplicationSubmitted:
    """The event of ``apply(track, **fields)`` accepted on ``submitted_on``."""
    command = apply(track, **fields)
    return ApplicationSubmitted(
        application_id=command.application_id,
        enterprise_number=str(command.unit.enterprise_number),
        department=command.unit.department,
        service_type=command.unit.service_type,
        provider_name=command.provider_name,
        bank_account=str(command.bank_account),
        activities=command.activities,
        themes=command.themes,
        track=track,
        certificates=command.certificates,
        professional_body=command.professional_body,
        activity_started_on=command.activity_started_on,
        dossiers=command.dossiers,
        submitted_on=submitted_on,
    )


def declared(
    received_on: date = DECLARED_ON, application_id: str = APPLICATION_ID
) -> SwornDeclarationReceived:
    return SwornDeclarationReceived(application_id=application_id, received_on=received_on)


def chosen(
    audit_type: AuditType = AuditType.BASIC,
    *,
    audit_id: str = AUDIT_ID,
    bureau_id: str = BUREAU,
    chosen_on: date = CHOSEN_ON,
) -> AuditBureauChosen:
    return AuditBureauChosen(
        audit_id=audit_id, bureau_id=bureau_id, audit_type=audit_type, chosen_on=chosen_on
    )


def planned(
    *,
    audit_id: str = AUDIT_ID,
    bureau_id: str = BUREAU,
    visit: date = VISIT,
    hours: Decimal = Decimal("16"),
) -> AuditPlanned:
    rate = RATE_2024 if visit >= date(2024, 1, 1) else RATE_2016
    return AuditPlanned(
        audit_id=audit_id,
        bureau_id=bureau_id,
        visit_date=visit,
        planned_hours=hours,
        hourly_rate=rate,
        cost_estimate=(hours * rate).quantize(Decimal("0.01")),
    )


def reported(
    command: SubmitAuditReport,
    *,
    submitted_on: date = REPORTED_ON,
    reaction_deadline: date | None = None,
) -> AuditReportSubmitted:
    """The event a report command records when accepted."""
    return AuditReportSubmitted(
        audit_id=command.audit_id,
        report_id=command.report_id,
        bureau_id=command.bureau_id,
        audit_type=command.audit_type,
        norm_version=command.norm_version,
        visit_date=command.visit_date,
        scores=command.scores,
        verdicts=command.verdicts,
        result=command.result,
        follow_up_deadline=command.follow_up_deadline,
        reaction_deadline=reaction_deadline,
        submitted_on=submitted_on,
    )


def granted(
    kind: RegistrationKind = RegistrationKind.FULL,
    *,
    decision_date: date = DECIDED_ON,
    valid_until: date = VALID_UNTIL,
    follow_up_deadline: date | None = None,
    renewal: bool = False,
    application_id: str = APPLICATION_ID,
) -> RegistrationGranted:
    return RegistrationGranted(
        application_id=application_id,
        decision_date=decision_date,
        kind=kind,
        valid_from=decision_date,
        valid_until=valid_until,
        follow_up_deadline=follow_up_deadline,
        renewal=renewal,
    )


# --- histories -----------------------------------------------------------------------------


def in_audit(
    track: Track = Track.BASIC, *, declaration: bool = True, **fields: Any
) -> list[DomainEvent]:
    """Applied (with the sworn declaration), bureau chosen, audit planned: a report is due.
    ``fields`` are the application's (``unit``, ``certificates``, ``professional_body``)."""
    if track is Track.STARTER:
        fields = {"activity_started_on": STARTED_ACTIVITY_ON, "dossiers": 5, **fields}
    declaration_received = [declared()] if declaration else []
    return [
        application_submitted(track, **fields),
        *declaration_received,
        chosen(AuditType(track.value)),
        planned(),
    ]


def failed() -> list[DomainEvent]:
    """A basic audit that failed on requirement 3; the provider has not reacted."""
    return [*in_audit(), reported(report(not_met=[3]), reaction_deadline=REACTION_DEADLINE)]


def registered(kind: RegistrationKind = RegistrationKind.FULL) -> list[DomainEvent]:
    """The story up to the minister's positive decision of 2026-04-01."""
    if kind is RegistrationKind.STARTER:
        return [
            *in_audit(Track.STARTER),
            reported(report(STARTER_SCOPE, audit_type=AuditType.STARTER)),
            granted(kind, valid_until=STARTER_VALID_UNTIL, follow_up_deadline=STARTER_VALID_UNTIL),
        ]
    if kind is RegistrationKind.CONDITIONAL:
        return [
            *in_audit(),
            reported(conditional_report()),
            granted(kind, follow_up_deadline=CONDITIONAL_DEADLINE),
        ]
    return [*in_audit(), reported(report()), granted()]


def follow_up_planned(kind: RegistrationKind) -> list[DomainEvent]:
    """A conditional or starter registration whose follow-up audit is planned."""
    starter = kind is RegistrationKind.STARTER
    audit_type = AuditType.STARTER_FOLLOW_UP if starter else AuditType.CONDITIONAL_FOLLOW_UP
    return [
        *registered(kind),
        chosen(audit_type, audit_id=FOLLOW_UP_AUDIT_ID, chosen_on=FOLLOW_UP_CHOSEN_ON),
        planned(audit_id=FOLLOW_UP_AUDIT_ID, visit=FOLLOW_UP_VISIT),
    ]
