"""Deciding on a registration: the minister's decision on an application (granted, on which
terms, or refused) and the agency stopping a registration in force."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from app.domain import errors
from app.domain.decider.application import open_application
from app.domain.event import DomainEvent
from app.domain.events import (
    ApplicationRefused,
    AuditResult,
    RegistrationGranted,
    RegistrationKind,
    RegistrationStopped,
    Track,
)
from app.domain.norm import AuditType
from app.domain.policies import registration_valid_until, starter_follow_up_deadline
from app.domain.registration import UnitState


@dataclass(frozen=True, slots=True)
class RecordDecision:
    application_id: str
    granted: bool
    decision_date: date
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class StopRegistration:
    reason: str


def decision(command: RecordDecision, state: UnitState, day: date) -> list[DomainEvent]:
    open_application(state, command.application_id)
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


def stop(command: StopRegistration, state: UnitState, day: date) -> list[DomainEvent]:
    if not state.in_force:
        raise errors.NotRegistered("only a registration in force can be stopped")
    if not command.reason.strip():
        raise errors.InvalidCommand("stopping a registration needs a reason")
    return [RegistrationStopped(reason=command.reason.strip(), stopped_on=day)]
