"""The deadline job (``ApplyDeadlines``): a passed deadline produces its own event, once.

A deadline is the last day on which the thing may still happen; it is missed when the next day
has begun. Running the job again on the state after its own events yields nothing.
"""

from __future__ import annotations

from datetime import date, datetime, time

import pytest

from app.domain.decider import ApplyDeadlines, RecordDecision
from app.domain.event import DomainEvent
from app.domain.events import (
    ApplicationRefusedForNoReaction,
    FollowUpMissed,
    FollowUpPassed,
    RegistrationExpired,
    RegistrationKind,
    Track,
)
from app.domain.norm import AuditType
from app.domain.registration import EndReason, Status
from tests.unit.lifecycle import (
    APPLICATION_ID,
    BRUSSELS,
    CONDITIONAL_DEADLINE,
    FOLLOW_UP_AUDIT_ID,
    REACTION_DEADLINE,
    STARTER_VALID_UNTIL,
    VALID_UNTIL,
    application_submitted,
    chosen,
    declared,
    failed,
    given,
    granted,
    in_audit,
    planned,
    registered,
    report,
    reported,
    when,
)

JOB = ApplyDeadlines()
DAY_AFTER_VALID_UNTIL = date(2031, 4, 1)


def run_job(history: list[DomainEvent], day: date | datetime) -> list[DomainEvent]:
    """Run the job, then check that running it again on its own outcome writes nothing."""
    events = when(JOB, given(*history), day)
    assert when(JOB, given(*history, *events), day) == [], "the deadline job is not idempotent"
    return events


@pytest.mark.parametrize(
    "history",
    [[], [application_submitted()], in_audit(), [*in_audit(), reported(report())]],
    ids=["nothing", "applied", "in-audit", "awaiting-decision"],
)
def test_nothing_is_due_without_deadlines(history: list[DomainEvent]) -> None:
    assert run_job(history, date(2040, 1, 1)) == []


# --- reaction to a failed audit ------------------------------------------------------------


def test_no_reaction_refuses_the_application_the_day_after_the_deadline() -> None:
    assert run_job(failed(), REACTION_DEADLINE) == []
    day_after = date(2026, 9, 16)
    refusal = ApplicationRefusedForNoReaction(
        application_id=APPLICATION_ID, reaction_deadline=REACTION_DEADLINE, refused_on=day_after
    )
    assert run_job(failed(), day_after) == [refusal]
    state = given(*failed(), refusal)
    assert state.status is Status.REFUSED
    assert state.application is None


def test_the_deadline_day_ends_at_midnight_in_belgium() -> None:
    last_minute = datetime.combine(REACTION_DEADLINE, time(23, 59), tzinfo=BRUSSELS)
    assert run_job(failed(), last_minute) == []
    first_minute = datetime.combine(date(2026, 9, 16), time(0, 1), tzinfo=BRUSSELS)
    assert len(run_job(failed(), first_minute)) == 1


def test_a_job_run_late_records_the_day_it_ran() -> None:
    [event] = run_job(failed(), date(2027, 1, 4))
    assert event == ApplicationRefusedForNoReaction(
        application_id=APPLICATION_ID,
        reaction_deadline=REACTION_DEADLINE,
        refused_on=date(2027, 1, 4),
    )


# --- expiry --------------------------------------------------------------------------------


def test_a_registration_expires_the_day_after_its_last_day() -> None:
    assert run_job(registered(), VALID_UNTIL) == []
    expired = RegistrationExpired(valid_until=VALID_UNTIL, expired_on=DAY_AFTER_VALID_UNTIL)
    assert run_job(registered(), DAY_AFTER_VALID_UNTIL) == [expired]
    state = given(*registered(), expired)
    assert state.status is Status.EXPIRED
    assert not state.in_force
    assert state.deadlines() == []


