"""A failed audit: the provider has 6 months to react, then the bureau may report again."""

from __future__ import annotations

from datetime import date

import pytest

from app.domain import errors
from app.domain.decider import ReactToFailedAudit, RecordDecision
from app.domain.events import FailedAuditReactedTo
from app.domain.registration import Status
from tests.unit.lifecycle import (
    APPLICATION_ID,
    AUDIT_ID,
    REACTION_DEADLINE,
    REPORTED_ON,
    failed,
    given,
    granted,
    in_audit,
    refused,
    registered,
    report,
    reported,
    when,
)

REACTED_ON = date(2026, 5, 4)
REACTION = ReactToFailedAudit(AUDIT_ID, reaction=" Klanttevredenheid wordt nu gemeten. ")
REACTED = FailedAuditReactedTo(
    audit_id=AUDIT_ID, reacted_on=REACTED_ON, reaction="Klanttevredenheid wordt nu gemeten."
)


@pytest.mark.parametrize("day", [REPORTED_ON, REACTED_ON, REACTION_DEADLINE])
def test_a_reaction_within_six_months_is_recorded(day: date) -> None:
    assert when(REACTION, given(*failed()), day) == [
        FailedAuditReactedTo(audit_id=AUDIT_ID, reacted_on=day, reaction=REACTED.reaction)
    ]


def test_a_reaction_the_day_after_the_deadline_is_too_late() -> None:
    error = refused(errors.ReactionTooLate, REACTION, given(*failed()), date(2026, 9, 16))
    assert error.code == "reaction-too-late"
    assert str(REACTION_DEADLINE) in error.detail


def test_there_must_be_a_failed_report_to_react_to() -> None:
    for history in ([], in_audit(), [*in_audit(), reported(report())], registered()):
        refused(errors.NoFailedAudit, REACTION, given(*history), REACTED_ON)
    other = ReactToFailedAudit("audit-9", reaction="x")
    refused(errors.NoFailedAudit, other, given(*failed()), REACTED_ON)


def test_one_reaction_per_failed_report() -> None:
    refused(errors.NoFailedAudit, REACTION, given(*failed(), REACTED), REACTED_ON)


def test_a_reaction_says_something() -> None:
    empty = ReactToFailedAudit(AUDIT_ID, reaction="  ")
    refused(errors.InvalidCommand, empty, given(*failed()), REACTED_ON)


def test_after_a_reaction_the_audit_is_in_audit_again_without_a_reaction_deadline() -> None:
    assert given(*failed()).status is Status.AUDIT_FAILED
    state = given(*failed(), REACTED)
    assert state.status is Status.IN_AUDIT
    assert state.deadlines() == []


def test_after_a_reaction_the_bureau_submits_a_new_report_without_planning_again() -> None:
    second = report(report_id="report-2", visit=date(2026, 6, 1))
    assert when(second, given(*failed(), REACTED), date(2026, 6, 8)) == [
        reported(second, submitted_on=date(2026, 6, 8))
    ]
    passed = given(*failed(), REACTED, reported(second, submitted_on=date(2026, 6, 8)))
    assert passed.status is Status.AWAITING_DECISION
    decision = RecordDecision(APPLICATION_ID, granted=True, decision_date=date(2026, 6, 15))
    assert when(decision, passed, date(2026, 6, 15)) == [
        granted(decision_date=date(2026, 6, 15), valid_until=date(2031, 6, 14))
    ]


def test_without_a_reaction_no_new_report_is_accepted() -> None:
    second = report(report_id="report-2", visit=date(2026, 6, 1))
    refused(errors.ReportNotExpected, second, given(*failed()), date(2026, 6, 8))


def test_a_second_failure_gives_a_new_six_months() -> None:
    second = report(report_id="report-2", visit=date(2026, 6, 1), not_met=[3])
    assert when(second, given(*failed(), REACTED), date(2026, 6, 8)) == [
        reported(second, submitted_on=date(2026, 6, 8), reaction_deadline=date(2026, 12, 7))
    ]
