"""Audit bureaus."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from sqlalchemy import text

from app.api import schemas
from app.api.queries.registrations.pages import Filters, _page
from app.events.catalog import bureau_stream_id
from app.runtime.pg import Executes
from app.services.registrations import UnknownResource

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
