"""Audit bureaus: appointed by the Flemish government, for a period; data the agency keeps."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta

from app.domain.errors import BureauAlreadyAppointed, BureauUnknown, InvalidCommand
from app.domain.event import DomainEvent
from app.domain.events import AuditBureauAppointed, AuditBureauAppointmentEnded
from app.domain.identifiers import EnterpriseNumber
from app.domain.policies import today


@dataclass(frozen=True, slots=True)
class BureauState:
    bureau_id: str | None = None
    name: str | None = None
    enterprise_number: str | None = None
    appointed_from: date | None = None
    appointed_until: date | None = None  # last day; None: open-ended
    # (first day, last day) of appointments before the current one: a reappointed bureau was
    # appointed on the days of those too, e.g. on the visit date of an audit it reports later
    earlier: tuple[tuple[date, date], ...] = ()

    def appointed_on(self, day: date) -> bool:
        if any(start <= day <= last for start, last in self.earlier):
            return True
        if self.appointed_from is None or day < self.appointed_from:
            return False
        return self.appointed_until is None or day <= self.appointed_until


def evolve_bureau(state: BureauState, event: DomainEvent) -> BureauState:
    match event:
        case AuditBureauAppointed():
            earlier = state.earlier
            if state.appointed_from is not None:
                last = state.appointed_until or event.appointed_from - timedelta(days=1)
                earlier = (*earlier, (state.appointed_from, last))
            return BureauState(
                bureau_id=event.bureau_id,
                name=event.name,
                enterprise_number=event.enterprise_number,
                appointed_from=event.appointed_from,
                appointed_until=event.appointed_until,
                earlier=earlier,
            )
        case AuditBureauAppointmentEnded():
            return replace(state, appointed_until=event.last_day)
    return state


@dataclass(frozen=True, slots=True)
class AppointAuditBureau:
    bureau_id: str
    name: str
    enterprise_number: EnterpriseNumber
    appointed_from: date
    appointed_until: date | None = None
    contact: str | None = None


@dataclass(frozen=True, slots=True)
class EndBureauAppointment:
    bureau_id: str
    last_day: date


BureauCommand = AppointAuditBureau | EndBureauAppointment


def decide_bureau(
    command: BureauCommand, state: BureauState, now: datetime
) -> Sequence[DomainEvent]:
    match command:
        case AppointAuditBureau():
            if state.appointed_from is not None and (
                state.appointed_until is None or state.appointed_until >= today(now)
            ):
                raise BureauAlreadyAppointed(f"bureau {command.bureau_id} is already appointed")
            if command.appointed_until is not None and (
                command.appointed_until < command.appointed_from
            ):
                raise InvalidCommand("an appointment cannot end before it starts")
            return [
                AuditBureauAppointed(
                    bureau_id=command.bureau_id,
                    name=command.name,
                    enterprise_number=str(command.enterprise_number),
                    appointed_from=command.appointed_from,
                    appointed_until=command.appointed_until,
                    contact=command.contact,
                )
            ]
        case EndBureauAppointment():
            if state.appointed_from is None:
                raise BureauUnknown(f"bureau {command.bureau_id} was never appointed")
            if command.last_day < state.appointed_from:
                raise InvalidCommand("an appointment cannot end before it started")
            return [
                AuditBureauAppointmentEnded(bureau_id=command.bureau_id, last_day=command.last_day)
            ]
