"""Subsidy projects, pure: the findings at their edges, the eligible amount, and who may act
when (given events, when a command, then events or a named error)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from app.domain import errors
from app.domain.event import DomainEvent
from app.domain.events import (
    DisputeReason,
    FindingCode,
    FindingOutcome,
    ProjectApproved,
    ProjectConfirmed,
    ProjectRecorded,
)
from app.domain.identifiers import EnterpriseNumber, RegistrationNumber, ServiceType
from app.domain.projects import (
    ApproveProject,
    ConfirmProject,
    DisputeProject,
    Holder,
    ProjectCommand,
    ProjectState,
    ProjectStatus,
    ReclaimProject,
    RecordProject,
    StopProject,
    decide_project,
    evolve_project,
)
from tests.unit.lifecycle import given as given_unit
from tests.unit.lifecycle import granted, registered

PROVIDER = "0403170701"
START = date(2026, 2, 2)
GRANTED_ON = date(2026, 1, 20)

COMMAND = RecordProject(
    project_id="p-1",
    client=EnterpriseNumber.parse("0202239951"),
    registration_number=RegistrationNumber.parse("DV.O000001"),
    service_type=ServiceType.TRAINING,
    theme="digitalisering",
    start_date=START,
    end_date=START,
    price_excluding_vat=Decimal("1000"),
    vat=Decimal("210"),
    participants=2,
    training_days=Decimal("1.5"),
    catering_cost=Decimal("75.00"),
)


def holder(granted_on: date = GRANTED_ON) -> Holder:
    """The unit as the events recorded up to the start date make it: registered on
    ``granted_on`` (the lifecycle's story, its decision moved)."""
    *story, _ = registered()
    grant = granted(decision_date=granted_on, valid_until=granted_on.replace(year=2031))
    return Holder(PROVIDER, given_unit(*story, grant))


def at(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 10, tzinfo=UTC)


def recorded(
    command: RecordProject = COMMAND, filed_on: date = START, found: Holder | None = None
) -> ProjectRecorded:
    events = decide_project(command, ProjectState(), at(filed_on), found or holder())
    assert len(events) == 1
    assert isinstance(events[0], ProjectRecorded)
    return events[0]


def outcome(event: ProjectRecorded, code: FindingCode) -> FindingOutcome:
    return next(f.outcome for f in event.findings if f.code is code)


def test_a_project_in_order_meets_every_finding_and_leaves_vat_out() -> None:
    event = recorded()
    assert {f.outcome for f in event.findings} == {FindingOutcome.MET}
    assert event.eligible_amount == Decimal("1075.00")  # cap 25 x 2 x 1.5 = 75: all of it
    assert (event.provider_enterprise_number, event.filed_on) == (PROVIDER, START)


@pytest.mark.parametrize(
    ("filed_on", "expected"),
    [(date(2026, 2, 16), FindingOutcome.MET), (date(2026, 2, 17), FindingOutcome.NOT_MET)],
)
def test_filed_at_the_latest_14_days_after_the_start(
    filed_on: date, expected: FindingOutcome
) -> None:
    event = recorded(filed_on=filed_on)
    assert outcome(event, FindingCode.FILED_IN_TIME) is expected
    assert (event.eligible_amount == 0) is (expected is FindingOutcome.NOT_MET)


def test_catering_above_the_cap_counts_up_to_the_cap() -> None:
    event = recorded(replace(COMMAND, catering_cost=Decimal("75.01")))
    assert outcome(event, FindingCode.CATERING_WITHIN_CAP) is FindingOutcome.NOT_MET
    assert event.eligible_amount == Decimal("1075.00")


def test_the_theme_list_holds_from_2023() -> None:
    old = replace(COMMAND, theme="koken", start_date=date(2022, 12, 31), end_date=date(2023, 1, 2))
    event = recorded(old, filed_on=date(2023, 1, 5), found=holder(date(2022, 1, 1)))
    assert outcome(event, FindingCode.ELIGIBLE_THEME) is FindingOutcome.NOT_APPLICABLE
    assert event.eligible_amount > 0
    new = replace(old, start_date=date(2023, 1, 1))
    event = recorded(new, filed_on=date(2023, 1, 5), found=holder(date(2022, 1, 1)))
    assert outcome(event, FindingCode.ELIGIBLE_THEME) is FindingOutcome.NOT_MET
    assert event.eligible_amount == 0


def test_registered_on_the_start_date_as_the_unit_stood_then() -> None:
    assert outcome(recorded(), FindingCode.REGISTERED_ON_START_DATE) is FindingOutcome.MET
    late_grant = recorded(found=holder(START.replace(day=3)))
    assert outcome(late_grant, FindingCode.REGISTERED_ON_START_DATE) is FindingOutcome.NOT_MET
    nobody = decide_project(COMMAND, ProjectState(), at(START), None)[0]
    assert isinstance(nobody, ProjectRecorded)
    assert nobody.provider_enterprise_number is None
    assert outcome(nobody, FindingCode.REGISTERED_ON_START_DATE) is FindingOutcome.NOT_MET
    assert nobody.eligible_amount == 0


def test_an_advice_project_has_no_catering_and_needs_an_advice_registration() -> None:
    advice = replace(
        COMMAND,
        service_type=ServiceType.ADVICE,
        participants=None,
        training_days=None,
        catering_cost=None,
    )
    event = recorded(advice)
    assert outcome(event, FindingCode.CATERING_WITHIN_CAP) is FindingOutcome.NOT_APPLICABLE
    assert outcome(event, FindingCode.REGISTERED_ON_START_DATE) is FindingOutcome.NOT_MET
    with pytest.raises(errors.InvalidCommand):
        recorded(replace(advice, catering_cost=Decimal("10")))


def given(*events: DomainEvent) -> ProjectState:
    state = ProjectState()
    for event in events:
        state = evolve_project(state, event)
    return state


def when(state: ProjectState, command: ProjectCommand) -> list[DomainEvent]:
    return list(decide_project(command, state, at(date(2026, 3, 1))))


def test_the_provider_checks_once_and_the_agency_decides_once() -> None:
    to_check = given(recorded())
    assert to_check.status is ProjectStatus.TO_CHECK
    assert when(to_check, ConfirmProject()) == [ProjectConfirmed(confirmed_on=date(2026, 3, 1))]
    confirmed = given(recorded(), ProjectConfirmed(confirmed_on=date(2026, 3, 1)))
    with pytest.raises(errors.ProjectAlreadyChecked):
        when(confirmed, DisputeProject(DisputeReason.WRONG_AMOUNT, "te hoog"))
    with pytest.raises(errors.ProjectNotApproved):
        when(confirmed, ReclaimProject("x"))
    with pytest.raises(errors.InvalidCommand):
        when(to_check, DisputeProject(DisputeReason.WRONG_AMOUNT, "  "))
    approved = given(recorded(), ProjectApproved(approved_on=date(2026, 3, 1)))
    for command in (ApproveProject(), StopProject("misbruik")):
        with pytest.raises(errors.ProjectAlreadyDecided):
            when(approved, command)
    assert when(approved, ReclaimProject(" teveel betaald "))[0].model_dump()["reason"] == (
        "teveel betaald"
    )
    with pytest.raises(errors.ProjectAlreadyRecorded):
        when(to_check, COMMAND)
