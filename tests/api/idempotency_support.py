"""What tests/api/test_idempotency.py and tests/api/test_if_match_and_races.py share: the
replay header, an audit's dates, and helpers that count what was appended in the ``events``
table itself, read the stored keys, and bring an application to a passed audit over HTTP."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from app.services.clock import FixedClock
from tests.api.support import (
    AGENCY,
    BUREAU,
    BUREAU_ID,
    PROVIDER,
    application_body,
    bureau_body,
    key,
    ok,
    report_body,
)

REPLAYED = "Idempotent-Replayed"
VISIT = date(2026, 1, 15)
REPORTED = datetime(2026, 1, 16, 10, tzinfo=UTC)
DECISION_EVENTS = ("RegistrationGranted", "ApplicationRefused")


async def count_events(engine: AsyncEngine, *event_types: str) -> int:
    sql = "SELECT count(*) FROM events"
    params: dict[str, Any] = {}
    if event_types:
        sql += " WHERE event_type = ANY(:types)"
        params["types"] = list(event_types)
    async with engine.connect() as conn:
        return int(await conn.scalar(text(sql), params) or 0)


async def last_event(engine: AsyncEngine) -> tuple[str, dict[str, Any]]:
    async with engine.connect() as conn:
        row = (
            await conn.execute(
                text("SELECT event_type, metadata FROM events ORDER BY position DESC LIMIT 1")
            )
        ).one()
    return str(row.event_type), dict(row.metadata)


async def stored_keys(engine: AsyncEngine) -> set[tuple[str, str]]:
    async with engine.connect() as conn:
        rows = (await conn.execute(text("SELECT client_id, key FROM idempotency_keys"))).all()
    return {(str(row.client_id), str(row.key)) for row in rows}


async def submit(api: httpx.AsyncClient, service_type: str = "opleiding") -> str:
    response = await api.post(
        "/applications", json=application_body(service_type), headers=PROVIDER | key()
    )
    application_id: str = ok(response, 201)["application_id"]
    return application_id


async def audit_passed(api: httpx.AsyncClient, clock: FixedClock, application_id: str) -> None:
    """From a submitted application to a passed audit report: a decision may now be made."""
    ok(await api.post("/bureaus", json=bureau_body(), headers=AGENCY | key()), 201)
    ok(
        await api.post(
            f"/applications/{application_id}/sworn-declaration", json={}, headers=AGENCY | key()
        )
    )
    chosen = await api.post(
        f"/applications/{application_id}/audits",
        json={"bureau_id": BUREAU_ID},
        headers=PROVIDER | key(),
    )
    audit_id = ok(chosen, 201)["audit_id"]
    ok(
        await api.post(
            f"/audits/{audit_id}/plan",
            json={"visit_date": VISIT.isoformat(), "planned_hours": "6"},
            headers=BUREAU | key(),
        )
    )
    clock.set(REPORTED)
    ok(
        await api.post(
            f"/audits/{audit_id}/reports",
            json=report_body(range(1, 6), visit=VISIT),
            headers=BUREAU | key(),
        ),
        201,
    )
