"""Every time rule and policy choice of the registration process, in one place, with its source.

Dates are calendar days in Belgium. A registration is in force from ``valid_from`` through
``valid_until`` (both days included): decided on 2026-03-15 for 5 years, it is in force through
2031-03-14 and has expired on 2031-03-15. A deadline is the last day on which the thing may
still happen; it is missed when the day after it has begun. "Within N months/years of D" ends on
the day before D + N. Adding years or months to the 29th-31st lands on the last day of a
shorter month (``python-dateutil``'s ``relativedelta``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum
from zoneinfo import ZoneInfo

from dateutil.relativedelta import relativedelta

BELGIUM = ZoneInfo("Europe/Brussels")

# DOMAIN.md "Time rules"; brochure (seeds/000) "Audit voor een starter", "Opvolgingsaudit".
REGISTRATION_YEARS = 5
STARTER_REGISTRATION_YEARS = 2
STARTER_FOLLOW_UP_WITHIN_YEARS = 2  # of the start date
STARTER_EXTENSION_YEARS = 3  # added to the end date after a passed follow-up
CONDITIONAL_FOLLOW_UP_MIN_MONTHS = 6  # the report's follow-up deadline, after the audit visit
CONDITIONAL_FOLLOW_UP_MAX_MONTHS = 12
REACTION_MONTHS = 6  # after a failed audit, to react to the bureau

ONE_DAY = timedelta(days=1)


def today(now: datetime) -> date:
    """The calendar day in Belgium at instant ``now`` (which must carry its time zone)."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    return now.astimezone(BELGIUM).date()


def end_of_day(day: date) -> datetime:
    """The last instant of calendar day ``day`` in Belgium: "as of a day" means the events
    recorded up to then."""
    return datetime.combine(day + ONE_DAY, time(), BELGIUM) - timedelta(microseconds=1)


def within_years(start: date, years: int) -> date:
    """The last day within ``years`` of ``start``."""
    return start + relativedelta(years=years) - ONE_DAY


def within_months(start: date, months: int) -> date:
    return start + relativedelta(months=months) - ONE_DAY


def registration_valid_until(decision_date: date, *, starter: bool) -> date:
    """The last day in force of a registration that runs from its decision date."""
    years = STARTER_REGISTRATION_YEARS if starter else REGISTRATION_YEARS
    return within_years(decision_date, years)


def starter_follow_up_deadline(start_date: date) -> date:
    """A starter's follow-up audit must pass within 2 years of the start date."""
    return within_years(start_date, STARTER_FOLLOW_UP_WITHIN_YEARS)


def starter_extended_valid_until(valid_until: date) -> date:
    """After a passed starter follow-up: the original end date plus 3 years."""
    return within_years(valid_until + ONE_DAY, STARTER_EXTENSION_YEARS)


def follow_up_deadline_allowed(visit_date: date, deadline: date) -> bool:
    """A conditional pass sets its follow-up deadline 6 to 12 months after the audit visit."""
    earliest = visit_date + relativedelta(months=CONDITIONAL_FOLLOW_UP_MIN_MONTHS)
    latest = visit_date + relativedelta(months=CONDITIONAL_FOLLOW_UP_MAX_MONTHS)
    return earliest <= deadline <= latest


def reaction_deadline(report_date: date) -> date:
    """After a failed audit the provider must react within 6 months, or be refused."""
    return within_months(report_date, REACTION_MONTHS)


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
        recent = on <= within_years(activity_start, self.max_years_active)
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


# DOMAIN.md "What the public search module offers": themes eligible since 1 January 2023.
ELIGIBLE_THEMES: frozenset[str] = frozenset(
    {
        "bedrijfsstrategie",
        "beroepsspecifieke competenties",
        "digitalisering",
        "duurzaamheid",
        "financiële geletterdheid",
        "innovatie",
        "internationalisering",
        "personeelsmanagement",
    }
)


# DOMAIN.md "The provider as co-guardian of the subsidy" (brochure seeds/000, Fase III): the
# checks the service computes on a subsidy project, each a finding (``app/domain/projects.py``).
PROJECT_FILING_DAYS = 14  # filed at the latest 14 days after the start of the service
CATERING_CAP_PER_PERSON_DAY = Decimal("25.00")  # EUR per participant per training day
THEMES_REQUIRED_FROM = date(2023, 1, 1)  # an eligible theme, for services starting from then
# Our choices: the provider's check of a project has no deadline of its own (the agency lists
# how long each project waits); the subsidy percentage is the kmo-portefeuille's business.


def project_filing_deadline(start_date: date) -> date:
    """The last day on which a project may be filed: 14 days after the start of the service."""
    return start_date + timedelta(days=PROJECT_FILING_DAYS)


def catering_cap(participants: int, training_days: Decimal) -> Decimal:
    """Eligible catering: at most EUR 25 per person per training day, in euro cents."""
    cap = CATERING_CAP_PER_PERSON_DAY * participants * training_days
    return cap.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
