"""Whole stories driven through the decider: each command's events are folded into the history,
and the unit's status and pending deadlines are checked after every step."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from app.domain.decider import (
    ApplyDeadlines,
    ChooseAuditBureau,
    Command,
    PlanAudit,
    ReactToFailedAudit,
    RecordDecision,
    RecordSwornDeclaration,
)
from app.domain.event import DomainEvent
from app.domain.events import RegistrationKind, Track
from app.domain.norm import AuditType
from app.domain.registration import Deadline, DeadlineKind, Status
from tests.unit.lifecycle import (
    APPLICATION_ID,
    AUDIT_ID,
    BUREAU,
    CONDITIONAL_DEADLINE,
    FOLLOW_UP_AUDIT_ID,
    STARTER_SCOPE,
    apply,
    conditional_report,
    given,
    report,
    when,
)


class Story:
    def __init__(self) -> None:
        self.history: list[DomainEvent] = []

    def step(self, command: Command, day: date) -> list[DomainEvent]:
        events = when(command, given(*self.history), day)
        assert events, f"{command} wrote nothing"
        self.history += events
        return events

    def status(self) -> Status:
        return given(*self.history).status

    def deadlines(self) -> list[Deadline]:
        return given(*self.history).deadlines()


def expiry(day: date) -> Deadline:
    return Deadline(DeadlineKind.EXPIRY, day)


def test_a_newcomer_fails_reacts_passes_renews_and_finally_expires() -> None:
    story = Story()
    assert story.status() is Status.NONE
    story.step(apply(), date(2026, 1, 12))
    assert story.status() is Status.APPLIED
    story.step(RecordSwornDeclaration(APPLICATION_ID), date(2026, 1, 20))
    story.step(ChooseAuditBureau(AUDIT_ID, BUREAU), date(2026, 2, 2))
    assert story.status() is Status.IN_AUDIT
    story.step(PlanAudit(AUDIT_ID, BUREAU, date(2026, 3, 2), Decimal(16)), date(2026, 2, 3))
    assert story.status() is Status.IN_AUDIT
    story.step(report(not_met=[2]), date(2026, 3, 16))
    assert story.status() is Status.AUDIT_FAILED
    assert story.deadlines() == [Deadline(DeadlineKind.REACTION, date(2026, 9, 15))]
    story.step(ReactToFailedAudit(AUDIT_ID, "Ervaring aangevuld"), date(2026, 9, 15))
    assert story.status() is Status.IN_AUDIT
    assert story.deadlines() == []
    story.step(report(report_id="report-2", visit=date(2026, 10, 1)), date(2026, 10, 5))
    assert story.status() is Status.AWAITING_DECISION
    story.step(RecordDecision(APPLICATION_ID, True, date(2026, 10, 20)), date(2026, 10, 21))
    assert story.status() is Status.REGISTERED
    assert story.deadlines() == [expiry(date(2031, 10, 19))]

    story.step(apply(Track.RENEWAL, application_id="a-2"), date(2031, 3, 2))
    story.step(RecordSwornDeclaration("a-2"), date(2031, 3, 3))
    story.step(ChooseAuditBureau("audit-r", BUREAU), date(2031, 3, 4))
    story.step(PlanAudit("audit-r", BUREAU, date(2031, 5, 4), Decimal(12)), date(2031, 3, 5))
    renewal = report(audit_type=AuditType.RENEWAL, audit_id="audit-r", visit=date(2031, 5, 4))
    story.step(renewal, date(2031, 5, 11))
    assert story.status() is Status.REGISTERED  # still in force while renewing
    story.step(RecordDecision("a-2", True, date(2031, 6, 1)), date(2031, 6, 1))
    assert story.status() is Status.REGISTERED
    assert story.deadlines() == [expiry(date(2036, 5, 31))]
    assert when(ApplyDeadlines(), given(*story.history), date(2031, 10, 20)) == []

    story.step(ApplyDeadlines(), date(2036, 6, 1))
    assert story.status() is Status.EXPIRED
    assert story.deadlines() == []


def test_a_conditional_registration_becomes_full_after_its_follow_up() -> None:
    story = Story()
    story.step(apply(), date(2026, 1, 12))
    story.step(RecordSwornDeclaration(APPLICATION_ID), date(2026, 1, 20))
    story.step(ChooseAuditBureau(AUDIT_ID, BUREAU), date(2026, 2, 2))
    story.step(PlanAudit(AUDIT_ID, BUREAU, date(2026, 3, 2), Decimal(16)), date(2026, 2, 3))
    story.step(conditional_report(), date(2026, 3, 16))
    assert story.status() is Status.AWAITING_DECISION
    story.step(RecordDecision(APPLICATION_ID, True, date(2026, 4, 1)), date(2026, 4, 1))
    assert story.status() is Status.REGISTERED_CONDITIONALLY
    assert story.deadlines() == [
        Deadline(DeadlineKind.FOLLOW_UP, CONDITIONAL_DEADLINE),
        expiry(date(2031, 3, 31)),
    ]
    story.step(ChooseAuditBureau(FOLLOW_UP_AUDIT_ID, BUREAU), date(2026, 9, 1))
    assert story.status() is Status.REGISTERED_CONDITIONALLY
    story.step(
        PlanAudit(FOLLOW_UP_AUDIT_ID, BUREAU, date(2026, 10, 5), Decimal(4)), date(2026, 9, 2)
    )
    follow_up = report(
        (3, 5),
        audit_type=AuditType.CONDITIONAL_FOLLOW_UP,
        audit_id=FOLLOW_UP_AUDIT_ID,
        visit=date(2026, 10, 5),
    )
    story.step(follow_up, date(2026, 10, 19))
    assert story.status() is Status.REGISTERED
    assert story.deadlines() == [expiry(date(2031, 3, 31))]
    assert when(ApplyDeadlines(), given(*story.history), date(2026, 12, 3)) == []


def test_a_starter_is_registered_two_years_then_five_after_its_follow_up() -> None:
    story = Story()
    starter = apply(Track.STARTER, activity_started_on=date(2025, 1, 1), dossiers=4)
    story.step(starter, date(2026, 1, 12))
    story.step(RecordSwornDeclaration(APPLICATION_ID), date(2026, 1, 20))
    story.step(ChooseAuditBureau(AUDIT_ID, BUREAU), date(2026, 2, 2))
    story.step(PlanAudit(AUDIT_ID, BUREAU, date(2026, 3, 2), Decimal(8)), date(2026, 2, 3))
    story.step(report(STARTER_SCOPE, audit_type=AuditType.STARTER), date(2026, 3, 16))
    story.step(RecordDecision(APPLICATION_ID, True, date(2026, 4, 1)), date(2026, 4, 1))
    assert story.status() is Status.REGISTERED_STARTER
    assert story.deadlines() == [
        Deadline(DeadlineKind.FOLLOW_UP, date(2028, 3, 31)),
        expiry(date(2028, 3, 31)),
    ]
    story.step(ChooseAuditBureau(FOLLOW_UP_AUDIT_ID, BUREAU), date(2027, 9, 1))
    story.step(
        PlanAudit(FOLLOW_UP_AUDIT_ID, BUREAU, date(2027, 10, 4), Decimal(6)), date(2027, 9, 2)
    )
    follow_up = report(
        (2, 3),
        audit_type=AuditType.STARTER_FOLLOW_UP,
        audit_id=FOLLOW_UP_AUDIT_ID,
        visit=date(2027, 10, 4),
    )
    story.step(follow_up, date(2027, 10, 18))
    assert story.status() is Status.REGISTERED
    assert story.deadlines() == [expiry(date(2031, 3, 31))]
    registration = given(*story.history).registration
    assert registration is not None
    assert registration.kind is RegistrationKind.FULL
