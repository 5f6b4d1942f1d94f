"""Applications for registration, within the caller's scope."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import text

from app.api import schemas
from app.api.http.auth import Principal
from app.api.queries import scope
from app.api.queries.registrations.pages import _page, scoped
from app.runtime.pg import Executes
from app.services.registrations import UnknownResource

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
