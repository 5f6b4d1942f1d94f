"""The registration decider: ``decide(command, state, now, context) -> events``, split by part
of the process.

Pure: the state comes folded from the unit's events (``registration.evolve``), the time comes
in as ``now``, and what lives in other streams (the appointed audit bureaus) or in settings
(starter criteria, hourly rates) comes in as ``context``. Each refusal is a named error of
``app.domain.errors``.

``context``: what comes from other streams and settings; ``application``: submitting and the
sworn declaration; ``audit``: choosing the bureau, planning, the report, the reaction to a failed
audit; ``follow_up``: the follow-up audit a conditional or starter registration owes;
``decision``: granting or refusing, and stopping; ``deadlines``: what passed deadlines demand.
This module sends each command to its part, deadlines first.

May import: the rest of ``app.domain`` only (pure: no I/O, no clock, no framework).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

from app.domain import errors
from app.domain.decider import application, audit, deadlines, decision
from app.domain.decider.application import RecordSwornDeclaration, SubmitApplication
from app.domain.decider.audit import (
    ChooseAuditBureau,
    PlanAudit,
    ReactToFailedAudit,
    SubmitAuditReport,
)
from app.domain.decider.context import Context
from app.domain.decider.deadlines import ApplyDeadlines, passed_deadlines
from app.domain.decider.decision import RecordDecision, StopRegistration
from app.domain.event import DomainEvent
from app.domain.policies import today
from app.domain.registration import UnitState, evolve

__all__ = [
    "ApplyDeadlines",
    "ChooseAuditBureau",
    "Command",
    "Context",
    "PlanAudit",
    "ReactToFailedAudit",
    "RecordDecision",
    "RecordSwornDeclaration",
    "StopRegistration",
    "SubmitApplication",
    "SubmitAuditReport",
    "decide",
    "passed_deadlines",
]

Command = (
    SubmitApplication
    | RecordSwornDeclaration
    | ChooseAuditBureau
    | PlanAudit
    | SubmitAuditReport
    | ReactToFailedAudit
    | RecordDecision
    | StopRegistration
    | ApplyDeadlines
)


def decide(
    command: Command, state: UnitState, now: datetime, context: Context | None = None
) -> Sequence[DomainEvent]:
    context = context or Context()
    day = today(now)
    if isinstance(command, ApplyDeadlines):
        return deadlines.deadline_events(state, day)
    # A deadline that passed decides first, even if the deadline job has not run yet: a
    # registration that expired yesterday cannot be stopped or renewed today. Its events are
    # written with the command's.
    due = deadlines.deadline_events(state, day)
    after = state
    for event in due:
        after = evolve(after, event)
    try:
        return [*due, *_decide(command, after, day, context)]
    except errors.DomainError:
        if due:
            _refuse_as_too_late(command, state, day, context)
        raise


_TOO_LATE = (errors.ReactionTooLate, errors.FollowUpAfterDeadline)


def _refuse_as_too_late(command: Command, state: UnitState, day: date, context: Context) -> None:
    """When a passed deadline is why a command fails, say so: "the reaction was due by ..."
    tells more than "there is no failed audit" (which is what the state after it says)."""
    try:
        _decide(command, state, day, context)
    except _TOO_LATE:
        raise
    except errors.DomainError:
        pass


def _decide(command: Command, state: UnitState, day: date, context: Context) -> list[DomainEvent]:
    match command:
        case SubmitApplication():
            return application.submit(command, state, day, context)
        case RecordSwornDeclaration():
            return application.sworn_declaration(command, state, day)
        case ChooseAuditBureau():
            return audit.choose_bureau(command, state, day, context)
        case PlanAudit():
            return audit.plan(command, state, day, context)
        case SubmitAuditReport():
            return audit.report(command, state, day, context)
        case ReactToFailedAudit():
            return audit.react(command, state, day)
        case RecordDecision():
            return decision.decision(command, state, day)
        case StopRegistration():
            return decision.stop(command, state, day)
        case ApplyDeadlines():
            return []
