"""Ratings of a provider by its client enterprises (1 to 5), each counted once by reference.

Rules (DOMAIN.md, "The provider as co-guardian of the subsidy"): a score is 1 to 5, dated no
later than today, and the client is another enterprise than the provider: **a provider cannot
rate itself** (``rating-of-itself``). **Only a registered provider is rated**: one of its units
had a registration granted on or before the rating's date (``rated-enterprise-not-registered``).
The registration may have ended since: a rating follows the service and its payment.

Whether and since when the provider is registered lives in the registration units' streams, not
in the rating's: the service looks up the provider's first registration date and passes it in.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from app.domain.errors import (
    InvalidCommand,
    RatedEnterpriseNotRegistered,
    RatingAlreadyRecorded,
    RatingOfItself,
)
from app.domain.event import DomainEvent
from app.domain.events import RatingRecorded
from app.domain.identifiers import EnterpriseNumber
from app.domain.policies import today

MIN_SCORE, MAX_SCORE = 1, 5


@dataclass(frozen=True, slots=True)
class RatingState:
    recorded: bool = False


def evolve_rating(state: RatingState, event: DomainEvent) -> RatingState:
    return RatingState(recorded=True) if isinstance(event, RatingRecorded) else state


@dataclass(frozen=True, slots=True)
class RecordRating:
    reference: str
    provider: EnterpriseNumber
    client: EnterpriseNumber
    score: int
    rated_on: date | None = None


def check_not_self_rating(command: RecordRating) -> None:
    """The rating is a client's: the enterprise that gives it is not the provider it rates."""
    if command.client == command.provider:
        raise RatingOfItself(f"enterprise {command.provider} cannot rate itself")


def check_provider_registered(
    command: RecordRating, rated_on: date, first_registered_on: date | None
) -> None:
    """Only a provider is rated: its first registration was granted on or before the rating's
    date (``first_registered_on``: the earliest over the enterprise's units, None if none)."""
    if first_registered_on is None:
        raise RatedEnterpriseNotRegistered(
            f"enterprise {command.provider} has never been a registered provider"
        )
    if rated_on < first_registered_on:
        raise RatedEnterpriseNotRegistered(
            f"enterprise {command.provider} was first registered on {first_registered_on},"
            f" after the rating's date {rated_on}"
        )


def decide_rating(
    command: RecordRating,
    state: RatingState,
    now: datetime,
    first_registered_on: date | None,
) -> Sequence[DomainEvent]:
    """``first_registered_on``: the provider's first registration date, None if it has none."""
    if state.recorded:
        raise RatingAlreadyRecorded(f"rating {command.reference!r} is already recorded")
    check_not_self_rating(command)
    if not MIN_SCORE <= command.score <= MAX_SCORE:
        raise InvalidCommand(f"a rating is {MIN_SCORE} to {MAX_SCORE}, not {command.score}")
    rated_on = command.rated_on or today(now)
    if rated_on > today(now):
        raise InvalidCommand("a rating cannot be dated in the future")
    check_provider_registered(command, rated_on, first_registered_on)
    return [
        RatingRecorded(
            reference=command.reference,
            provider_enterprise_number=str(command.provider),
            client_enterprise_number=str(command.client),
            score=command.score,
            rated_on=rated_on,
        )
    ]
