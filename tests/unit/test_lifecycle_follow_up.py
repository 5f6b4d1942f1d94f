"""Follow-up audits of conditional and starter registrations (DOMAIN.md "Time rules")."""

from __future__ import annotations

from datetime import date

import pytest

from app.domain import errors
from app.domain.decider import ChooseAuditBureau, PlanAudit, SubmitAuditReport
from app.domain.event import DomainEvent
from app.domain.events import (
    AuditResult,
    FollowUpFailed,
    FollowUpPassed,
    RegistrationKind,
)
from app.domain.norm import AuditType
from app.domain.registration import Deadline, DeadlineKind, EndReason, Status
from tests.unit.lifecycle import (
    BUREAU,
    CONDITIONAL_DEADLINE,
    FOLLOW_UP_AUDIT_ID,
    FOLLOW_UP_CHOSEN_ON,
    FOLLOW_UP_REPORTED_ON,
    FOLLOW_UP_VISIT,
    OTHER_BUREAU,
    STARTER_VALID_UNTIL,
    VALID_UNTIL,
    chosen,
    follow_up_planned,
    given,
    granted,
    in_audit,
    planned,
    refused,
    registered,
    report,
    reported,
    when,
)

CONDITIONAL = RegistrationKind.CONDITIONAL
STARTER = RegistrationKind.STARTER


def follow_up_report(
    audited: tuple[int, ...],
    kind: RegistrationKind = CONDITIONAL,
    *,
    not_met: tuple[int, ...] = (),
    visit: date = FOLLOW_UP_VISIT,
) -> SubmitAuditReport:
    return report(
        audited,
        audit_type=(
            AuditType.STARTER_FOLLOW_UP if kind is STARTER else AuditType.CONDITIONAL_FOLLOW_UP
        ),
        audit_id=FOLLOW_UP_AUDIT_ID,
        report_id="report-f",
        not_met=not_met,
        visit=visit,
    )


# --- choosing the follow-up bureau -----------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "audit_type"),
    [(CONDITIONAL, AuditType.CONDITIONAL_FOLLOW_UP), (STARTER, AuditType.STARTER_FOLLOW_UP)],
)
def test_the_follow_up_audit_type_follows_the_registration(
    kind: RegistrationKind, audit_type: AuditType
) -> None:
    command = ChooseAuditBureau(FOLLOW_UP_AUDIT_ID, BUREAU)
    assert when(command, given(*registered(kind)), FOLLOW_UP_CHOSEN_ON) == [
        chosen(audit_type, audit_id=FOLLOW_UP_AUDIT_ID, chosen_on=FOLLOW_UP_CHOSEN_ON)
    ]


def test_a_follow_up_bureau_is_chosen_by_the_deadline_at_the_latest() -> None:
    state = given(*registered(CONDITIONAL))
    command = ChooseAuditBureau(FOLLOW_UP_AUDIT_ID, BUREAU)
    assert when(command, state, CONDITIONAL_DEADLINE) != []
    error = refused(errors.FollowUpAfterDeadline, command, state, date(2026, 12, 3))
    assert str(CONDITIONAL_DEADLINE) in error.detail


def test_one_follow_up_audit_at_a_time() -> None:
    state = given(*follow_up_planned(CONDITIONAL))
    command = ChooseAuditBureau("audit-x", OTHER_BUREAU)
    refused(errors.AuditAlreadyAssigned, command, state, FOLLOW_UP_REPORTED_ON)


def test_the_follow_up_is_planned_like_any_audit() -> None:
    state = given(*registered(STARTER), chosen(AuditType.STARTER_FOLLOW_UP, audit_id="f"))
    command = PlanAudit(
        "f", BUREAU, visit_date=date(2027, 5, 3), planned_hours=planned().planned_hours
    )
    assert when(command, state, date(2027, 4, 1)) == [planned(audit_id="f", visit=date(2027, 5, 3))]


# --- the conditional follow-up ---------------------------------------------------------------


def test_a_passed_conditional_follow_up_makes_the_registration_full_with_the_same_end() -> None:
    command = follow_up_report((3, 5))
    assert when(command, given(*follow_up_planned(CONDITIONAL)), FOLLOW_UP_REPORTED_ON) == [
        reported(command, submitted_on=FOLLOW_UP_REPORTED_ON),
        FollowUpPassed(
            audit_id=FOLLOW_UP_AUDIT_ID,
            passed_on=FOLLOW_UP_REPORTED_ON,
            kind=RegistrationKind.FULL,
            valid_until=VALID_UNTIL,
        ),
    ]


def test_after_the_follow_up_passed_the_registration_is_unconditional() -> None:
    command = follow_up_report((3, 5))
    history = follow_up_planned(CONDITIONAL)
    state = given(*history, *when(command, given(*history), FOLLOW_UP_REPORTED_ON))
    assert state.status is Status.REGISTERED
    assert state.deadlines() == [Deadline(DeadlineKind.EXPIRY, VALID_UNTIL)]
    assert state.registration is not None
    assert state.registration.lacking == frozenset()
    again = ChooseAuditBureau("audit-x", BUREAU)
    refused(errors.NoOpenApplication, again, state, date(2026, 11, 2))


