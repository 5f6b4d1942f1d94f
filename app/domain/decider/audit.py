"""Deciding on audits: choosing the bureau, planning the visit, the bureau's report (and what
it means for a follow-up audit), and the provider's reaction to a failed audit."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from app.domain import errors
from app.domain.decider.application import open_application
from app.domain.decider.context import Context
from app.domain.decider.follow_up import (
    check_follow_up_in_time,
    follow_up_audit_type,
    follow_up_outcome,
)
from app.domain.event import DomainEvent
from app.domain.events import (
    AuditBureauChosen,
    AuditPlanned,
    AuditReportSubmitted,
    AuditResult,
    FailedAuditReactedTo,
    IndicatorScore,
    Track,
    Verdict,
)
from app.domain.norm import NORM_VERSIONS, AuditType, audited_requirements
from app.domain.policies import audit_cost_estimate, hourly_rate_on, reaction_deadline
from app.domain.registration import Audit, UnitState
from app.domain.reports import check_report
from app.domain.visits import check_planning, check_reported_visit

AUDIT_TYPE_OF_TRACK = {
    Track.BASIC: AuditType.BASIC,
    Track.STARTER: AuditType.STARTER,
    Track.RENEWAL: AuditType.RENEWAL,
}


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


def choose_bureau(
    command: ChooseAuditBureau, state: UnitState, day: date, context: Context
) -> list[DomainEvent]:
    if not context.appointed(command.bureau_id, day):
        raise errors.BureauNotAppointed(f"bureau {command.bureau_id} is not appointed today")
    if command.application_id is not None:
        open_application(state, command.application_id)
    registration = state.registration
    if state.application is not None and not command.follow_up:
        if state.application.audit is not None:
            raise errors.AuditAlreadyAssigned(
                f"audit {state.application.audit.audit_id} is assigned already"
            )
        audit_type = AUDIT_TYPE_OF_TRACK[state.application.track]
    elif registration is not None and registration.in_force and registration.follow_up_deadline:
        audit_type = follow_up_audit_type(registration, day)
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


def plan(command: PlanAudit, state: UnitState, day: date, context: Context) -> list[DomainEvent]:
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


def report(
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
        check_follow_up_in_time(registration, day, command.visit_date)
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
        events.append(follow_up_outcome(audit.audit_id, registration, failed=failed, day=day))
    return events


def react(command: ReactToFailedAudit, state: UnitState, day: date) -> list[DomainEvent]:
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
