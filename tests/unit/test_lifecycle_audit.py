"""Sworn declaration, choosing a bureau, planning the audit, and who may report it."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from app.domain import errors
from app.domain.decider import ChooseAuditBureau, Context, PlanAudit, RecordSwornDeclaration
from app.domain.events import (
    AuditBureauAppointmentEnded,
    AuditPlanned,
    RegistrationKind,
    SwornDeclarationReceived,
    Track,
)
from app.domain.norm import AuditType
from app.domain.registration import Status
from tests.unit.lifecycle import (
    APPLICATION_ID,
    APPLIED_ON,
    AUDIT_ID,
    BUREAU,
    BUREAU_ENTERPRISE,
    CHOSEN_ON,
    DECLARED_ON,
    OTHER_BUREAU,
    PLANNED_ON,
    RATE_2016,
    RATE_2024,
    REPORTED_ON,
    RETIRED_BUREAU,
    SINCE_2020,
    VISIT,
    application_submitted,
    appointed,
    bureau,
    chosen,
    context_with,
    declared,
    given,
    in_audit,
    planned,
    refused,
    registered,
    report,
    reported,
    when,
)

# --- the sworn declaration ----------------------------------------------------------------


def test_the_sworn_declaration_is_received_today_by_default() -> None:
    state = given(application_submitted())
    assert when(RecordSwornDeclaration(APPLICATION_ID), state, DECLARED_ON) == [
        SwornDeclarationReceived(application_id=APPLICATION_ID, received_on=DECLARED_ON)
    ]


def test_the_sworn_declaration_may_be_recorded_with_its_date_of_receipt() -> None:
    state = given(application_submitted())
    command = RecordSwornDeclaration(APPLICATION_ID, received_on=APPLIED_ON)
    assert when(command, state, DECLARED_ON) == [declared(APPLIED_ON)]


@pytest.mark.parametrize("received_on", [date(2026, 1, 11), date(2026, 1, 21)])
def test_the_declaration_is_received_between_the_application_and_today(received_on: date) -> None:
    command = RecordSwornDeclaration(APPLICATION_ID, received_on=received_on)
    refused(errors.InvalidCommand, command, given(application_submitted()), DECLARED_ON)


def test_the_sworn_declaration_is_received_once() -> None:
    state = given(application_submitted(), declared())
    error = refused(
        errors.SwornDeclarationAlreadyReceived,
        RecordSwornDeclaration(APPLICATION_ID),
        state,
        PLANNED_ON,
    )
    assert str(DECLARED_ON) in error.detail


def test_a_declaration_needs_that_open_application() -> None:
    refused(errors.NoOpenApplication, RecordSwornDeclaration(APPLICATION_ID), given(), DECLARED_ON)
    other = RecordSwornDeclaration("application-9")
    refused(errors.NoOpenApplication, other, given(application_submitted()), DECLARED_ON)


def test_no_report_is_accepted_before_the_sworn_declaration() -> None:
    state = given(*in_audit(declaration=False))
    error = refused(errors.SwornDeclarationMissing, report(), state, REPORTED_ON)
    assert error.code == "sworn-declaration-missing"


def test_once_declared_the_same_report_is_accepted() -> None:
    state = given(*in_audit(declaration=False), declared(PLANNED_ON))
    assert when(report(), state, REPORTED_ON) == [reported(report())]


# --- choosing a bureau ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("track", "audit_type"),
    [
        (Track.BASIC, AuditType.BASIC),
        (Track.STARTER, AuditType.STARTER),
        (Track.RENEWAL, AuditType.RENEWAL),
    ],
)
def test_the_chosen_bureau_gets_the_audit_of_the_applications_track(
    track: Track, audit_type: AuditType
) -> None:
    history = registered() if track is Track.RENEWAL else []
    starter = track is Track.STARTER
    submitted = application_submitted(
        track,
        application_id="a-2",
        activity_started_on=date(2025, 1, 1) if starter else None,
        dossiers=2 if starter else None,
        submitted_on=date(2027, 1, 15),
    )
    state = given(*history, submitted)
    command = ChooseAuditBureau(audit_id="a-9", bureau_id=OTHER_BUREAU)
    day = date(2027, 2, 1)
    assert when(command, state, day) == [
        chosen(audit_type, audit_id="a-9", bureau_id=OTHER_BUREAU, chosen_on=day)
    ]
    # a unit renewing stays registered while its renewal is audited
    expected = Status.REGISTERED if track is Track.RENEWAL else Status.IN_AUDIT
    assert given(*history, submitted, *when(command, state, day)).status is expected


def test_a_sworn_declaration_is_not_needed_to_choose_a_bureau() -> None:
    state = given(application_submitted())
    assert when(ChooseAuditBureau(AUDIT_ID, BUREAU), state, CHOSEN_ON) == [chosen()]


@pytest.mark.parametrize("bureau_id", [RETIRED_BUREAU, "bureau-unknown"])
def test_the_bureau_must_be_appointed_today(bureau_id: str) -> None:
    state = given(application_submitted())
    error = refused(
        errors.BureauNotAppointed, ChooseAuditBureau(AUDIT_ID, bureau_id), state, CHOSEN_ON
    )
    assert bureau_id in error.detail


def test_a_bureau_appointed_from_tomorrow_or_until_yesterday_is_not_appointed_today() -> None:
    state = given(application_submitted())
    command = ChooseAuditBureau(AUDIT_ID, "bureau-new")
    future = bureau(appointed("bureau-new", BUREAU_ENTERPRISE, date(2026, 2, 3)))
    refused(
        errors.BureauNotAppointed, command, state, CHOSEN_ON, context_with("bureau-new", future)
    )
    assert when(command, state, date(2026, 2, 3), context_with("bureau-new", future)) != []
    ended = bureau(
        appointed("bureau-new", BUREAU_ENTERPRISE, SINCE_2020),
        AuditBureauAppointmentEnded(bureau_id="bureau-new", last_day=date(2026, 2, 1)),
    )
    refused(errors.BureauNotAppointed, command, state, CHOSEN_ON, context_with("bureau-new", ended))


def test_an_application_has_one_audit_assigned() -> None:
    state = given(application_submitted(), chosen())
    refused(errors.AuditAlreadyAssigned, ChooseAuditBureau("a-2", OTHER_BUREAU), state, CHOSEN_ON)


def test_without_application_or_follow_up_there_is_nothing_to_audit() -> None:
    for history in ([], registered()):
        command = ChooseAuditBureau(AUDIT_ID, BUREAU)
        refused(errors.NoOpenApplication, command, given(*history), date(2027, 1, 4))


# --- planning ------------------------------------------------------------------------------


def plan(visit: date = VISIT, hours: str = "16", bureau_id: str = BUREAU) -> PlanAudit:
    return PlanAudit(AUDIT_ID, bureau_id, visit_date=visit, planned_hours=Decimal(hours))


@pytest.mark.parametrize(
    ("visit", "hours", "rate", "cost"),
    [
        (date(2023, 12, 31), "16", RATE_2016, "2400.00"),
        (date(2024, 1, 1), "16", RATE_2024, "3082.40"),
        (date(2026, 3, 2), "14.5", RATE_2024, "2793.43"),
    ],
)
def test_the_cost_is_hours_times_the_rate_in_force_on_the_visit_date(
    visit: date, hours: str, rate: Decimal, cost: str
) -> None:
    state = given(
        application_submitted(submitted_on=date(2023, 11, 1)), chosen(chosen_on=date(2023, 11, 1))
    )
    assert when(plan(visit, hours), state, date(2023, 11, 2)) == [
        AuditPlanned(
            audit_id=AUDIT_ID,
            bureau_id=BUREAU,
            visit_date=visit,
            planned_hours=Decimal(hours),
            hourly_rate=rate,
            cost_estimate=Decimal(cost),
        )
    ]


def test_a_planned_audit_is_in_audit_with_its_cost() -> None:
    state = given(application_submitted(), chosen(), planned())
    audit = state.audit(AUDIT_ID)
    assert audit is not None
    assert (audit.visit_date, audit.cost_estimate) == (VISIT, Decimal("3082.40"))
    assert state.status is Status.IN_AUDIT


def test_only_the_assigned_bureau_plans() -> None:
    state = given(application_submitted(), chosen())
    error = refused(
        errors.AuditNotAssignedToBureau, plan(bureau_id=OTHER_BUREAU), state, PLANNED_ON
    )
    assert error.code == "audit-not-assigned-to-bureau"


def test_an_unknown_audit_cannot_be_planned() -> None:
    command = PlanAudit("audit-9", BUREAU, visit_date=VISIT, planned_hours=Decimal(8))
    refused(errors.NoAuditAssigned, command, given(application_submitted(), chosen()), PLANNED_ON)


def test_the_bureau_must_be_appointed_on_the_visit_date() -> None:
    ending = bureau(
        appointed(BUREAU, BUREAU_ENTERPRISE, SINCE_2020),
        AuditBureauAppointmentEnded(bureau_id=BUREAU, last_day=date(2026, 3, 1)),
    )
    state = given(application_submitted(), chosen())
    context = context_with(BUREAU, ending)
    error = refused(errors.BureauNotAppointed, plan(), state, PLANNED_ON, context)
    assert str(VISIT) in error.detail
    assert when(plan(date(2026, 3, 1)), state, PLANNED_ON, context) != []


@pytest.mark.parametrize("hours", ["0", "-2"])
def test_planned_hours_are_positive(hours: str) -> None:
    state = given(application_submitted(), chosen())
    refused(errors.InvalidCommand, plan(hours=hours), state, PLANNED_ON)


def test_a_reported_audit_is_not_planned_again() -> None:
    state = given(*in_audit(), reported(report()))
    refused(errors.ReportNotExpected, plan(), state, REPORTED_ON)


def test_a_visit_cannot_be_planned_before_the_audit_was_assigned() -> None:
    """Years before the application, or between it and the choice of the bureau: refused."""
    state = given(application_submitted(), chosen())
    for visit in (date(2019, 5, 6), APPLIED_ON, date(2026, 2, 1)):
        error = refused(errors.VisitBeforeAssignment, plan(visit), state, PLANNED_ON)
        assert error.code == "visit-before-assignment"
        assert str(CHOSEN_ON) in error.detail
    assert when(plan(CHOSEN_ON), state, PLANNED_ON) != []


def ended_on(last_day: date) -> Context:
    """BUREAU's appointment, open-ended since 2020, ended by the agency with this last day."""
    return context_with(
        BUREAU,
        bureau(
            appointed(BUREAU, BUREAU_ENTERPRISE, SINCE_2020),
            AuditBureauAppointmentEnded(bureau_id=BUREAU, last_day=last_day),
        ),
    )


