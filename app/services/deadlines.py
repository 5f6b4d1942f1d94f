"""The deadline job: for a given instant, write the events that passed deadlines demand.

Follow-up missed, registration expired, application refused for lack of reaction. It finds the
units whose earliest pending deadline has passed (the ``registrations`` projection keeps it) and
runs ``ApplyDeadlines`` on each through the ordinary command path. Running it twice, or on two
servers at once, writes each event once: a second run finds the deadline handled in the state,
and two simultaneous runs on one unit conflict on the stream, so the loser decides again and
finds nothing left to do.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import text

from app.domain.decider import ApplyDeadlines
from app.domain.policies import today
from app.events import Actor, EventMetadata
from app.services.registrations import RegistrationService

log = logging.getLogger(__name__)

SYSTEM = Actor(id="deadline-job", role="system")


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


async def run_deadlines(service: RegistrationService, now: datetime | None = None) -> DeadlineRun:
    now = now or service.clock.now()
    run = DeadlineRun(now=now)
    async with service.engine.connect() as conn:
        due = (
            (
                await conn.execute(
                    text(
                        "SELECT unit_key FROM registrations WHERE pending_deadline < :today"
                        " ORDER BY pending_deadline, unit_key"
                    ),
                    {"today": today(now)},
                )
            )
            .scalars()
            .all()
        )
    metadata = EventMetadata(actor=SYSTEM, correlation_id=f"deadlines-{uuid.uuid4()}")
    for unit_key in due:
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


async def run_periodically(service: RegistrationService, interval_seconds: float) -> None:
    """The in-service schedule; cancelled at shutdown. A failed run is logged and retried."""
    while True:
        try:
            await run_deadlines(service)
        except Exception:
            log.exception("deadline job failed; trying again in %s s", interval_seconds)
        await asyncio.sleep(interval_seconds)
