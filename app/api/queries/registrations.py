"""The read side of the API: projections (and, where the detail lives only there, the events)
turned into response documents, always through the caller's scope (``app.api.queries.scope``)."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import text

from app.api import schemas
from app.api.http.auth import Principal
from app.api.queries import scope
from app.domain.errors import ErrorKind, KmopError
from app.domain.events import AuditReportSubmitted, FailedAuditReactedTo
from app.domain.identifiers import InvalidIdentifier, RegistrationNumber
from app.domain.registration import UnitState, evolve
from app.events import EventStore
from app.events.bulk import MemoryTable
from app.events.catalog import REGISTRY, bureau_stream_id, unit_stream_id
from app.events.projections import Insert, registration_row
from app.runtime.pg import Executes, statement
from app.services.registrations import Located, Outcome, UnknownResource


class InvalidCursor(KmopError):
    code = "invalid-cursor"
    kind = ErrorKind.INVALID
    title = "The cursor is not one this service handed out"


def encode_cursor(key: str) -> str:
    return base64.urlsafe_b64encode(json.dumps({"after": key}).encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> str | None:
    if cursor is None:
        return None
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        after = json.loads(raw)["after"]
    except (binascii.Error, ValueError, KeyError, TypeError, UnicodeDecodeError):
        raise InvalidCursor(f"{cursor!r} is not a cursor from a previous page") from None
    if not isinstance(after, str) or "\x00" in after:
        raise InvalidCursor(f"{cursor!r} is not a cursor from a previous page")
    return after


@dataclass(frozen=True, slots=True)
class Filters:
    """``AND``-ed SQL conditions with their parameters."""

    conditions: tuple[str, ...] = ()
    params: Mapping[Any, Any] = field(default_factory=dict)

    def where(self, *more: str, **params: Any) -> Filters:
        return Filters((*self.conditions, *more), {**dict(self.params), **params})

    def sql(self) -> str:
        return " AND ".join(self.conditions) or "true"


def scoped(s: scope.Scope) -> Filters:
    return Filters((s.condition,), s.params)


async def _page(
    conn: Executes, select: str, key: str, filters: Filters, cursor: str | None, limit: int
) -> tuple[list[Any], str | None]:
    after = decode_cursor(cursor)
    if after is not None:
        filters = filters.where(f"{key} > :cursor_after", cursor_after=after)
    rows = (
        await conn.execute(
            text(f"{select} WHERE {filters.sql()} ORDER BY {key} LIMIT :limit"),
            {**filters.params, "limit": limit + 1},
        )
    ).all()
    more = len(rows) > limit
    rows = list(rows[:limit])
    last = rows[-1]._mapping[key.split(".")[-1]] if more else None
    return rows, (encode_cursor(last) if last is not None else None)


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


# --- applications -----------------------------------------------------------------------

_APPLICATIONS = """
    SELECT a.*, r.service_type, r.registration_number, r.stream_version,
           au.audit_id, au.bureau_id, au.audit_type, au.status AS audit_status,
           au.visit_date, au.result
    FROM applications a
    JOIN registrations r ON r.unit_key = a.unit_key
    LEFT JOIN audits au ON au.application_id = a.application_id
"""


def _application_view(row: Mapping[Any, Any]) -> schemas.Application:
    audit = (
        schemas.AuditSummary(
            audit_id=row["audit_id"],
            bureau_id=row["bureau_id"],
            audit_type=row["audit_type"],
            status=row["audit_status"],
            visit_date=row["visit_date"],
            result=row["result"],
        )
        if row["audit_id"] is not None
        else None
    )
    return schemas.Application(
        application_id=row["application_id"],
        registration_id=row["unit_key"],
        enterprise_number=row["enterprise_number"],
        service_type=row["service_type"],
        track=row["track"],
        status=row["status"],
        submitted_on=row["submitted_on"],
        sworn_declaration_on=row["sworn_declaration_on"],
        decided_on=row["decided_on"],
        audit=audit,
        registration_number=row["registration_number"] if row["status"] == "granted" else None,
        version=row["stream_version"],
    )


async def application(
    conn: Executes, application_id: str, principal: Principal
) -> schemas.Application:
    filters = scoped(scope.applications(principal)).where(
        "a.application_id = :id", id=application_id
    )
    row = (
        await conn.execute(text(f"{_APPLICATIONS} WHERE {filters.sql()}"), dict(filters.params))
    ).first()
    if row is None:
        raise UnknownResource(f"there is no application {application_id!r} that you may see")
    return _application_view(row._mapping)


async def list_applications(
    conn: Executes,
    principal: Principal,
    *,
    status: str | None,
    enterprise_number: str | None,
    cursor: str | None,
    limit: int,
) -> schemas.Page[schemas.Application]:
    filters = scoped(scope.applications(principal))
    if status:
        filters = filters.where("a.status = :status", status=status)
    if enterprise_number:
        filters = filters.where("a.enterprise_number = :kbo", kbo=enterprise_number)
    rows, next_cursor = await _page(conn, _APPLICATIONS, "a.application_id", filters, cursor, limit)
    return schemas.Page[schemas.Application](
        items=[_application_view(row._mapping) for row in rows], next_cursor=next_cursor
    )


# --- audits -----------------------------------------------------------------------------

_AUDITS = """
    SELECT au.*, r.enterprise_number, r.provider_name, r.service_type, r.stream_version
    FROM audits au JOIN registrations r ON r.unit_key = au.unit_key