def test_a_bureau_whose_appointment_ended_can_no_longer_plan_nor_re_plan() -> None:
    """Ended on 2026-03-05, after its planned visit of 2026-03-02: on 2026-03-10 it cannot move
    the visit, not even to a day it was still appointed on."""
    context = ended_on(date(2026, 3, 5))
    state = given(*in_audit())
    replan = plan(date(2026, 3, 4))
    error = refused(errors.BureauNotAppointed, replan, state, date(2026, 3, 10), context)
    assert "no longer plan" in error.detail
    assert when(replan, state, date(2026, 3, 5), context) != []  # on its last day it still may


# --- who reports, and when -----------------------------------------------------------------


def test_a_report_cannot_date_its_visit_before_the_audit_was_assigned() -> None:
    state = given(*in_audit())
    for visit in (date(2019, 5, 6), APPLIED_ON):
        error = refused(errors.VisitBeforeAssignment, report(visit=visit), state, REPORTED_ON)
        assert error.code == "visit-before-assignment"


def test_a_retired_bureau_reports_the_visit_it_planned_while_appointed() -> None:
    """The visit of 2026-03-02 was made under the appointment; the write-up may follow it."""
    context = ended_on(date(2026, 3, 5))
    assert when(report(), given(*in_audit()), REPORTED_ON, context) == [reported(report())]


