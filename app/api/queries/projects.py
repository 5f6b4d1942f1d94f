"""The read side of subsidy projects: the ``projects`` projection as the caller may see it
(``scope.projects``): the agency every project, a provider those filed with its registrations.

A command on a project finds it with the command's own read (``locate_project``) and replies
with the row made from what it has in hand (``project_after``): no read of its own."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import text

from app.api import schemas
from app.api.http.auth import Principal, Role
from app.api.queries import scope
from app.api.queries.registrations import Filters, _page, scoped
from app.domain.events import FindingCode
from app.domain.projects import CENT, ProjectState, ProjectStatus
from app.events.bulk import MemoryTable
from app.events.projections import Insert
from app.runtime.pg import Executes, statement
from app.services.registrations import Located, Outcome, UnknownResource

_SELECT = "SELECT p.* FROM projects p"


def waiting_days(row: Mapping[str, Any], today: date) -> int:
    """How long the project waited for the provider: from filing to its check, or to the
    agency's decision if that came first, or to today while it is still to check."""
    until = row["checked_on"] or row["decided_on"] or today
    days: int = (until - row["filed_on"]).days
    return max(days, 0)


def project_view(row: Mapping[str, Any], principal: Principal, today: date) -> schemas.Project:
    agency = principal.role is Role.AGENCY
    return schemas.Project(
        project_id=row["project_id"],
        client_enterprise_number=row["client_enterprise_number"],
        registration_number=row["registration_number"],
        provider_enterprise_number=row["provider_enterprise_number"],
        service_type=row["service_type"],
        theme=row["theme"],
        start_date=row["start_date"],
        end_date=row["end_date"],
        price_excluding_vat=row["price_excluding_vat"],
        vat=row["vat"],
        participants=row["participants"],
        training_days=row["training_days"],
        catering_cost=row["catering_cost"],
        eligible_amount=row["eligible_amount"],
        findings=[schemas.FindingView.model_validate(f) for f in _json(row["findings"])],
        filed_on=row["filed_on"],
        status=row["status"],
        checked_on=row["checked_on"],
        dispute_reason=row["dispute_reason"],
        dispute_comment=row["dispute_comment"],
        decided_on=row["decided_on"],
        decision_reason=row["decision_reason"] if agency else None,
        rating=_rating(row) if agency else None,
        waiting_days=waiting_days(row, today),
        version=row["stream_version"],
    )


def _rating(row: Mapping[str, Any]) -> schemas.ProjectRating | None:
    if row["rating_reference"] is None:
        return None
    return schemas.ProjectRating(
        reference=row["rating_reference"], score=row["rating_score"], rated_on=row["rated_on"]
    )


def _json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


def _missing(project_id: str) -> str:
    return f"there is no project {project_id!r} that you may see"


def _filters(project_id: str, principal: Principal) -> Filters:
    return scoped(scope.projects(principal)).where("p.project_id = :id", id=project_id)


async def find_project(conn: Executes, project_id: str, principal: Principal) -> Mapping[str, Any]:
    filters = _filters(project_id, principal)
    row = (await conn.execute(text(f"{_SELECT} WHERE {filters.sql()}"), filters.params)).first()
    if row is None:
        raise UnknownResource(_missing(project_id))
    found: Mapping[str, Any] = row._mapping
    return found