"""


async def _reports(
    conn: Executes, unit_key: str, audit_id: str
) -> tuple[list[schemas.Report], list[schemas.Reaction]]:
    result = await conn.execute(
        text(
            "SELECT event_type, schema_version, data FROM events WHERE stream_id = :stream"
            " AND event_type IN ('AuditReportSubmitted', 'FailedAuditReactedTo')"
            " AND data->>'audit_id' = :audit ORDER BY version"
        ),
        {"stream": unit_stream_id(unit_key), "audit": audit_id},
    )
    reports: list[schemas.Report] = []
    reactions: list[schemas.Reaction] = []
    for row in result:
        data = row.data if isinstance(row.data, dict) else json.loads(row.data)
        event = REGISTRY.deserialize(row.event_type, row.schema_version, data)
        if isinstance(event, AuditReportSubmitted):
            reports.append(schemas.Report.model_validate(event.model_dump()))
        elif isinstance(event, FailedAuditReactedTo):
            reactions.append(schemas.Reaction(reacted_on=event.reacted_on, reaction=event.reaction))
    return reports, reactions


def _audit_fields(row: Mapping[Any, Any]) -> dict[str, Any]:
    return {
        "audit_id": row["audit_id"],
        "registration_id": row["unit_key"],
        "application_id": row["application_id"],
        "enterprise_number": row["enterprise_number"],
        "provider_name": row["provider_name"],
        "service_type": row["service_type"],
        "bureau_id": row["bureau_id"],
        "audit_type": row["audit_type"],
        "status": row["status"],
        "assigned_on": row["assigned_on"],
        "visit_date": row["visit_date"],
        "planned_hours": row["planned_hours"],
        "cost_estimate": row["cost_estimate"],
        "version": row["stream_version"],
    }


async def find_audit(conn: Executes, audit_id: str, principal: Principal) -> Mapping[Any, Any]:
    filters = scoped(scope.audits(principal)).where("au.audit_id = :id", id=audit_id)
    row = (
        await conn.execute(text(f"{_AUDITS} WHERE {filters.sql()}"), dict(filters.params))
    ).first()
    if row is None:
        raise UnknownResource(f"there is no audit {audit_id!r} that you may see")
    found: Mapping[Any, Any] = row._mapping
    return found


# An audit's own columns, as one JSON array (numbers as text: JSON would make them floats),
# found within the caller's scope: what a command on the audit reads with its one read
# (``RegistrationService.execute_located``), the unit's key first.
AUDIT_COLUMNS = (
    "unit_key",
    "application_id",
    "bureau_id",
    "audit_type",
    "status",
    "assigned_on",
    "visit_date",
    "planned_hours",
    "cost_estimate",
)
_AS_TEXT = frozenset({"planned_hours", "cost_estimate"})
_AUDIT_ROW = (
    "SELECT json_build_array("
    + ", ".join(
        f"CAST(au.{column} AS text)" if column in _AS_TEXT else f"au.{column}"
        for column in AUDIT_COLUMNS
    )
    + ") FROM audits au JOIN registrations r ON r.unit_key = au.unit_key"
)


def locate_application(application_id: str, principal: Principal) -> Located:
    """The unit of the application the caller may see, found by a command's one read."""
    filters = scoped(scope.applications(principal)).where(
        "a.application_id = :id", id=application_id
    )
    row = statement(
        text(f"SELECT json_build_array(a.unit_key) FROM applications a WHERE {filters.sql()}"),
        dict(filters.params),
    )
    return Located(row, f"there is no application {application_id!r} that you may see")


def locate_unit(ref: str, principal: Principal) -> Located:
    """A registration unit by its number (any written form) or its id, within the scope, found
    by a command's one read (``find_unit``'s lookup)."""
    filters = _unit_filters(ref, principal)
    source = scope.registration_source(principal)
    row = statement(
        text(f"SELECT json_build_array(r.unit_key) FROM {source} WHERE {filters.sql()}"),
        dict(filters.params),
    )
    return Located(row, f"there is no registration {ref!r} that you may see")