def test_a_retired_bureau_cannot_move_its_visit_back_into_its_appointment_by_reporting() -> None:
    """Ended on 2026-02-20, with the visit planned for 2026-03-02: reporting a visit of
    2026-02-10 instead would be the re-planning it may no longer do."""
    context = ended_on(date(2026, 2, 20))
    state = given(*in_audit())
    moved = report(visit=date(2026, 2, 10))
    error = refused(errors.VisitNotAsPlanned, moved, state, REPORTED_ON, context)
    assert error.code == "visit-not-as-planned"
    assert str(VISIT) in error.detail
    refused(errors.BureauNotAppointed, report(), state, REPORTED_ON, context)
    # still appointed, the bureau reports the visit as it happened, planned or not
    assert when(moved, state, REPORTED_ON) != []


def test_only_the_assigned_bureau_reports() -> None:
    command = report(bureau_id=OTHER_BUREAU)
    refused(errors.AuditNotAssignedToBureau, command, given(*in_audit()), REPORTED_ON)


def test_a_report_needs_a_planned_audit() -> None:
    state = given(application_submitted(), declared(), chosen())
    refused(errors.AuditNotPlanned, report(), state, REPORTED_ON)
    refused(errors.NoAuditAssigned, report(audit_id="audit-9"), given(*in_audit()), REPORTED_ON)


