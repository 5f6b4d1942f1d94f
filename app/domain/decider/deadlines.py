"""Deadlines: what the deadlines a unit let pass demand (a refusal for no reaction, a missed
follow-up, an expiry), for the deadline job and before every command."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from app.domain.event import DomainEvent
from app.domain.events import ApplicationRefusedForNoReaction, FollowUpMissed, RegistrationExpired
from app.domain.registration import Deadline, DeadlineKind, UnitState, evolve


@dataclass(frozen=True, slots=True)
class ApplyDeadlines:
    """Emit what the deadlines passed by ``now`` demand (the deadline job, per unit)."""


def deadline_events(state: UnitState, day: date) -> list[DomainEvent]:
    return [event for _, event in passed_deadlines(state, day)]


def passed_deadlines(state: UnitState, day: date) -> list[tuple[Deadline, DomainEvent]]:
    """Every deadline passed by ``day``, earliest first, with the event it demands on ``day``;
    each event may end what a later deadline was about (a missed follow-up ends the
    registration, so it does not also expire). What the deadline job writes, and what its
    preview lists."""
    found: list[tuple[Deadline, DomainEvent]] = []
    while (due := _first_due(state, day)) is not None:
        found.append(due)
        state = evolve(state, due[1])
    return found


def _first_due(state: UnitState, day: date) -> tuple[Deadline, DomainEvent] | None:
    due = [deadline for deadline in state.deadlines() if day > deadline.last_day]
    if not due:
        return None
    deadline = due[0]
    match deadline.kind:
        case DeadlineKind.FOLLOW_UP:
            return deadline, FollowUpMissed(deadline=deadline.last_day, missed_on=day)
        case DeadlineKind.EXPIRY:
            return deadline, RegistrationExpired(valid_until=deadline.last_day, expired_on=day)
        case DeadlineKind.REACTION:
            assert state.application is not None
            return deadline, ApplicationRefusedForNoReaction(
                application_id=state.application.application_id,
                reaction_deadline=deadline.last_day,
                refused_on=day,
            )
