"""The agency stops a registration; a unit whose registration ended may apply again."""

from __future__ import annotations

from datetime import date

import pytest

from app.domain import errors
from app.domain.decider import RecordDecision, StopRegistration
from app.domain.event import DomainEvent
from app.domain.events import (
    ApplicationRefused,
    FollowUpMissed,
    RegistrationExpired,
    RegistrationKind,
    RegistrationStopped,
    Track,
)
from app.domain.norm import AuditType
from app.domain.registration import EndReason, Status, UnitState
from tests.unit.lifecycle import (
    APPLICATION_ID,
    CONDITIONAL_DEADLINE,
    DECIDED_ON,
    VALID_UNTIL,
    application_submitted,
    apply,
    chosen,
    declared,
    failed,
    given,
    in_audit,
    planned,
    refused,
    registered,
    report,
    reported,
    when,
)

STOPPED_ON = date(2026, 6, 1)  # every kind of registration is still in force then
STOP = StopRegistration(reason="  Misbruik vastgesteld bij controle  ")
STOPPED = RegistrationStopped(reason="Misbruik vastgesteld bij controle", stopped_on=STOPPED_ON)
EXPIRED = RegistrationExpired(valid_until=VALID_UNTIL, expired_on=date(2031, 4, 1))


@pytest.mark.parametrize("kind", list(RegistrationKind))
def test_the_agency_stops_a_registration_in_force_with_a_reason(kind: RegistrationKind) -> None:
    assert when(STOP, given(*registered(kind)), STOPPED_ON) == [STOPPED]
    state = given(*registered(kind), STOPPED)
    assert state.status is Status.STOPPED
    assert state.registration is not None
    assert state.registration.ended is EndReason.STOPPED_BY_AGENCY
    assert state.registration.stop_reason == "Misbruik vastgesteld bij controle"
    assert state.deadlines() == []


def test_a_stop_needs_a_reason() -> None:
    refused(errors.InvalidCommand, StopRegistration(" "), given(*registered()), STOPPED_ON)


@pytest.mark.parametrize(
    "history",
    [
        [],
        [application_submitted()],
        in_audit(),
        failed(),
        [*registered(), STOPPED],
        [*registered(), EXPIRED],
    ],
    ids=["nothing", "applied", "in-audit", "failed", "stopped", "expired"],
)
def test_only_a_registration_in_force_can_be_stopped(history: list[DomainEvent]) -> None:
    error = refused(errors.NotRegistered, STOP, given(*history), date(2031, 5, 1))
    assert error.code == "not-registered"


@pytest.mark.parametrize(
    ("ending", "status"),
    [
        (STOPPED, Status.STOPPED),
        (EXPIRED, Status.EXPIRED),
        (FollowUpMissed(deadline=CONDITIONAL_DEADLINE, missed_on=date(2026, 12, 3)), None),
    ],
    ids=["stopped", "expired", "follow-up-missed"],
)
def test_a_unit_whose_registration_ended_applies_again_as_a_newcomer(
    ending: DomainEvent, status: Status | None
) -> None:
    kind = RegistrationKind.CONDITIONAL if status is None else RegistrationKind.FULL
    history = [*registered(kind), ending]
    assert given(*history).status is (status or Status.STOPPED)
    day = date(2031, 6, 2)
    assert when(apply(application_id="a-2"), given(*history), day) == [
        application_submitted(application_id="a-2", submitted_on=day)
    ]
    again = given(*history, application_submitted(application_id="a-2", submitted_on=day))
    assert again.status is Status.APPLIED
    assert again.first_registered_on == DECIDED_ON  # keeps its number for life
    refused(errors.NotRegistered, apply(Track.RENEWAL, application_id="a-3"), given(*history), day)


def test_a_refused_unit_applies_again() -> None:
    refusal = ApplicationRefused(application_id=APPLICATION_ID, decision_date=date(2026, 4, 1))
    state = given(*failed(), refusal)
    assert state.status is Status.REFUSED
    [event] = when(apply(application_id="a-2"), state, date(2026, 5, 4))
    assert event == application_submitted(application_id="a-2", submitted_on=date(2026, 5, 4))


def test_a_refusal_after_a_lapse_reads_refused() -> None:
    second = application_submitted(application_id="a-2", submitted_on=date(2027, 6, 1))
    refusal = ApplicationRefused(application_id="a-2", decision_date=date(2027, 9, 1))
    assert given(*registered(), STOPPED, second, refusal).status is Status.REFUSED


def test_a_lapse_after_a_refused_renewal_reads_expired() -> None:
    renewal = application_submitted(Track.RENEWAL, application_id="a-2")
    refusal = ApplicationRefused(application_id="a-2", decision_date=date(2031, 1, 15))
    assert given(*registered(), renewal, refusal).status is Status.REGISTERED
    assert given(*registered(), renewal, refusal, EXPIRED).status is Status.EXPIRED


def _renewal_reported_then(*ending: DomainEvent) -> UnitState:
    """Registered; a renewal audit passed; then the registration ended before the decision."""
    renewal_audit = report(audit_id="audit-renewal", audit_type=AuditType.RENEWAL)
    return given(
        *registered(),
        application_submitted(Track.RENEWAL, application_id="renewal"),
        declared(application_id="renewal"),
        chosen(AuditType.RENEWAL, audit_id="audit-renewal"),
        planned(audit_id="audit-renewal"),
        reported(renewal_audit),
        *ending,
    )


@pytest.mark.parametrize("ending", [STOPPED, EXPIRED])
def test_a_renewal_cannot_revive_a_registration_that_ended(ending: DomainEvent) -> None:
    state = _renewal_reported_then(ending)
    decision = RecordDecision("renewal", granted=True, decision_date=date(2027, 5, 10))
    refused(errors.NotRegistered, decision, state, date(2031, 5, 1))
    refusal = RecordDecision("renewal", granted=False, decision_date=date(2027, 5, 10))
    assert when(refusal, state, date(2031, 5, 1)) == [
        ApplicationRefused(application_id="renewal", decision_date=date(2027, 5, 10))
    ]


def test_a_passed_deadline_counts_before_the_deadline_job_has_run() -> None:
    """The day after the end date the registration has expired, job or no job."""
    day_after = date(2031, 4, 1)
    state = given(*registered())
    refused(errors.NotRegistered, STOP, state, day_after)
    refused(errors.NotRegistered, apply(Track.RENEWAL, application_id="a-2"), state, day_after)
    expired = RegistrationExpired(valid_until=VALID_UNTIL, expired_on=day_after)
    assert when(apply(application_id="a-2"), state, day_after) == [
        expired,
        application_submitted(application_id="a-2", submitted_on=day_after),
    ]