def test_the_visit_cannot_lie_in_the_future() -> None:
    refused(errors.InvalidCommand, report(visit=REPORTED_ON), given(*in_audit()), date(2026, 3, 15))
    assert when(report(visit=REPORTED_ON), given(*in_audit()), REPORTED_ON) != []


def test_a_bureau_not_appointed_on_the_audit_date_cannot_report() -> None:
    """The appointment was ended, after planning, with a last day before the visit."""
    ended = bureau(
        appointed(BUREAU, BUREAU_ENTERPRISE, SINCE_2020),
        AuditBureauAppointmentEnded(bureau_id=BUREAU, last_day=date(2026, 3, 1)),
    )
    context = context_with(BUREAU, ended)
    error = refused(errors.BureauNotAppointed, report(), given(*in_audit()), REPORTED_ON, context)
    assert error.code == "bureau-not-appointed"
    assert f"audit date {VISIT}" in error.detail


def test_a_report_is_accepted_once() -> None:
    state = given(*in_audit(), reported(report()))
    refused(errors.ReportNotExpected, report(report_id="report-2"), state, REPORTED_ON)


def test_a_passed_report_awaits_the_decision() -> None:
    state = given(*in_audit(), reported(report()))
    assert state.status is Status.AWAITING_DECISION
    assert state.deadlines() == []


def test_the_follow_up_audit_is_the_registrations_not_an_applications() -> None:
    state = given(*registered(RegistrationKind.CONDITIONAL))
    command = ChooseAuditBureau("audit-f", OTHER_BUREAU)
    assert when(command, state, date(2026, 9, 1)) == [
        chosen(
            AuditType.CONDITIONAL_FOLLOW_UP,
            audit_id="audit-f",
            bureau_id=OTHER_BUREAU,
            chosen_on=date(2026, 9, 1),
        )
    ]


def test_a_bureau_chosen_for_an_application_is_for_that_application_only() -> None:
    state = given(application_submitted())
    command = ChooseAuditBureau(AUDIT_ID, BUREAU, application_id=APPLICATION_ID)
    assert when(command, state, CHOSEN_ON) == [chosen()]
    elsewhere = ChooseAuditBureau(AUDIT_ID, BUREAU, application_id="another-application")
    refused(errors.NoOpenApplication, elsewhere, state, CHOSEN_ON)


def test_a_bureau_chosen_for_the_follow_up_audits_the_follow_up_even_during_a_renewal() -> None:
    renewal = application_submitted(
        Track.RENEWAL, application_id="renewal", submitted_on=date(2026, 4, 15)
    )
    state = given(*registered(RegistrationKind.CONDITIONAL), renewal)
    day = date(2026, 5, 1)
    command = ChooseAuditBureau("follow-up", BUREAU, follow_up=True)
    assert when(command, state, day) == [
        chosen(AuditType.CONDITIONAL_FOLLOW_UP, audit_id="follow-up", chosen_on=day)
    ]
    # without saying so, the open (renewal) application goes first
    assert when(ChooseAuditBureau("r", BUREAU), state, day) == [
        chosen(AuditType.RENEWAL, audit_id="r", chosen_on=day)
    ]


def test_a_follow_up_bureau_needs_a_follow_up_that_is_due() -> None:
    for history in ([application_submitted()], registered()):
        command = ChooseAuditBureau(AUDIT_ID, BUREAU, follow_up=True)
        refused(errors.NoFollowUpDue, command, given(*history), date(2026, 5, 1))
