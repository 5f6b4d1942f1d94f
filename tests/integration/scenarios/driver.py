"""``Driver(service, clock).run(plan)``: runs a plan through the service and records what the
tests check (``History``)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Awaitable
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from typing import TypeVar

from sqlalchemy import text

from app.domain.decider import RecordDecision
from app.domain.errors import DomainError
from app.domain.identifiers import RegistrationNumber
from app.domain.projects import RecordProject
from app.domain.registration import Status
from app.events import EventMetadata
from app.services.clock import FixedClock
from app.services.deadlines import run_deadlines
from app.services.registrations import RegistrationService
from tests.integration.scenarios.plan import Plan
from tests.integration.scenarios.timeline import (
    AGENCY,
    BRUSSELS,
    Action,
    BureauAction,
    DeadlineJob,
    ProjectAction,
    RatingAction,
    Step,
    UnitAction,
)

T = TypeVar("T")


@dataclass
class History:
    """What happened while the plan ran, as the service answered it."""

    statuses_seen: set[Status] = field(default_factory=set)
    first_numbers: dict[str, tuple[int, str]] = field(default_factory=dict)  # at first grant
    first_grant_order: list[str] = field(default_factory=list)
    granted_at: dict[str, list[datetime]] = field(default_factory=dict)  # decision instants
    deadline_events: Counter[str] = field(default_factory=Counter)
    deadline_runs: int = 0
    refusals: Counter[str] = field(default_factory=Counter)  # expected refusals, by code
    commands: int = 0
    ratings: int = 0


_NUMBER = text(
    "SELECT registration_serial, registration_number FROM registrations WHERE unit_key = :k"
)
_STATUSES = text("SELECT DISTINCT status FROM registrations")


class Driver:
    def __init__(self, service: RegistrationService, clock: FixedClock) -> None:
        self.service = service
        self.clock = clock
        self.history = History()

    async def run(self, plan: Plan) -> History:
        day, tick = None, 0
        for step in plan.steps:
            if step.day != day:
                day, tick = step.day, 0
            for action in step.actions:
                tick += 1
                self.clock.set(self._instant(step.day, tick, night=isinstance(action, DeadlineJob)))
                await self._run(action, step)
        return self.history

    @staticmethod
    def _instant(day: date, tick: int, *, night: bool) -> datetime:
        start = time(2, 0) if night else time(8, 0)
        return datetime.combine(day, start, BRUSSELS) + timedelta(seconds=7 * tick)

    async def _run(self, action: Action, step: Step) -> None:
        metadata = EventMetadata(correlation_id=f"step-{step.seq}")
        match action:
            case UnitAction():
                await self._unit(action, metadata)
            case BureauAction():
                await self.service.execute_bureau(
                    action.command, metadata.model_copy(update={"actor": AGENCY})
                )
            case ProjectAction():
                command = action.command
                if isinstance(command, RecordProject):
                    async with self.service.engine.connect() as conn:
                        row = (await conn.execute(_NUMBER, {"k": action.unit_key})).one()
                    number = RegistrationNumber.parse(row.registration_number)
                    command = replace(command, registration_number=number)
                agency = metadata.model_copy(update={"actor": AGENCY})
                await self.service.execute_project(action.project_id, command, agency)
            case RatingAction():
                await self._expect(
                    action.refused_with, self.service.record_rating(action.command, metadata)
                )
                if action.refused_with is None:
                    self.history.ratings += 1
            case DeadlineJob():
                await self._deadlines(action)

    async def _unit(self, action: UnitAction, metadata: EventMetadata) -> None:
        metadata = metadata.model_copy(update={"actor": action.actor})
        outcome = await self._expect(
            action.refused_with, self.service.execute(action.unit_key, action.command, metadata)
        )
        if outcome is None:
            return
        self.history.commands += 1
        self.history.statuses_seen.add(outcome.state.status)
        command = action.command
        if isinstance(command, RecordDecision) and command.granted:
            self.history.granted_at.setdefault(action.unit_key, []).append(self.clock.now())
            if action.unit_key not in self.history.first_numbers:
                async with self.service.engine.connect() as conn:
                    row = (await conn.execute(_NUMBER, {"k": action.unit_key})).one()
                self.history.first_numbers[action.unit_key] = (
                    row.registration_serial,
                    row.registration_number,
                )
                self.history.first_grant_order.append(action.unit_key)

    async def _expect(self, refused_with: type[DomainError] | None, call: Awaitable[T]) -> T | None:
        """Await ``call``; when a refusal is expected, it must come, and is counted."""
        if refused_with is None:
            return await call
        try:
            await call
        except refused_with as refusal:
            self.history.refusals[refusal.code] += 1
            return None
        raise AssertionError(f"the service did not refuse with {refused_with.code}")

    async def _deadlines(self, job: DeadlineJob) -> None:
        run = await run_deadlines(self.service, may_run_ahead=True)  # the test's clock
        self.history.deadline_runs += 1
        self.history.deadline_events.update(run.events)
        if job.twice:
            again = await run_deadlines(self.service, may_run_ahead=True)
            assert not again.events, f"the deadline job wrote twice: {again.events}"
        if run.events:
            async with self.service.engine.connect() as conn:
                statuses = (await conn.execute(_STATUSES)).scalars().all()
            self.history.statuses_seen.update(Status(s) for s in statuses)