def conditional_on(*lacking: int) -> list[DomainEvent]:
    conditional = report(
        not_met=lacking,
        result=AuditResult.CONDITIONALLY_PASSED,
        follow_up_deadline=CONDITIONAL_DEADLINE,
    )
    return [
        *in_audit(),
        reported(conditional),
        granted(CONDITIONAL, follow_up_deadline=CONDITIONAL_DEADLINE),
        chosen(AuditType.CONDITIONAL_FOLLOW_UP, audit_id=FOLLOW_UP_AUDIT_ID),
        planned(audit_id=FOLLOW_UP_AUDIT_ID, visit=FOLLOW_UP_VISIT),
    ]


@pytest.mark.parametrize("lacking", [(1,), (2, 4), (1, 2, 3, 4, 5)])
def test_the_conditional_follow_up_audits_exactly_what_was_lacking(
    lacking: tuple[int, ...],
) -> None:
    state = given(*conditional_on(*lacking))
    events = when(follow_up_report(lacking), state, FOLLOW_UP_REPORTED_ON)
    assert isinstance(events[-1], FollowUpPassed)
    if len(lacking) < 5:
        everything = follow_up_report((1, 2, 3, 4, 5))
        error = refused(errors.ReportInconsistent, everything, state, FOLLOW_UP_REPORTED_ON)
        assert "does not cover" in error.detail


def test_a_failed_conditional_follow_up_ends_the_registration() -> None:
    command = follow_up_report((3, 5), not_met=(5,))
    history = follow_up_planned(CONDITIONAL)
    events = when(command, given(*history), FOLLOW_UP_REPORTED_ON)
    assert events == [
        reported(command, submitted_on=FOLLOW_UP_REPORTED_ON),
        FollowUpFailed(audit_id=FOLLOW_UP_AUDIT_ID, failed_on=FOLLOW_UP_REPORTED_ON),
    ]
    state = given(*history, *events)
    assert state.status is Status.STOPPED
    assert state.registration is not None
    assert state.registration.ended is EndReason.FOLLOW_UP_FAILED
    assert state.deadlines() == []


@pytest.mark.parametrize(
    ("visit", "day"),
    [
        (date(2026, 12, 1), date(2026, 12, 3)),  # visited in time, reported a day late
        (date(2026, 12, 3), date(2026, 12, 3)),  # visited a day late
    ],
)
def test_a_follow_up_reported_after_the_deadline_is_refused(visit: date, day: date) -> None:
    command = follow_up_report((3, 5), visit=visit)
    state = given(*follow_up_planned(CONDITIONAL))
    error = refused(errors.FollowUpAfterDeadline, command, state, day)
    assert error.code == "follow-up-after-deadline"
    assert str(CONDITIONAL_DEADLINE) in error.detail


def test_a_follow_up_visited_and_reported_on_the_deadline_counts() -> None:
    command = follow_up_report((3, 5), visit=CONDITIONAL_DEADLINE)
    events = when(command, given(*follow_up_planned(CONDITIONAL)), CONDITIONAL_DEADLINE)
    assert isinstance(events[-1], FollowUpPassed)


def test_a_failed_follow_up_has_no_reaction_deadline() -> None:
    command = follow_up_report((3, 5), not_met=(3, 5))
    [report_event, _] = when(command, given(*follow_up_planned(CONDITIONAL)), FOLLOW_UP_REPORTED_ON)
    assert report_event == reported(command, submitted_on=FOLLOW_UP_REPORTED_ON)


# --- the starter follow-up -------------------------------------------------------------------


def test_a_passed_starter_follow_up_adds_three_years_to_the_end_date() -> None:
    command = follow_up_report((2, 3), STARTER)
    history = follow_up_planned(STARTER)
    events = when(command, given(*history), FOLLOW_UP_REPORTED_ON)
    assert events == [
        reported(command, submitted_on=FOLLOW_UP_REPORTED_ON),
        FollowUpPassed(
            audit_id=FOLLOW_UP_AUDIT_ID,
            passed_on=FOLLOW_UP_REPORTED_ON,
            kind=RegistrationKind.FULL,
            valid_until=date(2031, 3, 31),  # 2028-03-31 + 3 years
        ),
    ]
    state = given(*history, *events)
    assert state.status is Status.REGISTERED
    assert state.deadlines() == [Deadline(DeadlineKind.EXPIRY, date(2031, 3, 31))]


def test_a_failed_starter_follow_up_ends_the_registration() -> None:
    command = follow_up_report((2, 3), STARTER, not_met=(2,))
    history = follow_up_planned(STARTER)
    events = when(command, given(*history), FOLLOW_UP_REPORTED_ON)
    assert events[1:] == [
        FollowUpFailed(audit_id=FOLLOW_UP_AUDIT_ID, failed_on=FOLLOW_UP_REPORTED_ON)
    ]
    assert given(*history, *events).status is Status.STOPPED


def test_a_starter_follow_up_after_two_years_is_refused() -> None:
    command = follow_up_report((2, 3), STARTER, visit=STARTER_VALID_UNTIL)
    state = given(*follow_up_planned(STARTER))
    assert when(command, state, STARTER_VALID_UNTIL) != []
    refused(errors.FollowUpAfterDeadline, command, state, date(2028, 4, 1))
