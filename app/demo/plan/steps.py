"""The kinds of step in the demo plan, and the facts every story shares: the agency, the
years of history, the made-up enterprise numbers, working days."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from app.demo.data.stories import DemoUnit
from app.domain.bureaus import AppointAuditBureau
from app.domain.decider import Command
from app.domain.identifiers import EnterpriseNumber, RegistrationUnit
from app.domain.profiles import UpdateProfile
from app.domain.projects import ProjectCommand
from app.domain.ratings import RecordRating
from app.domain.registration import Status
from app.events import Actor

YEARS_OF_HISTORY = 6
DEADLINE_JOB_EVERY = timedelta(days=7)
CORRELATION_ID = "kmop-demo"
AGENCY = Actor(id="vlaio-backoffice", role="agency")
IN_FORCE = frozenset(
    {Status.REGISTERED, Status.REGISTERED_CONDITIONALLY, Status.REGISTERED_STARTER}
)


def enterprise_number(n: int) -> EnterpriseNumber:
    """The n-th made-up, valid Belgian enterprise number (mod 97), spread over 0400-0799."""
    return EnterpriseNumber.with_check_digits(4_000_000 + (n * 1_234_577) % 4_000_000)


def working_day(day: date, after: date = date.min) -> date:
    """``day`` if a weekday; a Saturday becomes the Friday before (when that is still later
    than ``after``), a Sunday the Monday after: offices work on weekdays."""
    if day.weekday() == 5 and day - timedelta(days=1) > after:
        return day - timedelta(days=1)
    if day.weekday() >= 5:
        return day + timedelta(days=7 - day.weekday())
    return day


def bureau_enterprise(index: int) -> EnterpriseNumber:
    return enterprise_number(1 + index)


def provider_enterprise(index: int) -> EnterpriseNumber:
    return enterprise_number(101 + index)


def client_enterprise(index: int) -> EnterpriseNumber:
    return enterprise_number(1001 + index)


def unit_of(index: int, demo_unit: DemoUnit) -> RegistrationUnit:
    return RegistrationUnit(provider_enterprise(index), demo_unit.service_type)


def first_application_id(index: int, demo_unit: DemoUnit) -> str:
    return f"demo-{index + 1:02d}{demo_unit.service_type.number_letter.lower()}-1"


# --- the plan: what happens on which day ---------------------------------------------------


@dataclass(frozen=True, slots=True)
class UnitStep:
    unit_key: str
    command: Command
    actor: Actor


@dataclass(frozen=True, slots=True)
class ProfileStep:
    command: UpdateProfile
    actor: Actor


@dataclass(frozen=True, slots=True)
class RatingStep:
    command: RecordRating


@dataclass(frozen=True, slots=True)
class ProjectStep:
    """A command on a subsidy project; ``unit_key``: the unit whose number it names."""

    project_id: str
    command: ProjectCommand
    actor: Actor
    unit_key: str


@dataclass(frozen=True, slots=True)
class BureauStep:
    command: AppointAuditBureau


@dataclass(frozen=True, slots=True)
class DeadlineStep:
    pass


Action = UnitStep | ProfileStep | ProjectStep | RatingStep | BureauStep | DeadlineStep


@dataclass(frozen=True, slots=True)
class Step:
    day: date
    order: tuple[int, ...]  # within a day: the deadline job first, then provider by provider
    action: Action
