"""Every time rule and policy choice of the registration process, in one place, with its source.

Dates are calendar dates; a period runs from its start day up to but not including its end day
(``start <= day < end``), so a 5-year registration decided on 2026-03-15 is in force through
2031-03-14 and has ended on 2031-03-15. Adding years or months to the 29th-31st lands on the
last day of a shorter month (``python-dateutil``'s ``relativedelta``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum

from dateutil.relativedelta import relativedelta

# DOMAIN.md "Time rules"; brochure (seeds/000) "Audit voor een starter", "Opvolgingsaudit".
REGISTRATION_YEARS = 5
STARTER_REGISTRATION_YEARS = 2
STARTER_FOLLOW_UP_WITHIN_YEARS = 2  # of the start date
STARTER_EXTENSION_YEARS = 3  # added to the end date after a passed follow-up
CONDITIONAL_FOLLOW_UP_MIN_MONTHS = 6  # the report's follow-up deadline, after the audit visit
CONDITIONAL_FOLLOW_UP_MAX_MONTHS = 12
REACTION_MONTHS = 6  # after a failed audit, to react to the bureau


def add_years(day: date, years: int) -> date:
    return day + relativedelta(years=years)


def add_months(day: date, months: int) -> date:
    return day + relativedelta(months=months)


def registration_end(decision_date: date, *, starter: bool) -> date:
    """The first day the registration is no longer in force, counted from the decision."""
    return add_years(decision_date, STARTER_REGISTRATION_YEARS if starter else REGISTRATION_YEARS)


def starter_follow_up_deadline(start_date: date) -> date:
    """A starter's follow-up audit must pass before this day."""
    return add_years(start_date, STARTER_FOLLOW_UP_WITHIN_YEARS)


def starter_extended_end(end_date: date) -> date:
    return add_years(end_date, STARTER_EXTENSION_YEARS)


def follow_up_deadline_allowed(visit_date: date, deadline: date) -> bool:
    """A conditional pass sets its follow-up deadline 6 to 12 months after the audit visit."""
    earliest = add_months(visit_date, CONDITIONAL_FOLLOW_UP_MIN_MONTHS)
    latest = add_months(visit_date, CONDITIONAL_FOLLOW_UP_MAX_MONTHS)
    return earliest <= deadline <= latest


def reaction_deadline(report_date: date) -> date:
    """After a failed audit the provider must react before this day, or be refused."""
    return add_months(report_date, REACTION_MONTHS)


class StarterRule(StrEnum):
    BOTH = "and"  # the audit bureau's text (seeds/001): recent AND few dossiers
    EITHER = "or"  # the brochure's wording: recent OR a limited client base


@dataclass(frozen=True, slots=True)
class StarterCriteria:
    """Who may take the starter audit. DOMAIN.md: the brochure gives no numbers, so the
    thresholds and the and/or are settings, defaulting to the audit bureau's text (001)."""

    max_years_active: int = 3
    max_dossiers: int = 20
    rule: StarterRule = StarterRule.BOTH

    def is_starter(self, activity_start: date, dossiers: int, on: date) -> bool:
        recent = on < add_years(activity_start, self.max_years_active)
        few = dossiers < self.max_dossiers
        return (recent and few) if self.rule is StarterRule.BOTH else (recent or few)


@dataclass(frozen=True, slots=True)
class HourlyRate:
    valid_from: date
    euros: Decimal


# The standard hourly rate of an audit: EUR 150 in the brochure (seeds/000), EUR 192.65 on a
# 2024 page (seeds/004). Each holds from its date; the audit date picks the rate.
HOURLY_RATES: tuple[HourlyRate, ...] = (
    HourlyRate(date(2016, 1, 1), Decimal("150.00")),
    HourlyRate(date(2024, 1, 1), Decimal("192.65")),
)


def hourly_rate_on(day: date, rates: tuple[HourlyRate, ...] = HOURLY_RATES) -> Decimal:
    in_force = [rate for rate in rates if rate.valid_from <= day]
    if not in_force:
        raise ValueError(f"no hourly audit rate is known for {day}")
    return max(in_force, key=lambda rate: rate.valid_from).euros


def audit_cost_estimate(
    planned_hours: Decimal, audit_date: date, rates: tuple[HourlyRate, ...] = HOURLY_RATES
) -> Decimal:
    cost = planned_hours * hourly_rate_on(audit_date, rates)
    return cost.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)  # euro cents, as invoiced
