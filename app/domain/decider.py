"""The registration decider: ``decide(command, state, now, context) -> events``.

Pure: the state comes folded from the unit's events (``registration.evolve``), the time comes
in as ``now``, and what lives in other streams (the appointed audit bureaus) or in settings
(starter criteria, hourly rates) comes in as ``context``. Each refusal is a named error of
``app.domain.errors``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from app.domain import errors
from app.domain.bureaus import BureauState
from app.domain.event import DomainEvent
from app.domain.events import (
    ApplicationRefused,
    ApplicationRefusedForNoReaction,
    ApplicationSubmitted,
    AuditBureauChosen,
    AuditPlanned,
    AuditReportSubmitted,
    AuditResult,
    CertificateHeld,
    FailedAuditReactedTo,
    FollowUpFailed,
    FollowUpMissed,
    FollowUpPassed,
    IndicatorScore,
    RegistrationExpired,
    RegistrationGranted,
    RegistrationKind,
    RegistrationStopped,
    SwornDeclarationReceived,
    Track,
    Verdict,
)
from app.domain.identifiers import BankAccount, RegistrationUnit
from app.domain.norm import (
    NORM_VERSIONS,
    AuditType,
    ProfessionalBody,
    audited_requirements,
)
from app.domain.policies import (
    ELIGIBLE_THEMES,
    HOURLY_RATES,
    HourlyRate,
    StarterCriteria,
    audit_cost_estimate,
    hourly_rate_on,
    reaction_deadline,
    registration_valid_until,
    starter_extended_valid_until,
    starter_follow_up_deadline,
    today,
)
from app.domain.registration import Audit, Deadline, DeadlineKind, UnitState, evolve
from app.domain.reports import check_report
from app.domain.visits import check_planning, check_reported_visit

AUDIT_TYPE_OF_TRACK = {
    Track.BASIC: AuditType.BASIC,
    Track.STARTER: AuditType.STARTER,
    Track.RENEWAL: AuditType.RENEWAL,
}


@dataclass(frozen=True, slots=True)
class Context:
    bureaus: Mapping[str, BureauState] = field(default_factory=dict)
    starter_criteria: StarterCriteria = field(default_factory=StarterCriteria)
    hourly_rates: tuple[HourlyRate, ...] = HOURLY_RATES

    def appointed(self, bureau_id: str, day: date) -> bool:
        bureau = self.bureaus.get(bureau_id)
        return bureau is not None and bureau.appointed_on(day)

    def is_appointed_bureau(self, enterprise_number: str, day: date) -> bool:
        return any(
            b.enterprise_number == enterprise_number and b.appointed_on(day)
            for b in self.bureaus.values()
        )


# --- commands ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SubmitApplication:
    application_id: str
    unit: RegistrationUnit
    provider_name: str
    bank_account: BankAccount
    activities: str
    themes: tuple[str, ...]
    track: Track = Track.BASIC
    certificates: tuple[CertificateHeld, ...] = ()
    professional_body: ProfessionalBody | None = None
    activity_started_on: date | None = None
    dossiers: int | None = None


@dataclass(frozen=True, slots=True)
class RecordSwornDeclaration:
    application_id: str
    received_on: date | None = None  # default: today


@dataclass(frozen=True, slots=True)
class ChooseAuditBureau:
    """Assign an audit to an appointed bureau: for the open application, or for the follow-up
    of a registration. ``application_id`` or ``follow_up`` says which the provider means; with
    neither, the open application goes first."""

    audit_id: str
    bureau_id: str
    application_id: str | None = None
    follow_up: bool = False


@dataclass(frozen=True, slots=True)
class PlanAudit:
    audit_id: str
    bureau_id: str  # the bureau acting
    visit_date: date
    planned_hours: Decimal


@dataclass(frozen=True, slots=True)
class SubmitAuditReport:
    audit_id: str
    report_id: str
    bureau_id: str  # the bureau acting
    audit_type: AuditType
    visit_date: date
    scores: tuple[IndicatorScore, ...]
    verdicts: tuple[Verdict, ...]
    result: AuditResult
    follow_up_deadline: date | None = None
    norm_version: str = "2019"


@dataclass(frozen=True, slots=True)
class ReactToFailedAudit:
    audit_id: str
    reaction: str


@dataclass(frozen=True, slots=True)
class RecordDecision:
    application_id: str
    granted: bool
    decision_date: date
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class StopRegistration:
    reason: str


@dataclass(frozen=True, slots=True)
class ApplyDeadlines:
    """Emit what the deadlines passed by ``now`` demand (the deadline job, per unit)."""


Command = (
    SubmitApplication
    | RecordSwornDeclaration
    | ChooseAuditBureau
    | PlanAudit
    | SubmitAuditReport
    | ReactToFailedAudit
    | RecordDecision
    | StopRegistration
    | ApplyDeadlines
)


# --- decide ------------------------------------------------------------------------------


def decide(
    command: Command, state: UnitState, now: datetime, context: Context | None = None
) -> Sequence[DomainEvent]:
    context = context or Context()
    day = today(now)
    if isinstance(command, ApplyDeadlines):
        return _deadlines(state, day)
    # A deadline that passed decides first, even if the deadline job has not run yet: a
    # registration that expired yesterday cannot be stopped or renewed today. Its events are
    # written with the command's.
    due = _deadlines(state, day)
    after = state
    for event in due:
        after = evolve(after, event)
    try:
        return [*due, *_decide(command, after, day, context)]
    except errors.DomainError:
        if due:
            _refuse_as_too_late(command, state, day, context)
        raise


_TOO_LATE = (errors.ReactionTooLate, errors.FollowUpAfterDeadline)


def _refuse_as_too_late(command: Command, state: UnitState, day: date, context: Context) -> None:
    """When a passed deadline is why a command fails, say so: "the reaction was due by ..."
    tells more than "there is no failed audit" (which is what the state after it says)."""
    try:
        _decide(command, state, day, context)
    except _TOO_LATE:
        raise
    except errors.DomainError:
        pass


def _decide(command: Command, state: UnitState, day: date, context: Context) -> list[DomainEvent]:
    match command:
        case SubmitApplication():
            return _submit(command, state, day, context)
        case RecordSwornDeclaration():
            return _sworn_declaration(command, state, day)
        case ChooseAuditBureau():
            return _choose_bureau(command, state, day, context)
        case PlanAudit():
            return _plan(command, state, day, context)
        case SubmitAuditReport():
            return _report(command, state, day, context)
        case ReactToFailedAudit():
            return _react(command, state, day)
        case RecordDecision():
            return _decision(command, state, day)
        case StopRegistration():
            if not state.in_force:
                raise errors.NotRegistered("only a registration in force can be stopped")
            if not command.reason.strip():
                raise errors.InvalidCommand("stopping a registration needs a reason")
            return [RegistrationStopped(reason=command.reason.strip(), stopped_on=day)]
        case ApplyDeadlines():
            return []


def _submit(
    command: SubmitApplication, state: UnitState, day: date, context: Context
) -> list[DomainEvent]:
    if state.application is not None:
        raise errors.ApplicationAlreadyOpen(
            f"application {state.application.application_id} for this unit is still open"
        )
    if state.in_force and command.track is not Track.RENEWAL:
        raise errors.UnitAlreadyRegistered("this unit is registered; it can only apply for renewal")
    if command.track is Track.RENEWAL and not state.in_force:
        raise errors.NotRegistered("only a registered unit can apply for renewal")
    enterprise = str(command.unit.enterprise_number)
    if context.is_appointed_bureau(enterprise, day):
        raise errors.ApplicantIsAuditBureau(
            f"enterprise {enterprise} is an appointed audit bureau and cannot apply"
        )
    _check_application_data(command, day, context)
    return [
        ApplicationSubmitted(
            application_id=command.application_id,
            enterprise_number=enterprise,
            department=command.unit.department,
            service_type=command.unit.service_type,
            provider_name=command.provider_name.strip(),
            bank_account=str(command.bank_account),
            activities=command.activities.strip(),
            themes=tuple(sorted(set(command.themes))),
            track=command.track,
            certificates=command.certificates,
            professional_body=command.professional_body,
            activity_started_on=command.activity_started_on,
            dossiers=command.dossiers,
            submitted_on=day,
        )
    ]


def _check_application_data(command: SubmitApplication, day: date, context: Context) -> None:
    if not command.provider_name.strip():
        raise errors.InvalidCommand("the provider's name is required")
    if not command.activities.strip():
        raise errors.InvalidCommand("the activities must be described")
    if not command.themes:
        raise errors.InvalidCommand("at least one theme is required")
    unknown = sorted(set(command.themes) - ELIGIBLE_THEMES)
    if unknown:
        raise errors.InvalidCommand(f"themes not eligible: {', '.join(unknown)}")
    if command.track is Track.STARTER:
        started, dossiers = command.activity_started_on, command.dossiers
        if started is None or dossiers is None:
            raise errors.NotAStarter(
                "the starter track needs the start date of the activity and the number of dossiers"
            )
        if started > day or dossiers < 0:
            raise errors.InvalidCommand(
                "the activity's start date cannot be in the future nor the dossiers negative"
            )
        if not context.starter_criteria.is_starter(started, dossiers, day):
            criteria = context.starter_criteria
            raise errors.NotAStarter(
                f"a starter is active less than {criteria.max_years_active} years "
                f"{criteria.rule.value} has fewer than {criteria.max_dossiers} dossiers"
            )


def _open_application(state: UnitState, application_id: str) -> None:
    if state.application is None or state.application.application_id != application_id:
        raise errors.NoOpenApplication(f"application {application_id} is not open")


def _sworn_declaration(
    command: RecordSwornDeclaration, state: UnitState, day: date
) -> list[DomainEvent]:
    _open_application(state, command.application_id)
    assert state.application is not None
    if state.application.sworn_declaration_on is not None:
        raise errors.SwornDeclarationAlreadyReceived(
            f"received on {state.application.sworn_declaration_on}"
        )
    received_on = command.received_on or day
    if received_on > day or received_on < state.application.submitted_on:
        raise errors.InvalidCommand(
            "the sworn declaration is received between the application and today"
        )
    return [
        SwornDeclarationReceived(application_id=command.application_id, received_on=received_on)
    ]


def _choose_bureau(
    command: ChooseAuditBureau, state: UnitState, day: date, context: Context
) -> list[DomainEvent]:
    if not context.appointed(command.bureau_id, day):
        raise errors.BureauNotAppointed(f"bureau {command.bureau_id} is not appointed today")
    if command.application_id is not None:
        _open_application(state, command.application_id)
    registration = state.registration
    if state.application is not None and not command.follow_up:
        if state.application.audit is not None:
            raise errors.AuditAlreadyAssigned(
                f"audit {state.application.audit.audit_id} is assigned already"
            )
        audit_type = AUDIT_TYPE_OF_TRACK[state.application.track]
    elif registration is not None and registration.in_force and registration.follow_up_deadline:
        if registration.follow_up_audit is not None:
            raise errors.AuditAlreadyAssigned(
                f"follow-up audit {registration.follow_up_audit.audit_id} is assigned already"
            )
        if day > registration.follow_up_deadline:
            raise errors.FollowUpAfterDeadline(
                f"the follow-up had to pass by {registration.follow_up_deadline}"
            )
        audit_type = (
            AuditType.STARTER_FOLLOW_UP
            if registration.kind is RegistrationKind.STARTER
            else AuditType.CONDITIONAL_FOLLOW_UP
        )
    elif command.follow_up:
        raise errors.NoFollowUpDue("this unit has no follow-up audit to choose a bureau for")
    else:
        raise errors.NoOpenApplication("there is no open application or follow-up to audit")
    return [
        AuditBureauChosen(
            audit_id=command.audit_id,
            bureau_id=command.bureau_id,
            audit_type=audit_type,
            chosen_on=day,
        )
    ]


def _bureaus_audit(state: UnitState, audit_id: str, bureau_id: str) -> Audit:
    audit = state.audit(audit_id)
    if audit is None:
        raise errors.NoAuditAssigned(f"audit {audit_id} is not open for this unit")
    if audit.bureau_id != bureau_id:
        raise errors.AuditNotAssignedToBureau(f"audit {audit_id} is not assigned to {bureau_id}")
    return audit


def _plan(command: PlanAudit, state: UnitState, day: date, context: Context) -> list[DomainEvent]:
    audit = _bureaus_audit(state, command.audit_id, command.bureau_id)
    if not audit.awaits_report:
        raise errors.ReportNotExpected(f"audit {audit.audit_id} is reported already")
    if command.planned_hours <= 0:
        raise errors.InvalidCommand("planned hours must be positive")
    check_planning(audit, context.bureaus.get(command.bureau_id), day, command.visit_date)
    try:
        rate = hourly_rate_on(command.visit_date, context.hourly_rates)
    except ValueError as exc:
        raise errors.InvalidCommand(str(exc)) from exc
    return [
        AuditPlanned(
            audit_id=audit.audit_id,
            bureau_id=command.bureau_id,
            visit_date=command.visit_date,
            planned_hours=command.planned_hours,
            hourly_rate=rate,
            cost_estimate=audit_cost_estimate(
                command.planned_hours, command.visit_date, context.hourly_rates
            ),
        )
    ]


def _report(
    command: SubmitAuditReport, state: UnitState, day: date, context: Context
) -> list[DomainEvent]:
    audit = _bureaus_audit(state, command.audit_id, command.bureau_id)
    follow_up = state.application is None or state.application.audit is not audit
    if not follow_up:
        assert state.application is not None
        if state.application.sworn_declaration_on is None:
            raise errors.SwornDeclarationMissing(
                "no audit report is accepted before the sworn declaration is received"
            )
    if audit.visit_date is None:
        raise errors.AuditNotPlanned(f"audit {audit.audit_id} has not been planned")
    if not audit.awaits_report:
        raise errors.ReportNotExpected(
            f"audit {audit.audit_id} is reported already; a new report follows a reaction"
        )
    if command.audit_type is not audit.audit_type:
        raise errors.ReportInconsistent(
            f"this is a {audit.audit_type.value} audit, not {command.audit_type.value}"
        )
    if command.visit_date > day:
        raise errors.InvalidCommand("the audit visit cannot be in the future")
    check_reported_visit(audit, context.bureaus.get(command.bureau_id), day, command.visit_date)
    registration = state.registration
    if follow_up:
        assert registration is not None
        deadline = registration.follow_up_deadline
        if deadline is not None and (day > deadline or command.visit_date > deadline):
            raise errors.FollowUpAfterDeadline(f"the follow-up had to pass by {deadline}")
    norm = NORM_VERSIONS.get(command.norm_version)
    if norm is None:
        raise errors.ReportInconsistent(f"unknown kmop-norm version {command.norm_version!r}")
    assert state.unit is not None
    audited = audited_requirements(
        audit.audit_type,
        state.unit.service_type,
        state.exemptions,
        command.visit_date,
        lacking=registration.lacking if registration is not None else frozenset(),
    )
    check_report(
        norm=norm,
        audited=audited,
        scores=command.scores,
        verdicts=command.verdicts,
        result=command.result,
        visit_date=command.visit_date,
        follow_up_deadline=command.follow_up_deadline,
        follow_up_audit=follow_up,
    )
    failed = command.result is AuditResult.FAILED
    events: list[DomainEvent] = [
        AuditReportSubmitted(
            audit_id=audit.audit_id,
            report_id=command.report_id,
            bureau_id=command.bureau_id,
            audit_type=command.audit_type,
            norm_version=norm.version,
            visit_date=command.visit_date,
            scores=command.scores,
            verdicts=command.verdicts,
            result=command.result,
            follow_up_deadline=command.follow_up_deadline,
            reaction_deadline=reaction_deadline(day) if failed and not follow_up else None,
            submitted_on=day,
        )
    ]
    if follow_up:
        assert registration is not None
        if failed:
            events.append(FollowUpFailed(audit_id=audit.audit_id, failed_on=day))
        else:
            starter = registration.kind is RegistrationKind.STARTER
            valid_until = (
                starter_extended_valid_until(registration.valid_until)
                if starter
                else registration.valid_until
            )
            events.append(
                FollowUpPassed(
                    audit_id=audit.audit_id,
                    passed_on=day,
                    kind=RegistrationKind.FULL,
                    valid_until=valid_until,
                )
            )
    return events


def _react(command: ReactToFailedAudit, state: UnitState, day: date) -> list[DomainEvent]:
    audit = state.application.audit if state.application else None
    if audit is None or audit.audit_id != command.audit_id or not audit.failed_without_reaction:
        raise errors.NoFailedAudit(f"audit {command.audit_id} has no failed report to react to")
    assert audit.report is not None
    assert audit.report.reaction_deadline is not None
    if day > audit.report.reaction_deadline:
        raise errors.ReactionTooLate(f"the reaction was due by {audit.report.reaction_deadline}")
    if not command.reaction.strip():
        raise errors.InvalidCommand("the reaction must say something")
    return [
        FailedAuditReactedTo(
            audit_id=audit.audit_id, reacted_on=day, reaction=command.reaction.strip()
        )
    ]


def _decision(command: RecordDecision, state: UnitState, day: date) -> list[DomainEvent]:
    _open_application(state, command.application_id)
    application = state.application
    assert application is not None
    audit = application.audit
    if audit is None or audit.report is None or audit.awaits_report:
        raise errors.DecisionWithoutReport("the decision rests on an audit report; none is in")
    report = audit.report
    if command.decision_date > day or command.decision_date < report.submitted_on:
        raise errors.InvalidCommand(
            f"the decision date lies between the report ({report.submitted_on}) and today"
        )
    if not command.granted:
        return [
            ApplicationRefused(
                application_id=application.application_id,
                decision_date=command.decision_date,
                reason=command.reason,
            )
        ]
    if report.result is AuditResult.FAILED:
        raise errors.DecisionContradictsReport("the audit failed: registration cannot be granted")
    if application.track is Track.RENEWAL and not state.in_force:
        raise errors.NotRegistered(
            "the registration this renewal was for is no longer in force (stopped or expired): "
            "refuse the renewal; the provider applies anew"
        )
    starter = report.audit_type is AuditType.STARTER
    if report.result is AuditResult.CONDITIONALLY_PASSED:
        kind, follow_up = RegistrationKind.CONDITIONAL, report.follow_up_deadline
    elif starter:
        kind, follow_up = (
            RegistrationKind.STARTER,
            starter_follow_up_deadline(command.decision_date),
        )
    else:
        kind, follow_up = RegistrationKind.FULL, None
    return [
        RegistrationGranted(
            application_id=application.application_id,
            decision_date=command.decision_date,
            kind=kind,
            valid_from=command.decision_date,
            valid_until=registration_valid_until(command.decision_date, starter=starter),
            follow_up_deadline=follow_up,
            renewal=application.track is Track.RENEWAL,
        )
    ]


def _deadlines(state: UnitState, day: date) -> list[DomainEvent]:
    return [event for _, event in passed_deadlines(state, day)]


def passed_deadlines(state: UnitState, day: date) -> list[tuple[Deadline, DomainEvent]]:
    """Every deadline passed by ``day``, earliest first, with the event it demands on ``day``;
    each event may end what a later deadline was about (a missed follow-up ends the
    registration, so it does not also expire). What the deadline job writes, and what its
    preview lists."""
    found: list[tuple[Deadline, DomainEvent]] = []
    while (due := _first_due(state, day)) is not None:
        found.append(due)
        state = evolve(state, due[1])
    return found


def _first_due(state: UnitState, day: date) -> tuple[Deadline, DomainEvent] | None:
    due = [deadline for deadline in state.deadlines() if day > deadline.last_day]
    if not due:
        return None
    deadline = due[0]
    match deadline.kind:
        case DeadlineKind.FOLLOW_UP:
            return deadline, FollowUpMissed(deadline=deadline.last_day, missed_on=day)
        case DeadlineKind.EXPIRY:
            return deadline, RegistrationExpired(valid_until=deadline.last_day, expired_on=day)
        case DeadlineKind.REACTION:
            assert state.application is not None
            return deadline, ApplicationRefusedForNoReaction(
                application_id=state.application.application_id,
                reaction_deadline=deadline.last_day,
                refused_on=day,
            )
