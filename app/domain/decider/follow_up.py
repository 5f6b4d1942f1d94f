"""Follow-up audits: which audit a conditional or starter registration owes, by when, and what
its report means for the registration (full, and for a starter five years from the start)."""

from __future__ import annotations

from datetime import date

from app.domain import errors
from app.domain.event import DomainEvent
from app.domain.events import FollowUpFailed, FollowUpPassed, RegistrationKind
from app.domain.norm import AuditType
from app.domain.policies import starter_extended_valid_until
from app.domain.registration import Registration


def follow_up_audit_type(registration: Registration, day: date) -> AuditType:
    """The follow-up audit a registration owes on ``day``, if no bureau was chosen for it yet
    and its deadline has not passed."""
    if registration.follow_up_audit is not None:
        raise errors.AuditAlreadyAssigned(
            f"follow-up audit {registration.follow_up_audit.audit_id} is assigned already"
        )
    assert registration.follow_up_deadline is not None
    if day > registration.follow_up_deadline:
        raise errors.FollowUpAfterDeadline(
            f"the follow-up had to pass by {registration.follow_up_deadline}"
        )
    return (
        AuditType.STARTER_FOLLOW_UP
        if registration.kind is RegistrationKind.STARTER
        else AuditType.CONDITIONAL_FOLLOW_UP
    )


def check_follow_up_in_time(registration: Registration, day: date, visit_date: date) -> None:
    deadline = registration.follow_up_deadline
    if deadline is not None and (day > deadline or visit_date > deadline):
        raise errors.FollowUpAfterDeadline(f"the follow-up had to pass by {deadline}")


def follow_up_outcome(
    audit_id: str, registration: Registration, *, failed: bool, day: date
) -> DomainEvent:
    """What a follow-up audit's report means for the registration."""
    if failed:
        return FollowUpFailed(audit_id=audit_id, failed_on=day)
    starter = registration.kind is RegistrationKind.STARTER
    valid_until = (
        starter_extended_valid_until(registration.valid_until)
        if starter
        else registration.valid_until
    )
    return FollowUpPassed(
        audit_id=audit_id,
        passed_on=day,
        kind=RegistrationKind.FULL,
        valid_until=valid_until,
    )
