"""Ratings of a provider by its client enterprises (1 to 5), each counted once by reference.

**Ratings come from projects** (DOMAIN.md, "The provider as co-guardian of the subsidy"): a
rating names the subsidy project it is about, and

* only that project's client gives it (``rating-not-by-client``), and the provider rated is the
  project's: the enterprise whose unit holds the number the project names;
* once per project (``project-already-rated``), and once per reference
  (``rating-already-recorded``);
* after the service: dated no earlier than the project's end date
  (``rating-before-service-ended``) and no later than today;
* of a service bought: the agency approved the project (the subsidy was paid), or reclaimed it
  afterwards (``project-not-approved`` otherwise: a project to check, disputed or stopped may
  be one the client never bought);
* a provider cannot rate itself (``rating-of-itself``), and **only a registered provider is
  rated**: one of its units had a registration granted on or before the rating's date
  (``rated-enterprise-not-registered``; a project naming a number no unit holds names no
  provider). The registration may have ended since: a rating follows the service and its payment.

**Ratings recorded before** (``RatingRecorded`` schema version 1, no project) stay as they are:
readable under their reference, counted in the provider's average; they name no project.

What the rules need from elsewhere (the project as the projections hold it, the provider's first
registration) the service reads with the command and passes in (``RatedProject``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from app.domain.errors import (
    InvalidCommand,
    ProjectAlreadyRated,
    ProjectNotApproved,
    RatedEnterpriseNotRegistered,
    RatedProjectUnknown,
    RatingAlreadyRecorded,
    RatingBeforeServiceEnded,
    RatingNotByClient,
    RatingOfItself,
)
from app.domain.event import DomainEvent
from app.domain.events import RatingRecorded
from app.domain.identifiers import EnterpriseNumber
from app.domain.policies import today
from app.domain.projects import ProjectStatus

MIN_SCORE, MAX_SCORE = 1, 5
# a service paid for: what a project's client may rate
RATED_STATUSES = frozenset({ProjectStatus.APPROVED.value, ProjectStatus.RECLAIMED.value})


@dataclass(frozen=True, slots=True)
class RatingState:
    recorded: bool = False


def evolve_rating(state: RatingState, event: DomainEvent) -> RatingState:
    return RatingState(recorded=True) if isinstance(event, RatingRecorded) else state


@dataclass(frozen=True, slots=True)
class RecordRating:
    reference: str
    project_id: str
    client: EnterpriseNumber
    score: int
    rated_on: date | None = None
    provider: EnterpriseNumber | None = None  # if the caller names it: must be the project's


@dataclass(frozen=True, slots=True)
class RatedProject:
    """The project a rating names, as recorded, and its provider's first registration."""

    client_enterprise_number: str
    provider_enterprise_number: str | None  # None: the project names a number no unit holds
    registration_number: str
    end_date: date
    status: str
    rated_by: str | None  # the reference of the rating it has, if any
    first_registered_on: date | None  # the earliest over the provider's units, None if none


def check_provider_registered(
    provider: str, rated_on: date, first_registered_on: date | None
) -> None:
    """Only a provider is rated: its first registration was granted on or before the rating's
    date (``first_registered_on``: the earliest over the enterprise's units, None if none)."""
    if first_registered_on is None:
        raise RatedEnterpriseNotRegistered(
            f"enterprise {provider} has never been a registered provider"
        )
    if rated_on < first_registered_on:
        raise RatedEnterpriseNotRegistered(
            f"enterprise {provider} was first registered on {first_registered_on},"
            f" after the rating's date {rated_on}"
        )


def decide_rating(
    command: RecordRating,
    state: RatingState,
    now: datetime,
    project: RatedProject | None,
) -> Sequence[DomainEvent]:
    """``project``: the project the rating names, None if no project has that id."""
    if state.recorded:
        raise RatingAlreadyRecorded(f"rating {command.reference!r} is already recorded")
    if project is None:
        raise RatedProjectUnknown(f"there is no project {command.project_id!r}")
    if project.rated_by is not None:
        raise ProjectAlreadyRated(
            f"project {command.project_id!r} is rated already (rating {project.rated_by!r})"
        )
    if str(command.client) != project.client_enterprise_number:
        raise RatingNotByClient(
            f"only the project's client {project.client_enterprise_number} rates it,"
            f" not {command.client}"
        )
    provider = project.provider_enterprise_number
    if provider is None:
        raise RatedEnterpriseNotRegistered(
            f"the project names {project.registration_number}, never a registration number"
            " of this registry: it names no provider"
        )
    if command.provider is not None and str(command.provider) != provider:
        raise InvalidCommand(f"the project's provider is {provider}, not {command.provider}")
    if str(command.client) == provider:
        raise RatingOfItself(f"enterprise {provider} cannot rate itself")
    if not MIN_SCORE <= command.score <= MAX_SCORE:
        raise InvalidCommand(f"a rating is {MIN_SCORE} to {MAX_SCORE}, not {command.score}")
    rated_on = command.rated_on or today(now)
    if rated_on > today(now):
        raise InvalidCommand("a rating cannot be dated in the future")
    if rated_on < project.end_date:
        raise RatingBeforeServiceEnded(
            f"the service ends on {project.end_date}; it is rated from then on, not {rated_on}"
        )
    if project.status not in RATED_STATUSES:
        raise ProjectNotApproved(
            f"only a project the agency approved is rated; this one is {project.status}"
        )
    check_provider_registered(provider, rated_on, project.first_registered_on)
    return [
        RatingRecorded(
            reference=command.reference,
            project_id=command.project_id,
            provider_enterprise_number=provider,
            client_enterprise_number=str(command.client),
            score=command.score,
            rated_on=rated_on,
        )
    ]
