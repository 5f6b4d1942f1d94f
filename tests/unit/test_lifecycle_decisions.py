"""The minister's decision, recorded by the agency (DOMAIN.md process step 5 and "Time rules")."""

from __future__ import annotations

from datetime import date

import pytest

from app.domain import errors
from app.domain.decider import RecordDecision
from app.domain.event import DomainEvent
from app.domain.events import ApplicationRefused, FailedAuditReactedTo, RegistrationKind, Track
from app.domain.norm import AuditType
from app.domain.registration import Deadline, DeadlineKind, Status
from tests.unit.lifecycle import (
    APPLICATION_ID,
    CONDITIONAL_DEADLINE,
    DECIDED_ON,
    REACTION_DEADLINE,
    REPORTED_ON,
    STARTER_SCOPE,
    STARTER_VALID_UNTIL,
    VALID_UNTIL,
    application_submitted,
    chosen,
    conditional_report,
    declared,
    failed,
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

GRANT = RecordDecision(APPLICATION_ID, granted=True, decision_date=DECIDED_ON)
REFUSE = RecordDecision(APPLICATION_ID, granted=False, decision_date=DECIDED_ON, reason="misleid")
PASSED = [*in_audit(), reported(report())]


# --- on the basis of a report ----------------------------------------------------------------


@pytest.mark.parametrize(
    "history",
    [
        [application_submitted()],
        [application_submitted(), declared(), chosen()],
        in_audit(),
    ],
    ids=["applied", "bureau-chosen", "planned"],
)
@pytest.mark.parametrize("decision", [GRANT, REFUSE], ids=["grant", "refuse"])
def test_no_decision_without_a_report(history: list[DomainEvent], decision: RecordDecision) -> None:
    state = given(*history)
    error = refused(errors.DecisionWithoutReport, decision, state, DECIDED_ON)
    assert error.code == "decision-without-report"


def test_no_decision_while_a_new_report_is_awaited_after_a_reaction() -> None:
    reaction = FailedAuditReactedTo(audit_id="audit-1", reacted_on=date(2026, 4, 2), reaction="ok")
    state = given(*failed(), reaction)
    refused(errors.DecisionWithoutReport, GRANT, state, date(2026, 4, 3))


def test_granting_after_a_failed_audit_contradicts_the_report() -> None:
    error = refused(errors.DecisionContradictsReport, GRANT, given(*failed()), DECIDED_ON)
    assert error.code == "decision-contradicts-report"


@pytest.mark.parametrize("history", [PASSED, failed()], ids=["passed", "failed"])
def test_the_minister_may_refuse(history: list[DomainEvent]) -> None:
    state = given(*history)
    refusal = ApplicationRefused(
        application_id=APPLICATION_ID, decision_date=DECIDED_ON, reason="misleid"
    )
    assert when(REFUSE, state, DECIDED_ON) == [refusal]
    after = given(*history, refusal)
    assert after.status is Status.REFUSED
    assert after.application is None
    assert after.deadlines() == []


def test_a_decision_concerns_the_open_application() -> None:
    other = RecordDecision("application-9", granted=True, decision_date=DECIDED_ON)
    refused(errors.NoOpenApplication, other, given(*PASSED), DECIDED_ON)
    refused(errors.NoOpenApplication, GRANT, given(*registered()), DECIDED_ON)


@pytest.mark.parametrize("decision_date", [date(2026, 3, 15), date(2026, 4, 2)])
def test_the_decision_date_lies_between_the_report_and_today(decision_date: date) -> None:
    command = RecordDecision(APPLICATION_ID, granted=True, decision_date=decision_date)
    refused(errors.InvalidCommand, command, given(*PASSED), DECIDED_ON)


# --- what is granted -----------------------------------------------------------------------


def test_passed_grants_five_years_from_the_decision_date() -> None:
    assert when(GRANT, given(*PASSED), DECIDED_ON) == [granted()]
    state = given(*PASSED, granted())
    assert state.status is Status.REGISTERED
    assert state.first_registered_on == DECIDED_ON
    assert state.deadlines() == [Deadline(DeadlineKind.EXPIRY, VALID_UNTIL)]


def test_the_registration_runs_from_the_decision_date_not_the_day_it_is_recorded() -> None:
    command = RecordDecision(APPLICATION_ID, granted=True, decision_date=REPORTED_ON)
    assert when(command, given(*PASSED), DECIDED_ON) == [
        granted(decision_date=REPORTED_ON, valid_until=date(2031, 3, 15))
    ]


def test_a_leap_day_decision_runs_through_the_end_of_february() -> None:
    command = RecordDecision(APPLICATION_ID, granted=True, decision_date=date(2028, 2, 29))
    [event] = when(command, given(*PASSED), date(2028, 3, 1))
    assert event == granted(decision_date=date(2028, 2, 29), valid_until=date(2033, 2, 27))


def test_conditional_grants_five_years_with_the_reports_follow_up_deadline() -> None:
    state = given(*in_audit(), reported(conditional_report()))
    conditional = granted(RegistrationKind.CONDITIONAL, follow_up_deadline=CONDITIONAL_DEADLINE)
    assert when(GRANT, state, DECIDED_ON) == [conditional]
    after = given(*in_audit(), reported(conditional_report()), conditional)
    assert after.status is Status.REGISTERED_CONDITIONALLY
    assert after.registration is not None
    assert after.registration.lacking == {3, 5}
    assert after.deadlines() == [
        Deadline(DeadlineKind.FOLLOW_UP, CONDITIONAL_DEADLINE),
        Deadline(DeadlineKind.EXPIRY, VALID_UNTIL),
    ]


def test_a_starter_is_granted_two_years_and_must_pass_a_follow_up_within_them() -> None:
    state = given(
        *in_audit(Track.STARTER),
        reported(report(STARTER_SCOPE, audit_type=AuditType.STARTER)),
    )
    starter = granted(
        RegistrationKind.STARTER,
        valid_until=STARTER_VALID_UNTIL,  # 2028-03-31: start + 2 years - 1 day
        follow_up_deadline=STARTER_VALID_UNTIL,
    )
    assert when(GRANT, state, DECIDED_ON) == [starter]
    after = given(*registered(RegistrationKind.STARTER))
    assert after.status is Status.REGISTERED_STARTER
    assert after.deadlines() == [
        Deadline(DeadlineKind.FOLLOW_UP, STARTER_VALID_UNTIL),
        Deadline(DeadlineKind.EXPIRY, STARTER_VALID_UNTIL),
    ]


# --- renewal -------------------------------------------------------------------------------

RENEWAL_DECIDED_ON = date(2031, 1, 15)


def renewal_reported(*not_met: int) -> list[DomainEvent]:
    renewal = report(
        audit_type=AuditType.RENEWAL, audit_id="audit-r", visit=date(2030, 11, 4), not_met=not_met
    )
    reaction_deadline = date(2031, 5, 17) if not_met else None
    return [
        *registered(),
        application_submitted(Track.RENEWAL, application_id="a-2", submitted_on=date(2030, 9, 1)),
        declared(date(2030, 9, 3), "a-2"),
        chosen(AuditType.RENEWAL, audit_id="audit-r", chosen_on=date(2030, 9, 10)),
        planned(audit_id="audit-r", visit=date(2030, 11, 4)),
        reported(renewal, submitted_on=date(2030, 11, 18), reaction_deadline=reaction_deadline),
    ]


def test_a_renewal_gives_a_new_five_year_period_from_its_decision() -> None:
    state = given(*renewal_reported())
    assert state.status is Status.REGISTERED
    command = RecordDecision("a-2", granted=True, decision_date=RENEWAL_DECIDED_ON)
    renewed = granted(
        application_id="a-2",
        decision_date=RENEWAL_DECIDED_ON,
        valid_until=date(2036, 1, 14),
        renewal=True,
    )
    assert when(command, state, RENEWAL_DECIDED_ON) == [renewed]
    after = given(*renewal_reported(), renewed)
    assert after.status is Status.REGISTERED
    assert after.first_registered_on == DECIDED_ON  # same unit, same number
    assert after.deadlines() == [Deadline(DeadlineKind.EXPIRY, date(2036, 1, 14))]


def test_a_refused_renewal_leaves_the_registration_in_force() -> None:
    refusal = ApplicationRefused(application_id="a-2", decision_date=RENEWAL_DECIDED_ON)
    state = given(*renewal_reported(), refusal)
    assert state.status is Status.REGISTERED
    assert state.deadlines() == [Deadline(DeadlineKind.EXPIRY, VALID_UNTIL)]


def test_a_failed_renewal_keeps_the_registration_with_both_deadlines() -> None:
    state = given(*renewal_reported(1))
    assert state.status is Status.REGISTERED
    assert state.deadlines() == [
        Deadline(DeadlineKind.EXPIRY, VALID_UNTIL),
        Deadline(DeadlineKind.REACTION, date(2031, 5, 17)),
    ]


def test_a_failed_audit_has_only_its_reaction_deadline() -> None:
    state = given(*failed())
    assert state.status is Status.AUDIT_FAILED
    assert state.deadlines() == [Deadline(DeadlineKind.REACTION, REACTION_DEADLINE)]