def locate_audit(audit_id: str, principal: Principal) -> Located:
    """The unit of the audit ``audit_id`` the caller may see, found by a command's one read."""
    filters = scoped(scope.audits(principal)).where("au.audit_id = :id", id=audit_id)
    row = statement(text(f"{_AUDIT_ROW} WHERE {filters.sql()}"), dict(filters.params))
    return Located(row, f"there is no audit {audit_id!r} that you may see")


def audit_after(
    audit_id: str, found: list[Any] | None, outcome: Outcome[UnitState]
) -> schemas.Audit:
    """The audit as ``queries.audit`` reads it after the command, made from what is in hand:
    its row as the command's read found it (None: the command made it), changed as the
    command's events changed the ``audits`` table, the unit's fields from its state, and the
    reports and reactions from the stream's events."""
    audits = MemoryTable("audit_id")
    if found is not None:
        read = dict(zip(AUDIT_COLUMNS, found, strict=True))
        audits.apply(Insert("audits", {"audit_id": audit_id, **read}))
    for change in outcome.changes:
        if change.table == "audits":
            audits.apply(change)
    row = {column: None for column in AUDIT_COLUMNS} | audits.rows[audit_id]
    unit = outcome.state.unit
    assert unit is not None
    reports: list[schemas.Report] = []
    reactions: list[schemas.Reaction] = []
    for event in (*outcome.before, *outcome.events):
        if isinstance(event, AuditReportSubmitted) and event.audit_id == audit_id:
            reports.append(schemas.Report.model_validate(event.model_dump()))
        elif isinstance(event, FailedAuditReactedTo) and event.audit_id == audit_id:
            reactions.append(schemas.Reaction(reacted_on=event.reacted_on, reaction=event.reaction))
    return schemas.Audit(
        **_audit_fields(
            {
                **row,
                "enterprise_number": str(unit.enterprise_number),
                "provider_name": outcome.state.provider_name or "",
                "service_type": unit.service_type.value,
                "stream_version": outcome.version,
            }
        ),
        reports=reports,
        reactions=reactions,
    )


async def audit(conn: Executes, audit_id: str, principal: Principal) -> schemas.Audit:
    row = await find_audit(conn, audit_id, principal)
    reports, reactions = await _reports(conn, row["unit_key"], audit_id)
    return schemas.Audit(**_audit_fields(row), reports=reports, reactions=reactions)


async def list_audits(
    conn: Executes,
    principal: Principal,
    *,
    status: str | None,
    bureau_id: str | None,
    cursor: str | None,
    limit: int,
) -> schemas.Page[schemas.AuditListItem]:
    filters = scoped(scope.audits(principal))
    if status:
        filters = filters.where("au.status = :status", status=status)
    if bureau_id:
        filters = filters.where("au.bureau_id = :bureau_id", bureau_id=bureau_id)
    rows, next_cursor = await _page(conn, _AUDITS, "au.audit_id", filters, cursor, limit)
    return schemas.Page[schemas.AuditListItem](
        items=[schemas.AuditListItem(**_audit_fields(row._mapping)) for row in rows],
        next_cursor=next_cursor,
    )


# --- bureaus ----------------------------------------------------------------------------

_BUREAUS = """
    SELECT b.*, (SELECT max(version) FROM events e WHERE e.stream_id = :prefix || b.bureau_id)
           AS version
    FROM bureaus b
"""
_BUREAU_PREFIX = {"prefix": bureau_stream_id("")}


def _bureau_view(row: Mapping[Any, Any]) -> schemas.Bureau:
    return schemas.Bureau(
        bureau_id=row["bureau_id"],
        name=row["name"],
        enterprise_number=row["enterprise_number"],
        appointed_from=row["appointed_from"],
        appointed_until=row["appointed_until"],
        contact=row["contact"],
        version=row["version"] or 0,
    )


async def bureau(conn: Executes, bureau_id: str) -> schemas.Bureau:
    row = (
        await conn.execute(
            text(f"{_BUREAUS} WHERE b.bureau_id = :id"), {"id": bureau_id, **_BUREAU_PREFIX}
        )
    ).first()
    if row is None:
        raise UnknownResource(f"there is no audit bureau {bureau_id!r}")
    return _bureau_view(row._mapping)


async def list_bureaus(
    conn: Executes, *, appointed_on: date | None, cursor: str | None, limit: int
) -> schemas.Page[schemas.Bureau]:
    filters = Filters((), _BUREAU_PREFIX)
    if appointed_on:
        filters = filters.where(
            "b.appointed_from <= :day AND (b.appointed_until IS NULL OR b.appointed_until >= :day)",
            day=appointed_on,
        )
    rows, next_cursor = await _page(conn, _BUREAUS, "b.bureau_id", filters, cursor, limit)
    return schemas.Page[schemas.Bureau](
        items=[_bureau_view(row._mapping) for row in rows], next_cursor=next_cursor
    )
