"""Audit bureaus (appointed for a period) and ratings (1 to 5, each reference counted once)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import date

import pytest

from app.domain import errors
from app.domain.bureaus import (
    AppointAuditBureau,
    BureauCommand,
    BureauState,
    EndBureauAppointment,
    decide_bureau,
    evolve_bureau,
)
from app.domain.event import DomainEvent
from app.domain.events import AuditBureauAppointed, AuditBureauAppointmentEnded, RatingRecorded
from app.domain.identifiers import EnterpriseNumber
from app.domain.ratings import (
    RatedProject,
    RatingState,
    RecordRating,
    decide_rating,
    evolve_rating,
)
from tests.unit.lifecycle import (
    BUREAU,
    BUREAU_ENTERPRISE,
    REPORTED_ON,
    appointed,
    context_with,
    given,
    in_audit,
    on,
    report,
    reported,
    when,
)

KIWA = "kiwa"
KIWA_NUMBER = EnterpriseNumber.parse("BE 0428.750.985")
FROM = date(2024, 1, 1)
UNTIL = date(2027, 12, 31)
TODAY = date(2026, 6, 1)
APPOINT = AppointAuditBureau(KIWA, "Kiwa Belgium", KIWA_NUMBER, FROM, UNTIL, "audit@kiwa.be")
APPOINTED = AuditBureauAppointed(
    bureau_id=KIWA,
    name="Kiwa Belgium",
    enterprise_number="0428750985",
    appointed_from=FROM,
    appointed_until=UNTIL,
    contact="audit@kiwa.be",
)


def given_bureau(*events: DomainEvent) -> BureauState:
    state = BureauState()
    for event in events:
        state = evolve_bureau(state, event)
    return state


def when_bureau(command: BureauCommand, state: BureauState, day: date) -> Sequence[DomainEvent]:
    return decide_bureau(command, state, on(day))


def test_a_bureau_is_appointed_with_its_canonical_enterprise_number() -> None:
    assert when_bureau(APPOINT, BureauState(), TODAY) == [APPOINTED]


@pytest.mark.parametrize(
    ("day", "appointed"),
    [
        (date(2023, 12, 31), False),
        (FROM, True),
        (UNTIL, True),
        (date(2028, 1, 1), False),
    ],
)
def test_a_bureau_is_appointed_from_its_first_through_its_last_day(
    day: date, appointed: bool
) -> None:
    assert given_bureau(APPOINTED).appointed_on(day) is appointed


def test_an_open_ended_appointment_holds_until_it_is_ended() -> None:
    open_ended = APPOINTED.model_copy(update={"appointed_until": None})
    assert given_bureau(open_ended).appointed_on(date(2099, 1, 1))
    ended = AuditBureauAppointmentEnded(bureau_id=KIWA, last_day=date(2026, 6, 30))
    state = given_bureau(open_ended, ended)
    assert state.appointed_on(date(2026, 6, 30))
    assert not state.appointed_on(date(2026, 7, 1))


def test_an_appointed_bureau_is_not_appointed_twice() -> None:
    error = errors.BureauAlreadyAppointed
    with pytest.raises(error) as caught:
        when_bureau(APPOINT, given_bureau(APPOINTED), TODAY)
    assert caught.value.code == "bureau-already-appointed"


def test_a_bureau_whose_appointment_ended_may_be_appointed_again() -> None:
    state = given_bureau(APPOINTED, AuditBureauAppointmentEnded(bureau_id=KIWA, last_day=TODAY))
    with pytest.raises(errors.BureauAlreadyAppointed):
        when_bureau(APPOINT, state, TODAY)  # its last day is today: still appointed
    again = AppointAuditBureau(KIWA, "Kiwa Belgium", KIWA_NUMBER, date(2026, 6, 2))
    [event] = when_bureau(again, state, date(2026, 6, 2))
    assert event == AuditBureauAppointed(
        bureau_id=KIWA,
        name="Kiwa Belgium",
        enterprise_number="0428750985",
        appointed_from=date(2026, 6, 2),
    )


def test_a_reappointed_bureau_stays_appointed_on_the_days_of_its_earlier_appointment() -> None:
    """The 2024 round reappointed bureaus of the brochure's list: an audit visited under the
    earlier appointment is still one by an appointed bureau; the gap between them is not."""
    ended = AuditBureauAppointmentEnded(bureau_id=KIWA, last_day=date(2026, 6, 30))
    reappointed = AuditBureauAppointed(
        bureau_id=KIWA,
        name="Kiwa Belgium",
        enterprise_number="0428750985",
        appointed_from=date(2026, 7, 2),
    )
    state = given_bureau(APPOINTED, ended, reappointed)
    assert state.appointed_on(date(2026, 6, 30))  # the earlier appointment
    assert not state.appointed_on(date(2026, 7, 1))  # between the two
    assert state.appointed_on(date(2026, 7, 2))
    assert not state.appointed_on(date(2023, 12, 31))
    assert state.appointed_from == date(2026, 7, 2)  # the current appointment


def test_a_report_on_a_visit_under_the_earlier_appointment_is_accepted() -> None:
    bureau_state = given_bureau(
        appointed(BUREAU, BUREAU_ENTERPRISE, date(2020, 1, 1), date(2026, 3, 5)),
        appointed(BUREAU, BUREAU_ENTERPRISE, date(2026, 3, 6)),
    )
    state = given(*in_audit())
    context = context_with(BUREAU, bureau_state)
    assert when(report(), state, REPORTED_ON, context) == [reported(report())]


def test_an_appointment_cannot_end_before_it_starts() -> None:
    backwards = AppointAuditBureau(KIWA, "Kiwa", KIWA_NUMBER, FROM, date(2023, 12, 31))
    with pytest.raises(errors.InvalidCommand):
        when_bureau(backwards, BureauState(), TODAY)
    with pytest.raises(errors.InvalidCommand):
        when_bureau(EndBureauAppointment(KIWA, date(2023, 12, 31)), given_bureau(APPOINTED), TODAY)


def test_ending_an_appointment() -> None:
    command = EndBureauAppointment(KIWA, date(2026, 6, 30))
    assert when_bureau(command, given_bureau(APPOINTED), TODAY) == [
        AuditBureauAppointmentEnded(bureau_id=KIWA, last_day=date(2026, 6, 30))
    ]
    with pytest.raises(errors.BureauUnknown) as caught:
        when_bureau(command, BureauState(), TODAY)
    assert caught.value.code == "bureau-unknown"


# --- ratings -------------------------------------------------------------------------------

PROVIDER = EnterpriseNumber.parse("0403170701")
CLIENT = EnterpriseNumber.parse("0417497106")
PROVIDER_OF_ANOTHER = EnterpriseNumber.parse("0202239951")
REGISTERED_ON = date(2025, 3, 14)  # the provider's first registration, before every rating
SERVICE_ENDED = date(2025, 3, 1)  # the last day of the project's service


def rate(score: int, rated_on: date | None = None) -> RecordRating:
    return RecordRating("rating-1", "project-1", CLIENT, score, rated_on)


def project(first_registered_on: date | None = REGISTERED_ON, **changes: object) -> RatedProject:
    """The project the rating names: CLIENT's, with PROVIDER's training, approved."""
    fields: dict[str, object] = {
        "client_enterprise_number": str(CLIENT),
        "provider_enterprise_number": str(PROVIDER),
        "registration_number": "DV.O000001",
        "end_date": SERVICE_ENDED,
        "status": "approved",
        "rated_by": None,
        "first_registered_on": first_registered_on,
    }
    return RatedProject(**(fields | changes))  # type: ignore[arg-type]


def recorded(score: int, rated_on: date = TODAY) -> RatingRecorded:
    return RatingRecorded(
        reference="rating-1",
        project_id="project-1",
        provider_enterprise_number="0403170701",
        client_enterprise_number="0417497106",
        score=score,
        rated_on=rated_on,
    )


@pytest.mark.parametrize("score", [1, 2, 3, 4, 5])
def test_a_rating_of_one_to_five_is_recorded(score: int) -> None:
    assert decide_rating(rate(score), RatingState(), on(TODAY), project()) == [recorded(score)]


@pytest.mark.parametrize("score", [0, 6, -1])
def test_a_rating_outside_one_to_five_is_refused(score: int) -> None:
    with pytest.raises(errors.InvalidCommand, match="1 to 5"):
        decide_rating(rate(score), RatingState(), on(TODAY), project())


def test_the_same_rating_reference_is_counted_once() -> None:
    state = evolve_rating(RatingState(), recorded(4))
    with pytest.raises(errors.RatingAlreadyRecorded) as caught:
        decide_rating(rate(5), state, on(TODAY), project())
    assert caught.value.code == "rating-already-recorded"


def test_a_rating_keeps_its_own_date_but_not_a_future_one() -> None:
    earlier = date(2026, 5, 20)
    assert decide_rating(rate(3, earlier), RatingState(), on(TODAY), project()) == [
        recorded(3, earlier)
    ]
    with pytest.raises(errors.InvalidCommand, match="future"):
        decide_rating(rate(3, date(2026, 6, 2)), RatingState(), on(TODAY), project())


def test_a_provider_cannot_rate_itself() -> None:
    itself = RecordRating("rating-1", "project-1", EnterpriseNumber.parse("BE 0403.170.701"), 5)
    own = project(client_enterprise_number=str(PROVIDER))  # a provider's project for itself
    with pytest.raises(errors.RatingOfItself) as caught:
        decide_rating(itself, RatingState(), on(TODAY), own)
    assert caught.value.code == "rating-of-itself"
    assert caught.value.kind is errors.InvalidCommand.kind  # 422: the command itself is wrong


def test_an_enterprise_that_was_never_registered_cannot_be_rated() -> None:
    with pytest.raises(errors.RatedEnterpriseNotRegistered) as caught:
        decide_rating(rate(4), RatingState(), on(TODAY), project(None))
    assert caught.value.code == "rated-enterprise-not-registered"
    assert caught.value.kind is errors.InvalidCommand.kind  # 422: names no provider to rate


def test_a_rating_dated_before_the_first_registration_is_refused() -> None:
    with pytest.raises(errors.RatedEnterpriseNotRegistered, match="first registered on"):
        decide_rating(rate(4, date(2025, 3, 13)), RatingState(), on(TODAY), project())


def test_a_rating_from_the_day_of_the_first_registration_on_is_recorded() -> None:
    """Whether the registration is still in force does not matter: ratings follow the service
    and its payment, and may come after the registration ended."""
    for rated_on in (REGISTERED_ON, TODAY):
        then = decide_rating(rate(4, rated_on), RatingState(), on(TODAY), project())
        assert then == [recorded(4, rated_on)]


def test_a_project_naming_a_number_no_unit_holds_names_no_provider_to_rate() -> None:
    nobody = project(None, provider_enterprise_number=None)
    with pytest.raises(errors.RatedEnterpriseNotRegistered, match="never a registration number"):
        decide_rating(rate(4), RatingState(), on(TODAY), nobody)


def test_only_the_projects_client_rates_it_once_after_the_service_it_paid_for() -> None:
    refusals: list[tuple[RecordRating, RatedProject | None, type[errors.DomainError]]] = [
        (rate(4), None, errors.RatedProjectUnknown),
        (rate(4), project(rated_by="rating-0"), errors.ProjectAlreadyRated),
        (replace(rate(4), client=PROVIDER_OF_ANOTHER), project(), errors.RatingNotByClient),
        (rate(4, date(2025, 2, 28)), project(), errors.RatingBeforeServiceEnded),
        (replace(rate(4), provider=PROVIDER_OF_ANOTHER), project(), errors.InvalidCommand),
    ]
    refusals += [
        (rate(4), project(status=status), errors.ProjectNotApproved)
        for status in ("to_check", "confirmed", "disputed", "stopped")
    ]
    for command, named, error in refusals:
        with pytest.raises(error):
            decide_rating(command, RatingState(), on(TODAY), named)
    registered_before = project(date(2025, 1, 1))
    on_the_last_day = decide_rating(
        rate(4, SERVICE_ENDED), RatingState(), on(TODAY), registered_before
    )
    assert on_the_last_day == [recorded(4, SERVICE_ENDED)]
    reclaimed = decide_rating(rate(4), RatingState(), on(TODAY), project(status="reclaimed"))
    assert reclaimed == [recorded(4)]