# What ``project_view`` shows of a row, as one JSON array (amounts as text: JSON would make them
# floats), found within the caller's scope: what a command on the project reads with its one
# read (``RegistrationService.execute_project``).
PROJECT_COLUMNS = (
    "project_id",
    "client_enterprise_number",
    "registration_number",
    "provider_enterprise_number",
    "service_type",
    "theme",
    "start_date",
    "end_date",
    "price_excluding_vat",
    "vat",
    "participants",
    "training_days",
    "catering_cost",
    "eligible_amount",
    "findings",
    "filed_on",
    "status",
    "checked_on",
    "dispute_reason",
    "dispute_comment",
    "decided_on",
    "decision_reason",
    "rating_reference",
    "rating_score",
    "rated_on",
    "stream_version",
)
# numeric(…, 2) columns: stored rounded to the cent
_AMOUNTS = frozenset(
    {"price_excluding_vat", "vat", "training_days", "catering_cost", "eligible_amount"}
)
_DATES = frozenset({"start_date", "end_date", "filed_on", "checked_on", "decided_on", "rated_on"})
_PROJECT_ROW = (
    "SELECT json_build_array("
    + ", ".join(
        f"CAST(p.{column} AS text)" if column in _AMOUNTS else f"p.{column}"
        for column in PROJECT_COLUMNS
    )
    + ") FROM projects p"
)


def locate_project(project_id: str, principal: Principal) -> Located:
    """The project the caller may see, its row as ``PROJECT_COLUMNS``, found by a command's one
    read (none: ``UnknownResource``, as ``find_project`` says it)."""
    filters = _filters(project_id, principal)
    row = statement(text(f"{_PROJECT_ROW} WHERE {filters.sql()}"), dict(filters.params))
    return Located(row, _missing(project_id))


def project_after(
    project_id: str,
    found: list[Any] | None,
    outcome: Outcome[ProjectState],
    principal: Principal,
    today: date,
) -> schemas.Project:
    """The project as ``project`` reads it after the command, made from what is in hand: its row
    as the command's read found it (None: the command recorded it), changed as the command's
    events changed the ``projects`` table, each value as the table stores it."""
    projects = MemoryTable("project_id")
    if found is not None:
        projects.apply(Insert("projects", dict(zip(PROJECT_COLUMNS, found, strict=True))))
    for change in outcome.changes:
        if change.table == "projects":
            projects.apply(change)
    row = {column: None for column in PROJECT_COLUMNS} | projects.rows[project_id]
    return project_view(_as_stored(row), principal, today)


def _as_stored(row: dict[str, Any]) -> dict[str, Any]:
    """Amounts rounded to the cent as numeric(…, 2) rounds them, dates as dates (JSON's are
    text)."""
    for column in _AMOUNTS:
        if row[column] is not None:
            row[column] = Decimal(row[column]).quantize(CENT, rounding=ROUND_HALF_UP)
    for column in _DATES:
        if isinstance(row[column], str):
            row[column] = date.fromisoformat(row[column])
    return row


async def project(
    conn: Executes, project_id: str, principal: Principal, today: date
) -> schemas.Project:
    return project_view(await find_project(conn, project_id, principal), principal, today)


async def list_projects(
    conn: Executes,
    principal: Principal,
    today: date,
    *,
    status: ProjectStatus | None,
    provider: str | None,
    registration_number: str | None,
    finding: FindingCode | None,
    waiting_more_than_days: int | None,
    cursor: str | None,
    limit: int,
) -> schemas.Page[schemas.Project]:
    filters: Filters = scoped(scope.projects(principal))
    if status:
        filters = filters.where("p.status = :status", status=status.value)
    if provider:
        filters = filters.where("p.provider_enterprise_number = :provider", provider=provider)
    if registration_number:
        filters = filters.where("p.registration_number = :number", number=registration_number)
    if finding:
        filters = filters.where(
            "p.unmet_findings @> ARRAY[CAST(:finding AS text)]", finding=finding.value
        )
    if waiting_more_than_days is not None:
        filed_before = today - timedelta(days=waiting_more_than_days)
        filters = filters.where(
            "p.status = 'to_check' AND p.filed_on < :filed_before", filed_before=filed_before
        )
    rows, next_cursor = await _page(conn, _SELECT, "p.project_id", filters, cursor, limit)
    return schemas.Page[schemas.Project](
        items=[project_view(row._mapping, principal, today) for row in rows],
        next_cursor=next_cursor,
    )
