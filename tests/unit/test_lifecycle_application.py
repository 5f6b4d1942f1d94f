"""Applying: DOMAIN.md "Conditions to apply" and the starter rule."""

from __future__ import annotations

from datetime import date

import pytest

from app.domain import errors
from app.domain.decider import Context, SubmitApplication
from app.domain.events import ApplicationSubmitted, CertificateHeld, RegistrationKind, Track
from app.domain.identifiers import BankAccount, EnterpriseNumber, RegistrationUnit, ServiceType
from app.domain.norm import Certificate, ProfessionalBody
from app.domain.policies import StarterCriteria, StarterRule
from app.domain.registration import Status, UnitState
from tests.unit.lifecycle import (
    APPLICATION_ID,
    APPLIED_ON,
    BUREAU_ENTERPRISE,
    RETIRED_BUREAU_ENTERPRISE,
    UNIT,
    application_submitted,
    apply,
    failed,
    given,
    in_audit,
    refused,
    registered,
    when,
)

NOTHING = UnitState()
TODAY = date(2027, 6, 1)
# Before the failed audit's reaction deadline and the conditional follow-up's deadline.
WITHIN_DEADLINES = date(2026, 6, 1)


def test_an_application_stores_canonical_identifiers_and_cleaned_data() -> None:
    command = SubmitApplication(
        application_id="a-7",
        unit=RegistrationUnit(
            EnterpriseNumber.parse("BE 0403.170.701"), ServiceType.ADVICE, "Departement Handel"
        ),
        provider_name="  Hogeschool Gent  ",
        bank_account=BankAccount.parse("be68 5390 0754 7034"),
        activities=" Advies over export ",
        themes=("internationalisering", "digitalisering", "internationalisering"),
    )

    assert when(command, NOTHING, APPLIED_ON) == [
        ApplicationSubmitted(
            application_id="a-7",
            enterprise_number="0403170701",
            department="Departement Handel",
            service_type=ServiceType.ADVICE,
            provider_name="Hogeschool Gent",
            bank_account="BE68539007547034",
            activities="Advies over export",
            themes=("digitalisering", "internationalisering"),
            track=Track.BASIC,
            submitted_on=APPLIED_ON,
        )
    ]


def test_the_old_nine_digit_enterprise_number_is_stored_as_ten_digits() -> None:
    unit = RegistrationUnit(EnterpriseNumber.parse("403170701"), ServiceType.TRAINING)
    [event] = when(apply(unit=unit), NOTHING, APPLIED_ON)
    assert isinstance(event, ApplicationSubmitted)
    assert event.enterprise_number == "0403170701"


def test_claimed_exemptions_are_recorded_with_the_application() -> None:
    iso = CertificateHeld(certificate=Certificate.ISO_9001, valid_until=date(2027, 5, 31))
    command = apply(certificates=(iso,), professional_body=ProfessionalBody.IBR)
    assert when(command, NOTHING, APPLIED_ON) == [
        application_submitted(certificates=(iso,), professional_body=ProfessionalBody.IBR)
    ]


def test_a_submitted_application_is_applied_without_deadlines() -> None:
    state = given(*when(apply(), NOTHING, APPLIED_ON))
    assert state.status is Status.APPLIED
    assert state.unit == UNIT
    assert state.deadlines() == []


# --- not an audit bureau -------------------------------------------------------------------


def test_an_appointed_audit_bureau_cannot_apply() -> None:
    unit = RegistrationUnit(EnterpriseNumber.parse(BUREAU_ENTERPRISE), ServiceType.TRAINING)
    error = refused(errors.ApplicantIsAuditBureau, apply(unit=unit), NOTHING, APPLIED_ON)
    assert error.code == "applicant-is-audit-bureau"
    assert BUREAU_ENTERPRISE in error.detail


def test_a_bureau_whose_appointment_ended_may_apply() -> None:
    unit = RegistrationUnit(EnterpriseNumber.parse(RETIRED_BUREAU_ENTERPRISE), ServiceType.ADVICE)
    [event] = when(apply(unit=unit), NOTHING, APPLIED_ON)
    assert isinstance(event, ApplicationSubmitted)


# --- one open application; registered units renew ------------------------------------------


@pytest.mark.parametrize("track", [Track.BASIC, Track.RENEWAL])
def test_a_second_application_while_one_is_open_is_refused(track: Track) -> None:
    state = given(application_submitted())
    error = refused(
        errors.ApplicationAlreadyOpen, apply(track, application_id="a-2"), state, APPLIED_ON
    )
    assert APPLICATION_ID in error.detail


def test_an_application_in_audit_or_failed_is_still_open() -> None:
    for history in (in_audit(), failed()):
        refused(
            errors.ApplicationAlreadyOpen,
            apply(application_id="a-2"),
            given(*history),
            WITHIN_DEADLINES,
        )


@pytest.mark.parametrize("track", [Track.BASIC, Track.STARTER])
@pytest.mark.parametrize("kind", list(RegistrationKind))
def test_a_registered_unit_may_apply_only_for_renewal(track: Track, kind: RegistrationKind) -> None:
    command = apply(track, application_id="a-2", activity_started_on=date(2026, 1, 1), dossiers=3)
    refused(errors.UnitAlreadyRegistered, command, given(*registered(kind)), WITHIN_DEADLINES)


def test_a_registered_unit_applies_for_renewal() -> None:
    state = given(*registered())
    assert when(apply(Track.RENEWAL, application_id="a-2"), state, TODAY) == [
        application_submitted(Track.RENEWAL, application_id="a-2", submitted_on=TODAY)
    ]


