"""The history's timeline and cast: six years from 2020-01-06, the deadline job every 30 days,
the agency, the audit bureaus (one of them ended), made-up enterprise numbers, and the kinds of
step a plan is made of."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from app.domain.bureaus import BureauCommand
from app.domain.decider import Command
from app.domain.errors import DomainError
from app.domain.identifiers import EnterpriseNumber
from app.domain.projects import ProjectCommand
from app.domain.ratings import RecordRating
from app.events import Actor

BRUSSELS = ZoneInfo("Europe/Brussels")
START = date(2020, 1, 6)
END = date(2026, 1, 5)
DEADLINE_EVERY_DAYS = 30
DEADLINE_DAYS: tuple[date, ...] = tuple(
    sorted(
        {START + timedelta(days=n) for n in range(DEADLINE_EVERY_DAYS, (END - START).days + 1, 30)}
        | {END}
    )
)
AGENCY = Actor(id="vlaio-backoffice", role="agency")
PLACEHOLDER_SERIAL = 999_999  # a project's number until its unit's is known (ProjectAction)


def first_run_after(day: date) -> date | None:
    """The first deadline run that sees ``day`` as passed (runs on a later day)."""
    return next((run for run in DEADLINE_DAYS if run > day), None)


def enterprise_number(n: int) -> EnterpriseNumber:
    """The n-th made-up, valid Belgian enterprise number (0400.000.086, ...)."""
    return EnterpriseNumber.with_check_digits(4_000_000 + n)


# --- audit bureaus -----------------------------------------------------------------------


@dataclass(frozen=True)
class BureauPlan:
    bureau_id: str
    name: str
    enterprise_number: EnterpriseNumber
    appointed_from: date
    appointed_until: date | None = None  # the last day, as it will stand once known
    announced_on: date = START  # the day the agency records the appointment
    ended_on: date | None = None  # the day the agency ends the appointment early

    def covers(self, first: date, last: date) -> bool:
        """Appointed, as the service knows it on ``first``, from ``first`` through ``last``."""
        return (
            self.announced_on <= first
            and self.appointed_from <= first
            and (self.appointed_until is None or last <= self.appointed_until)
        )


LAST_DAY_2019_APPOINTMENTS = date(2023, 12, 31)
BUREAUS: tuple[BureauPlan, ...] = (
    BureauPlan(
        "vincotte", "AIB-Vinçotte International", enterprise_number(900_001), date(2019, 1, 1)
    ),
    BureauPlan("bqa", "Belgium Quality Association", enterprise_number(900_002), date(2019, 1, 1)),
    BureauPlan(
        "bureau-veritas",
        "Bureau Veritas Certification Belgium",
        enterprise_number(900_003),
        date(2019, 1, 1),
    ),
    BureauPlan("dnv", "DNV GL Business Assurance", enterprise_number(900_004), date(2019, 1, 1)),
    BureauPlan("kiwa", "Kiwa Belgium", enterprise_number(900_005), date(2019, 1, 1)),
    BureauPlan(
        "brand-compliance", "Brand Compliance", enterprise_number(900_006), date(2019, 1, 1)
    ),
    # appointed for a fixed period from the start
    BureauPlan(
        "bcc",
        "Belgisch Centrum voor Certificatie",
        enterprise_number(900_007),
        date(2019, 1, 1),
        appointed_until=LAST_DAY_2019_APPOINTMENTS,
    ),
    # appointed open-ended, the appointment ended by the agency in October 2023
    BureauPlan(
        "qfor",
        "AB Management Information Qfor",
        enterprise_number(900_008),
        date(2019, 1, 1),
        appointed_until=LAST_DAY_2019_APPOINTMENTS,
        ended_on=date(2023, 10, 2),
    ),
    # the 2024 appointment, announced in November 2023
    BureauPlan(
        "certup",
        "CertUp",
        enterprise_number(900_009),
        date(2024, 1, 1),
        announced_on=date(2023, 11, 15),
    ),
    BureauPlan(
        "lrqa",
        "LRQA",
        enterprise_number(900_010),
        date(2024, 1, 1),
        announced_on=date(2023, 11, 15),
    ),
)
ENDED_BUREAU = "qfor"


# --- steps -------------------------------------------------------------------------------


class Role(StrEnum):
    PROVIDER = "provider"
    BUREAU = "bureau"
    AGENCY = "agency"


@dataclass(frozen=True)
class UnitAction:
    unit_key: str
    command: Command
    actor: Actor
    refused_with: type[DomainError] | None = None  # the step expects this refusal


@dataclass(frozen=True)
class BureauAction:
    command: BureauCommand


@dataclass(frozen=True)
class RatingAction:
    command: RecordRating
    refused_with: type[DomainError] | None = None


@dataclass(frozen=True)
class ProjectAction:
    """A command on a subsidy project filed with ``unit_key``'s unit; a ``RecordProject`` names
    the unit's number, which is known once it is registered: the run fills it in."""

    project_id: str
    command: ProjectCommand
    unit_key: str


@dataclass(frozen=True)
class DeadlineJob:
    twice: bool = False  # run it again at once: the second run must write nothing


Action = UnitAction | BureauAction | ProjectAction | RatingAction | DeadlineJob


@dataclass(frozen=True)
class Step:
    day: date
    tie: float  # orders the steps of one day
    seq: int  # the order in which the plan made it: a last tie-break, and a label
    actions: tuple[Action, ...]

    @property
    def sort_key(self) -> tuple[date, float, int]:
        return (self.day, self.tie, self.seq)
