"""Audits, with their reports and the provider's reactions, within the caller's scope."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from sqlalchemy import text

from app.api import schemas
from app.api.http.auth import Principal
from app.api.queries import scope
from app.api.queries.registrations.pages import _page, scoped
from app.domain.events import AuditReportSubmitted, FailedAuditReactedTo
from app.events.catalog import REGISTRY, unit_stream_id
from app.runtime.pg import Executes
from app.services.registrations import UnknownResource

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
