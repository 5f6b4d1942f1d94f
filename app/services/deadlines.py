"""The deadline job: for a given instant, write the events that passed deadlines demand.

Follow-up missed, registration expired, application refused for lack of reaction. It finds the
units whose earliest pending deadline has passed (the ``registrations`` projection keeps it) and
runs ``ApplyDeadlines`` on each through the ordinary command path. Running it twice, or on two
servers at once, writes each event once: a second run finds the deadline handled in the state,
and two simultaneous runs on one unit conflict on the stream, so the loser decides again and
finds nothing left to do.

Its events are permanent, so outside a test environment the job refuses an instant later than
the real clock (``RunAhead``): a run "in 2031" would expire registrations valid until 2029 and
no event can take that back. ``due_deadlines`` shows instead what a run on a given day would
write, and writes nothing; both take the rules from the same place
(``app.domain.decider.passed_deadlines``).
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from app.domain.decider import ApplyDeadlines, passed_deadlines
from app.domain.errors import ErrorKind, KmopError
from app.domain.event import DomainEvent
from app.domain.policies import today
from app.domain.registration import DeadlineKind
from app.events import Actor, EventMetadata
from app.services.clock import SystemClock
from app.services.registrations import RegistrationService

log = logging.getLogger(__name__)

SYSTEM = Actor(id="deadline-job", role="system")

# The units whose earliest pending deadline has passed by :today, in the order of that deadline.
_DUE_UNITS = text(
    "SELECT unit_key, registration_number FROM registrations WHERE pending_deadline < :today"
    " ORDER BY pending_deadline, unit_key"
)


class RunAhead(KmopError):
    code = "deadlines-ahead-of-clock"
    kind = ErrorKind.INVALID
    title = "The deadline job cannot run ahead of the real clock"

    def __init__(self, now: datetime, real: datetime) -> None:
        day = today(now).isoformat()
        super().__init__(
            f"{now.isoformat()} is later than the real clock ({real.isoformat()}): the events a "
            "run writes are permanent, so it only runs at the real time (or before). To see what "
            f"a run on {day} would write, preview it: GET /deadlines?until={day} or "
            f"`kmop deadlines due --until {day}`.",
            now=now.isoformat(),
            real_now=real.isoformat(),
        )


@dataclass(frozen=True, slots=True)
class DueDeadline:
    """A deadline passed by the preview's day, and the event a run on that day would record."""

    unit_key: str
    registration_number: str | None
    kind: DeadlineKind
    last_day: date
    event: DomainEvent  # as a run on the preview's day would record it

    @property
    def due_on(self) -> date:
        """The first day a run records it: the day after the last day."""
        return self.last_day + timedelta(days=1)


async def _due_units(engine: AsyncEngine, day: date) -> list[Any]:
    async with engine.connect() as conn:
        return list((await conn.execute(_DUE_UNITS, {"today": day})).all())


async def due_deadlines(service: RegistrationService, until: date) -> list[DueDeadline]:
    """What a run of the job on ``until`` would write, unit by unit, from the units' events
    as they are now; ordered by the day each becomes due. Writes nothing."""
    found: list[DueDeadline] = []
    for unit_key, number in await _due_units(service.engine, until):
        state, _ = await service.unit_state(unit_key)
        for deadline, event in passed_deadlines(state, until):
            found.append(DueDeadline(unit_key, number, deadline.kind, deadline.last_day, event))
    return sorted(found, key=lambda due: (due.due_on, due.unit_key))


@dataclass
class DeadlineRun:
    now: datetime
    units_checked: int = 0
    events: Counter[str] = field(default_factory=Counter)
    failed: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, object]:
        return {
            "now": self.now.isoformat(),
            "units_checked": self.units_checked,
            "events": dict(self.events),
            "failed": list(self.failed),
        }


async def run_deadlines(
    service: RegistrationService,
    now: datetime | None = None,
    *,
    may_run_ahead: bool = False,
) -> DeadlineRun:
    """Write what the deadlines passed at ``now`` (default: the service's clock) demand.

    Refuses (``RunAhead``) an instant later than the real clock unless ``may_run_ahead``: only
    tests, on a clock of their own, may run the job in the future."""
    now = now or service.clock.now()
    real = SystemClock().now()
    if now > real and not may_run_ahead:
        raise RunAhead(now, real)
    run = DeadlineRun(now=now)
    due = await _due_units(service.engine, today(now))
    metadata = EventMetadata(actor=SYSTEM, correlation_id=f"deadlines-{uuid.uuid4()}")
    for unit_key, _ in due:
        run.units_checked += 1
        try:
            outcome = await service.execute(unit_key, ApplyDeadlines(), metadata, now=now)
        except Exception:  # one broken unit must not hold back every unit after it
            log.exception("deadline job: unit %s failed; going on with the others", unit_key)
            run.failed.append(unit_key)
            continue
        run.events.update(type(event).__name__ for event in outcome.events)
    if run.events:
        log.info("deadline job at %s: %s", now.isoformat(), dict(run.events))
    if service.metrics is not None:
        service.metrics.deadline_run(dict(run.events), len(run.failed))
    return run


async def run_periodically(
    service: RegistrationService, interval_seconds: float, *, may_run_ahead: bool = False
) -> None:
    """The in-service schedule; cancelled at shutdown. A failed run is logged and retried."""
    while True:
        try:
            await run_deadlines(service, may_run_ahead=may_run_ahead)
        except Exception:
            log.exception("deadline job failed; trying again in %s s", interval_seconds)
        await asyncio.sleep(interval_seconds)
