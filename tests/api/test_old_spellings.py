"""The hyphenated spellings of before snake_case are understood on input, never emitted."""

from __future__ import annotations

from datetime import date

import httpx
from sqlalchemy.ext.asyncio import AsyncEngine

from app.services.clock import FixedClock
from tests.api.support import (
    AGENCY,
    BUREAU,
    PROVIDER,
    VISIT,
    application_body,
    at,
    bureau_body,
    ok,
    report_body,
)
from tests.api.test_feed import follow, positions


async def test_a_report_in_the_old_words_is_accepted_and_answered_in_the_new(
    api: httpx.AsyncClient, clock: FixedClock
) -> None:
    ok(await api.post("/bureaus", json=bureau_body(), headers=AGENCY), 201)
    clock.set(at(date(2026, 1, 5)))
    certificate = {"certificate": "iso-9001", "valid_until": "2030-01-01"}
    body = application_body("advies", certificates=[certificate])
    app_id = ok(await api.post("/applications", json=body, headers=PROVIDER), 201)
    ok(
        await api.post(
            f"/applications/{app_id['application_id']}/sworn-declaration", json={}, headers=AGENCY
        )
    )
    audit = ok(
        await api.post(
            f"/applications/{app_id['application_id']}/audits",
            json={"bureau_id": "bureau-kiwa"},
            headers=PROVIDER,
        ),
        201,
    )["audit_id"]
    plan = {"visit_date": VISIT.isoformat(), "planned_hours": "2"}
    ok(await api.post(f"/audits/{audit}/plan", json=plan, headers=BUREAU))
    clock.set(at(date(2026, 1, 16)))
    report = report_body(
        [4, 5],
        visit=VISIT,
        not_met=[5],
        result="conditionally-passed",
        follow_up_deadline=date(2026, 9, 15),
    )

    reported = ok(await api.post(f"/audits/{audit}/reports", json=report, headers=BUREAU), 201)

    assert reported["reports"][0]["result"] == "conditionally_passed"
    url = f"/registrations/{reported['registration_id']}/events"
    history = ok(await api.get(url, headers=AGENCY))
    submitted = next(e for e in history if e["event_type"] == "ApplicationSubmitted")
    assert submitted["data"]["certificates"][0]["certificate"] == "iso_9001"


async def test_old_spellings_of_filters_are_understood(
    api: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    ok(await api.post("/bureaus", json=bureau_body(), headers=AGENCY), 201)
    latest = (await positions(engine))[-1]
    old = (await follow(api, {"stream_type": "audit-bureau"}, until=latest))["events"]
    new = (await follow(api, {"stream_type": "audit_bureau"}, until=latest))["events"]
    assert [e["stream_type"] for e in old] == ["audit_bureau"]
    assert new == old
