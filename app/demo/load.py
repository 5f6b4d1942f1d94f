"""Loading the demo data set through the service, and telling what it holds (``kmop demo``)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from contextlib import suppress
from dataclasses import dataclass, field, replace
from datetime import date, datetime

from sqlalchemy import text

from app.demo.data.bureaus import BUREAUS
from app.demo.data.providers import SHOWCASE
from app.demo.plan.build import DemoPlan, build_plan, timed
from app.demo.plan.steps import (
    AGENCY,
    CORRELATION_ID,
    IN_FORCE,
    YEARS_OF_HISTORY,
    Action,
    BureauStep,
    DeadlineStep,
    ProfileStep,
    ProjectStep,
    RatingStep,
    UnitStep,
)
from app.domain.errors import BureauAlreadyAppointed
from app.domain.identifiers import RegistrationNumber
from app.domain.policies import today
from app.domain.projects import ProjectStatus, RecordProject
from app.domain.registration import Status
from app.events import Actor, EventMetadata
from app.services.clock import FixedClock
from app.services.deadlines import run_deadlines
from app.services.registrations import RegistrationService


class DemoPartiallyLoaded(RuntimeError):
    """Some of the demo is there, not all: an earlier load was interrupted."""


async def _run(service: RegistrationService, action: Action) -> None:
    def by(actor: Actor) -> EventMetadata:
        return EventMetadata(actor=actor, correlation_id=CORRELATION_ID)

    match action:
        case UnitStep():
            await service.execute(action.unit_key, action.command, by(action.actor))
        case ProfileStep():
            await service.update_profile(action.command, by(action.actor))
        case ProjectStep():
            command = action.command
            if isinstance(command, RecordProject):  # the number its unit was given
                number = await _number(service, action.unit_key)
                command = replace(command, registration_number=number)
            await service.execute_project(action.project_id, command, by(action.actor))
        case RatingStep():
            await service.record_rating(action.command, by(AGENCY))
        case BureauStep():
            # a bureau appointed before the demo (as in the README's example) stays as it is
            with suppress(BureauAlreadyAppointed):
                await service.execute_bureau(action.command, by(AGENCY))
        case DeadlineStep():
            await run_deadlines(service)


async def _number(service: RegistrationService, unit_key: str) -> RegistrationNumber:
    async with service.engine.connect() as conn:
        found = await conn.scalar(
            text("SELECT registration_number FROM registrations WHERE unit_key = :key"),
            {"key": unit_key},
        )
    return RegistrationNumber.parse(str(found))


# --- loading and telling ---------------------------------------------------------------------


@dataclass(frozen=True)
class DemoSummary:
    already_loaded: bool
    start: date
    now: datetime
    bureaus: int
    providers: int
    statuses: dict[str, int]  # the demo's units per status, in the order of Status
    events: int  # in the whole event store
    ratings: int
    listed: int  # demo providers the public search lists today
    projects: dict[str, int] = field(default_factory=dict)  # subsidy projects per status
    numbers: list[tuple[str, str]] = field(default_factory=list)  # (number, provider name)

    @property
    def units(self) -> int:
        return sum(self.statuses.values())

    def lines(self, api: str = "http://127.0.0.1:8000") -> list[str]:
        head = (
            "The demo data is already loaded: nothing written."
            if self.already_loaded
            else f"Demo data loaded: {YEARS_OF_HISTORY} years of history, "
            f"{self.start} to {today(self.now)}."
        )
        lines = [
            head,
            f"{self.bureaus} audit bureaus, {self.providers} providers, {self.units} registration "
            f"units, {self.ratings} ratings; {self.events} events in the store.",
            "Registration units by status:",
            *(f"  {status:<26}{count:>3}" for status, count in self.statuses.items()),
            f"Listed in the public search today: {self.listed} providers.",
            "Subsidy projects by status: "
            + ", ".join(f"{status} {count}" for status, count in self.projects.items())
            + ".",
        ]
        if self.numbers:
            shown = ", ".join(f"{number} {name}" for number, name in self.numbers)
            lines.append(f"Some registration numbers: {shown}.")
        lines += [
            "Try the public search (with `kmop serve` running):",
            f"  curl '{api}/public/providers?q=vincotte'",
            f"  curl '{api}/public/providers?q=kiwa%20belgum'",
            f"  curl '{api}/public/providers?region=limburg&theme=duurzaamheid'",
        ]
        if self.numbers:
            lines.append(f"  curl '{api}/public/providers?number={self.numbers[0][0]}'")
        return lines


async def _present(service: RegistrationService, marks: Sequence[str]) -> int:
    async with service.engine.connect() as conn:
        found = await conn.scalar(
            text("SELECT count(*) FROM applications WHERE application_id = ANY(:ids)"),
            {"ids": list(marks)},
        )
    return int(found or 0)


async def summarize(
    service: RegistrationService, plan: DemoPlan, now: datetime, *, already_loaded: bool
) -> DemoSummary:
    day = today(now)
    async with service.engine.connect() as conn:
        rows = (
            await conn.execute(
                text(
                    "SELECT enterprise_number, provider_name, status, registration_number,"
                    " valid_from, valid_until FROM registrations WHERE unit_key = ANY(:keys)"
                    " ORDER BY registration_serial NULLS LAST, unit_key"
                ),
                {"keys": list(plan.expected)},
            )
        ).all()
        bureaus = await conn.scalar(
            text("SELECT count(*) FROM bureaus WHERE bureau_id = ANY(:ids)"),
            {"ids": [bureau.bureau_id for bureau in BUREAUS]},
        )
        ratings = await conn.scalar(
            text(
                "SELECT coalesce(sum(rating_count), 0) FROM provider_ratings"
                " WHERE enterprise_number = ANY(:kbos)"
            ),
            {"kbos": plan.enterprises},
        )
        events = await conn.scalar(text("SELECT count(*) FROM events"))
        projects: dict[str, int] = dict(
            (
                await conn.execute(
                    text(
                        "SELECT status, count(*) FROM projects"
                        " WHERE provider_enterprise_number = ANY(:kbos) GROUP BY status"
                    ),
                    {"kbos": plan.enterprises},
                )
            ).all()
        )
    counted = Counter(row.status for row in rows)
    listed = {
        row.enterprise_number
        for row in rows
        if row.status in IN_FORCE and row.valid_from <= day <= row.valid_until
    }
    numbers = [
        (row.registration_number, row.provider_name)
        for name in SHOWCASE
        for row in rows
        if row.provider_name == name and row.registration_number and row.enterprise_number in listed
    ]
    return DemoSummary(
        already_loaded=already_loaded,
        start=plan.start,
        now=now,
        bureaus=int(bureaus or 0),
        providers=len({row.enterprise_number for row in rows}),
        statuses={s.value: counted[s.value] for s in Status if counted[s.value]},
        events=int(events or 0),
        ratings=int(ratings or 0),
        listed=len(listed),
        numbers=numbers,
        projects={s.value: projects[s.value] for s in ProjectStatus if s.value in projects},
    )


async def load_demo(service: RegistrationService) -> DemoSummary:
    """Load the demo data set up to the service clock's now, unless it is there already."""
    now = service.clock.now()
    plan = build_plan(now)
    present = await _present(service, plan.marks)
    if present == len(plan.marks):
        return await summarize(service, plan, now, already_loaded=True)
    if present:
        raise DemoPartiallyLoaded(
            f"{present} of the demo's {len(plan.marks)} registration units are in this "
            "database: an earlier load was interrupted. Load the demo into an empty database."
        )
    clock = FixedClock(now)
    replay = RegistrationService(
        service.engine,
        clock=clock,
        projector=service.projector,
        registry=service.registry,
        starter_criteria=service.starter_criteria,
        hourly_rates=service.hourly_rates,
        attempts=service.attempts,
    )
    replay.metrics = service.metrics
    for instant, step in timed(plan.steps):
        if instant > now:  # the plan keeps every step before today: this is a bug
            raise AssertionError(f"a demo step at {instant} is after now ({now})")
        clock.set(instant)
        try:
            await _run(replay, step.action)
        except Exception as exc:
            exc.add_note(f"demo step at {instant.isoformat()}: {step.action}")
            raise
    clock.set(now)
    await run_deadlines(replay)
    return await summarize(service, plan, now, already_loaded=False)
