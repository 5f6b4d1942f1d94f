"""What a command reads with its one read (``RegistrationService.execute_located``): the unit of
an application, a registration or an audit the caller may see; and the audit as a command
left it, made from what is in hand."""

from __future__ import annotations

from typing import Any

from sqlalchemy import text

from app.api import schemas
from app.api.http.auth import Principal
from app.api.queries import scope
from app.api.queries.registrations.audits import _audit_fields
from app.api.queries.registrations.pages import scoped
from app.api.queries.registrations.units import _unit_filters
from app.domain.events import AuditReportSubmitted, FailedAuditReactedTo
from app.domain.registration import UnitState
from app.events.bulk import MemoryTable
from app.events.projections import Insert
from app.runtime.pg import statement
from app.services.registrations import Located, Outcome

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