def test_a_renewal_decided_before_the_end_date_prevents_the_old_expiry() -> None:
    renewal = report(audit_type=AuditType.RENEWAL, audit_id="audit-r", visit=date(2030, 11, 4))
    renewed = [
        *registered(),
        application_submitted(Track.RENEWAL, application_id="a-2", submitted_on=date(2030, 9, 1)),
        declared(date(2030, 9, 3), "a-2"),
        chosen(AuditType.RENEWAL, audit_id="audit-r", chosen_on=date(2030, 9, 10)),
        planned(audit_id="audit-r", visit=date(2030, 11, 4)),
        reported(renewal, submitted_on=date(2030, 11, 18)),
    ]
    decision = RecordDecision("a-2", granted=True, decision_date=date(2031, 3, 31))
    [grant] = when(decision, given(*renewed), date(2031, 3, 31))
    assert grant == granted(
        application_id="a-2",
        decision_date=date(2031, 3, 31),
        valid_until=date(2036, 3, 30),
        renewal=True,
    )
    assert run_job([*renewed, grant], DAY_AFTER_VALID_UNTIL) == []
    assert run_job([*renewed, grant], date(2036, 3, 31)) == [
        RegistrationExpired(valid_until=date(2036, 3, 30), expired_on=date(2036, 3, 31))
    ]


def test_an_undecided_renewal_does_not_stop_the_expiry() -> None:
    pending = [*registered(), application_submitted(Track.RENEWAL, application_id="a-2")]
    assert run_job(pending, DAY_AFTER_VALID_UNTIL) == [
        RegistrationExpired(valid_until=VALID_UNTIL, expired_on=DAY_AFTER_VALID_UNTIL)
    ]


# --- missed follow-ups ---------------------------------------------------------------------


def test_a_missed_conditional_follow_up_stops_the_registration() -> None:
    history = registered(RegistrationKind.CONDITIONAL)
    assert run_job(history, CONDITIONAL_DEADLINE) == []
    missed = FollowUpMissed(deadline=CONDITIONAL_DEADLINE, missed_on=date(2026, 12, 3))
    assert run_job(history, date(2026, 12, 3)) == [missed]
    state = given(*history, missed)
    assert state.status is Status.STOPPED
    assert state.registration is not None
    assert state.registration.ended is EndReason.FOLLOW_UP_MISSED


def test_a_follow_up_audit_in_progress_does_not_save_a_missed_deadline() -> None:
    history = [
        *registered(RegistrationKind.CONDITIONAL),
        chosen(AuditType.CONDITIONAL_FOLLOW_UP, audit_id=FOLLOW_UP_AUDIT_ID),
    ]
    assert run_job(history, date(2026, 12, 3)) == [
        FollowUpMissed(deadline=CONDITIONAL_DEADLINE, missed_on=date(2026, 12, 3))
    ]


def test_a_conditional_registration_missed_for_years_only_misses_its_follow_up() -> None:
    """The missed follow-up ends the registration, so it does not also expire later."""
    history = registered(RegistrationKind.CONDITIONAL)
    assert run_job(history, date(2032, 1, 1)) == [
        FollowUpMissed(deadline=CONDITIONAL_DEADLINE, missed_on=date(2032, 1, 1))
    ]


def test_a_starter_that_missed_its_follow_up_ends_and_does_not_also_expire() -> None:
    history = registered(RegistrationKind.STARTER)
    assert run_job(history, STARTER_VALID_UNTIL) == []
    assert run_job(history, date(2028, 4, 1)) == [
        FollowUpMissed(deadline=STARTER_VALID_UNTIL, missed_on=date(2028, 4, 1))
    ]
    state = given(*history, *run_job(history, date(2028, 4, 1)))
    assert state.status is Status.STOPPED


def test_a_passed_follow_up_leaves_only_the_expiry() -> None:
    passed = FollowUpPassed(
        audit_id=FOLLOW_UP_AUDIT_ID,
        passed_on=date(2027, 9, 1),
        kind=RegistrationKind.FULL,
        valid_until=date(2031, 3, 31),
    )
    history = [*registered(RegistrationKind.STARTER), passed]
    assert run_job(history, date(2028, 4, 1)) == []
    assert run_job(history, date(2031, 4, 1)) == [
        RegistrationExpired(valid_until=date(2031, 3, 31), expired_on=date(2031, 4, 1))
    ]