def test_renewal_without_a_registration_is_refused() -> None:
    error = refused(errors.NotRegistered, apply(Track.RENEWAL), NOTHING, APPLIED_ON)
    assert error.code == "not-registered"


def test_the_same_enterprise_applies_per_service_type_and_department() -> None:
    """Each unit is its own stream: a registered training unit does not block advice."""
    advice = RegistrationUnit(UNIT.enterprise_number, ServiceType.ADVICE)
    [event] = when(apply(unit=advice), NOTHING, TODAY)
    assert isinstance(event, ApplicationSubmitted)
    assert event.service_type is ServiceType.ADVICE


# --- starters ------------------------------------------------------------------------------


def starter(started: date, dossiers: int | None) -> SubmitApplication:
    return apply(Track.STARTER, activity_started_on=started, dossiers=dossiers)


@pytest.mark.parametrize(
    ("started", "dossiers"),
    [
        (date(2024, 6, 2), 19),  # active 3 years minus a day, 19 dossiers
        (date(2027, 6, 1), 0),  # started today
    ],
)
def test_a_starter_is_recent_and_has_few_dossiers(started: date, dossiers: int) -> None:
    assert when(starter(started, dossiers), NOTHING, TODAY) == [
        application_submitted(
            Track.STARTER, activity_started_on=started, dossiers=dossiers, submitted_on=TODAY
        )
    ]


@pytest.mark.parametrize(
    ("started", "dossiers"),
    [
        (date(2024, 6, 1), 5),  # active exactly 3 years
        (date(2024, 6, 2), 20),  # 20 dossiers
        (date(2020, 1, 1), 40),  # neither
    ],
)
def test_not_a_starter_by_default_when_either_criterion_fails(started: date, dossiers: int) -> None:
    error = refused(errors.NotAStarter, starter(started, dossiers), NOTHING, TODAY)
    assert error.code == "not-a-starter"
    assert "3 years and has fewer than 20 dossiers" in error.detail


@pytest.mark.parametrize(
    ("started", "dossiers"), [(date(2024, 6, 1), None), (None, 3)], ids=["dossiers", "start"]
)
def test_the_starter_track_needs_start_date_and_dossiers(
    started: date | None, dossiers: int | None
) -> None:
    command = apply(Track.STARTER, activity_started_on=started, dossiers=dossiers)
    refused(errors.NotAStarter, command, NOTHING, TODAY)


@pytest.mark.parametrize(
    ("started", "dossiers"),
    [
        (date(2020, 1, 1), 19),  # old but few dossiers
        (date(2024, 6, 2), 99),  # recent but many
    ],
)
def test_the_or_setting_accepts_either_criterion(started: date, dossiers: int) -> None:
    context = Context(starter_criteria=StarterCriteria(rule=StarterRule.EITHER))
    [event] = when(starter(started, dossiers), NOTHING, TODAY, context)
    assert isinstance(event, ApplicationSubmitted)
    old_and_many = starter(date(2020, 1, 1), 20)
    error = refused(errors.NotAStarter, old_and_many, NOTHING, TODAY, context)
    assert " or has fewer than 20" in error.detail


def test_the_starter_thresholds_are_settings() -> None:
    context = Context(starter_criteria=StarterCriteria(max_years_active=1, max_dossiers=5))
    refused(errors.NotAStarter, starter(date(2026, 6, 1), 3), NOTHING, TODAY, context)
    refused(errors.NotAStarter, starter(date(2026, 6, 2), 5), NOTHING, TODAY, context)
    [event] = when(starter(date(2026, 6, 2), 4), NOTHING, TODAY, context)
    assert isinstance(event, ApplicationSubmitted)


# --- themes and the application's own data ------------------------------------------------


@pytest.mark.parametrize(
    "theme",
    [
        "bedrijfsstrategie",
        "beroepsspecifieke competenties",
        "digitalisering",
        "duurzaamheid",
        "financiële geletterdheid",
        "innovatie",
        "internationalisering",
        "personeelsmanagement",
    ],
)
def test_every_theme_eligible_since_2023_is_accepted(theme: str) -> None:
    [event] = when(apply(themes=(theme,)), NOTHING, APPLIED_ON)
    assert isinstance(event, ApplicationSubmitted)
    assert event.themes == (theme,)


@pytest.mark.parametrize("theme", ["ondernemerschap", "Digitalisering", "marketing"])
def test_a_theme_not_eligible_is_refused_by_name(theme: str) -> None:
    command = apply(themes=("innovatie", theme))
    error = refused(errors.InvalidCommand, command, NOTHING, APPLIED_ON)
    assert error.code == "invalid-command"
    assert f"themes not eligible: {theme}" in error.detail


def test_at_least_one_theme_a_name_and_activities_are_required() -> None:
    refused(errors.InvalidCommand, apply(themes=()), NOTHING, APPLIED_ON)
    nameless = SubmitApplication(
        application_id="a", unit=UNIT, provider_name=" ", bank_account=apply().bank_account,
        activities="x", themes=("innovatie",),
    )  # fmt: skip
    refused(errors.InvalidCommand, nameless, NOTHING, APPLIED_ON)
    idle = SubmitApplication(
        application_id="a", unit=UNIT, provider_name="P", bank_account=apply().bank_account,
        activities="  ", themes=("innovatie",),
    )  # fmt: skip
    refused(errors.InvalidCommand, idle, NOTHING, APPLIED_ON)


def test_a_starter_activity_cannot_start_in_the_future() -> None:
    command = apply(Track.STARTER, activity_started_on=date(9999, 6, 1), dossiers=2)
    refused(errors.InvalidCommand, command, UnitState(), APPLIED_ON)
