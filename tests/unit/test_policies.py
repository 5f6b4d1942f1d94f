from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from app.domain.policies import (
    StarterCriteria,
    StarterRule,
    audit_cost_estimate,
    follow_up_deadline_allowed,
    hourly_rate_on,
    reaction_deadline,
    registration_valid_until,
    starter_extended_valid_until,
    starter_follow_up_deadline,
    today,
)


def test_a_registration_is_in_force_five_years_from_the_decision() -> None:
    assert registration_valid_until(date(2026, 3, 15), starter=False) == date(2031, 3, 14)


def test_a_starter_registration_runs_two_years_and_a_follow_up_adds_three() -> None:
    until = registration_valid_until(date(2026, 3, 15), starter=True)
    assert until == date(2028, 3, 14)
    assert starter_follow_up_deadline(date(2026, 3, 15)) == date(2028, 3, 14)
    assert starter_extended_valid_until(until) == date(2031, 3, 14)


def test_a_leap_day_decision_runs_through_the_end_of_february() -> None:
    assert registration_valid_until(date(2024, 2, 29), starter=False) == date(2029, 2, 27)


def test_the_day_is_the_belgian_calendar_day() -> None:
    assert today(datetime(2026, 6, 30, 22, 30, tzinfo=UTC)) == date(2026, 7, 1)  # CEST
    assert today(datetime(2026, 12, 31, 22, 59, tzinfo=UTC)) == date(2026, 12, 31)  # CET
    with pytest.raises(ValueError, match="timezone-aware"):
        today(datetime(2026, 1, 1))


@pytest.mark.parametrize(
    ("deadline", "allowed"),
    [
        (date(2026, 7, 31), False),  # under 6 months
        (date(2026, 8, 1), True),  # exactly 6 months
        (date(2027, 2, 1), True),  # exactly 12 months
        (date(2027, 2, 2), False),  # over 12 months
    ],
)
def test_conditional_follow_up_deadline_is_six_to_twelve_months(
    deadline: date, allowed: bool
) -> None:
    assert follow_up_deadline_allowed(date(2026, 2, 1), deadline) is allowed


def test_a_failed_audit_leaves_six_months_to_react() -> None:
    assert reaction_deadline(date(2026, 3, 10)) == date(2026, 9, 9)
    assert reaction_deadline(date(2026, 8, 31)) == date(2027, 2, 27)


@pytest.mark.parametrize(
    ("rule", "started", "dossiers", "expected"),
    [
        (StarterRule.BOTH, date(2024, 6, 2), 19, True),
        (StarterRule.BOTH, date(2024, 6, 2), 20, False),
        (StarterRule.BOTH, date(2024, 6, 1), 5, False),  # exactly 3 years active
        (StarterRule.EITHER, date(2020, 1, 1), 5, True),
        (StarterRule.EITHER, date(2020, 1, 1), 25, False),
    ],
)
def test_starter_criteria_are_settings_with_the_bureaus_default(
    rule: StarterRule, started: date, dossiers: int, expected: bool
) -> None:
    criteria = StarterCriteria(rule=rule)
    assert criteria.is_starter(started, dossiers, on=date(2027, 6, 1)) is expected


def test_the_hourly_rate_in_force_on_the_audit_date_prices_the_audit() -> None:
    assert hourly_rate_on(date(2023, 12, 31)) == Decimal("150.00")
    assert hourly_rate_on(date(2024, 1, 1)) == Decimal("192.65")
    assert audit_cost_estimate(Decimal("16"), date(2023, 5, 1)) == Decimal("2400.00")
    assert audit_cost_estimate(Decimal("14.5"), date(2026, 5, 1)) == Decimal("2793.43")
    with pytest.raises(ValueError, match="no hourly audit rate"):
        hourly_rate_on(date(2010, 1, 1))
