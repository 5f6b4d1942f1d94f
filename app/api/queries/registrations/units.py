"""Registration units: found by number or id within the scope, listed, folded as of a moment,
and their history."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import text

from app.api import schemas
from app.api.http.auth import Principal
from app.api.queries import scope
from app.api.queries.registrations.pages import Filters, _page, scoped
from app.domain.identifiers import InvalidIdentifier, RegistrationNumber
from app.domain.registration import UnitState, evolve
from app.events import EventStore
from app.events.catalog import REGISTRY, unit_stream_id
from app.events.projections import registration_row
from app.runtime.pg import Executes
from app.services.registrations import UnknownResource

# --- registrations ----------------------------------------------------------------------


def _registrations(principal: Principal) -> str:
    return f"SELECT r.* FROM {scope.registration_source(principal)}"


def registration_view(
    row: Mapping[Any, Any], as_of: datetime | None = None
) -> schemas.Registration:
    deadline = (
        schemas.PendingDeadline(kind=row["deadline_kind"], last_day=row["pending_deadline"])
        if row["pending_deadline"] is not None
        else None
    )
    return schemas.Registration(
        id=row["unit_key"],
        registration_number=row.get("registration_number"),
        enterprise_number=row["enterprise_number"],
        department=row["department"],
        service_type=row["service_type"],
        provider_name=row["provider_name"],
        status=row["status"],
        registration_kind=row["registration_kind"],
        first_registered_on=row["first_registered_on"],
        valid_from=row["valid_from"],
        valid_until=row["valid_until"],
        pending_deadline=deadline,
        open_application_id=row["application_id"],
        current_audit_id=row["current_audit_id"],
        current_bureau_id=row["current_bureau_id"],
        version=row["stream_version"],
        as_of=as_of,
    )


def _unit_filters(ref: str, principal: Principal) -> Filters:
    try:
        number: str | None = str(RegistrationNumber.parse(ref))
    except InvalidIdentifier:
        number = None
    filters = scoped(scope.registrations(principal))
    return (
        filters.where("r.registration_number = :ref", ref=number)
        if number
        else filters.where("r.unit_key = :ref", ref=ref)
    )


async def find_unit(conn: Executes, ref: str, principal: Principal) -> Mapping[Any, Any]:
    """A registration unit by its number (any written form) or its id, within the scope."""
    filters = _unit_filters(ref, principal)
    row = (
        await conn.execute(
            text(f"{_registrations(principal)} WHERE {filters.sql()}"), dict(filters.params)
        )
    ).first()
    if row is None:
        raise UnknownResource(f"there is no registration {ref!r} that you may see")
    found: Mapping[Any, Any] = row._mapping
    return found


@dataclass(frozen=True, slots=True)
class FoldedUnit:
    state: UnitState
    version: int  # of the stream, then
    last_recorded_at: datetime | None  # when its last event was recorded


async def unit_state_as_of(conn: Executes, unit_key: str, as_of: datetime | None) -> FoldedUnit:
    """The unit's state folded from the events recorded up to ``as_of`` (None: all of them).
    Every as-of answer (the agency's ``as_of``, the public check, the attest) is this fold."""
    recorded = await EventStore(conn, REGISTRY).read_stream(unit_stream_id(unit_key), as_of=as_of)
    state = UnitState()
    for item in recorded:
        state = evolve(state, item.event)
    last = recorded[-1].recorded_at if recorded else None
    return FoldedUnit(state, len(recorded), last)


async def registration_as_of(
    conn: Executes, live: Mapping[Any, Any], as_of: datetime, principal: Principal
) -> schemas.Registration:
    """The unit as the events recorded up to ``as_of`` make it, as the caller may see it."""
    folded = await unit_state_as_of(conn, live["unit_key"], as_of)
    state = folded.state
    if state.unit is None:
        raise UnknownResource(f"registration {live['unit_key']!r} did not exist yet at {as_of}")
    row = registration_row(live["unit_key"], state, folded.version, as_of)
    # A number, once given, is the unit's for life; before its first registration it had none.
    row["registration_number"] = (
        live["registration_number"] if state.first_registered_on is not None else None
    )
    return registration_view(scope.registration_as_seen(principal, row), as_of=as_of)


async def list_registrations(
    conn: Executes,
    principal: Principal,
    *,
    status: str | None,
    service_type: str | None,
    bureau_id: str | None,
    enterprise_number: str | None,
    deadline_before: date | None,
    cursor: str | None,
    limit: int,
) -> schemas.Page[schemas.Registration]:
    filters = scoped(scope.registrations(principal))
    if status:
        filters = filters.where("r.status = :status", status=status)
    if service_type:
        filters = filters.where("r.service_type = :service_type", service_type=service_type)
    if bureau_id:
        filters = filters.where("r.current_bureau_id = :bureau_id", bureau_id=bureau_id)
    if enterprise_number:
        filters = filters.where("r.enterprise_number = :kbo", kbo=enterprise_number)
    if deadline_before:
        filters = filters.where("r.pending_deadline < :before", before=deadline_before)
    rows, next_cursor = await _page(
        conn, _registrations(principal), "r.unit_key", filters, cursor, limit
    )
    return schemas.Page[schemas.Registration](
        items=[registration_view(row._mapping) for row in rows], next_cursor=next_cursor
    )


async def history(conn: Executes, unit_key: str) -> list[schemas.HistoryEvent]:
    recorded = await EventStore(conn, REGISTRY).read_stream(unit_stream_id(unit_key))
    return [
        schemas.HistoryEvent(
            position=item.position,
            version=item.version,
            event_type=item.event_type,
            schema_version=item.event.schema_version,
            data=item.event.model_dump(mode="json"),
            actor=schemas.Actor(**item.metadata.actor.model_dump())
            if item.metadata.actor
            else None,
            correlation_id=item.metadata.correlation_id,
            idempotency_key=item.metadata.idempotency_key,
            recorded_at=item.recorded_at,
        )
        for item in recorded
    ]
