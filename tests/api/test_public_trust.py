"""The public register shows only what a decision (or the provider's own profile) made true: an
application in progress, or one refused, changes nothing the public sees, in the API or on the
web page; a later granted application may."""

from __future__ import annotations

from datetime import date
from typing import Any

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from app.events.projections import Projector
from app.events.rebuild import rebuild_projections
from app.services.clock import FixedClock
from tests.api.support import AGENCY, BUREAU, BUREAU_ID, at, bureau_body, ok, report_body
from tests.api.test_public import VINCOTTE_KBO, provider, registration

PENDING_NAME = "Kiwa Belgium NV - officieel auditbureau"


async def public(api: httpx.AsyncClient) -> dict[str, Any]:
    """Everything the public may see of the provider: search hits, its page, its web page."""
    return {
        "all": ok(await api.get("/public/providers")),
        "vincotte": ok(await api.get("/public/providers", params={"q": "vincotte"})),
        "kiwa": ok(await api.get("/public/providers", params={"q": "kiwa"})),
        "theme": ok(await api.get("/public/providers", params={"theme": "internationalisering"})),
        "page": ok(await api.get(f"/public/providers/{VINCOTTE_KBO}")),
        "web": (await api.get(f"/dienstverleners/{VINCOTTE_KBO}")).text,
        "web search": (await api.get("/", params={"q": "vincotte"})).text,
    }


async def apply_for_advice(api: httpx.AsyncClient, clock: FixedClock, name: str, day: date) -> str:
    """An advice application under ``name`` on ``day``, with another theme than the training's."""
    clock.set(at(day))
    body = {
        "service_type": "advies",
        "provider_name": name,
        "bank_account": "BE68 5390 0754 7034",
        "activities": "Advies over internationaal ondernemen",
        "themes": ["internationalisering"],
    }
    created = ok(await api.post("/applications", json=body, headers=provider(VINCOTTE_KBO)), 201)
    return str(created["application_id"])


async def audit_passed(api: httpx.AsyncClient, clock: FixedClock, application_id: str) -> None:
    """Declared, audited the day after and passed the day after that: awaiting the decision."""
    day = clock.now().date()
    ok(await api.post(f"/applications/{application_id}/sworn-declaration", json={}, headers=AGENCY))
    audit_id = ok(
        await api.post(
            f"/applications/{application_id}/audits",
            json={"bureau_id": BUREAU_ID},
            headers=provider(VINCOTTE_KBO),
        ),
        201,
    )["audit_id"]
    visit = date.fromordinal(day.toordinal() + 1)
    plan = {"visit_date": visit.isoformat(), "planned_hours": "6"}
    ok(await api.post(f"/audits/{audit_id}/plan", json=plan, headers=BUREAU))
    clock.set(at(date.fromordinal(visit.toordinal() + 1)))
    report = report_body(range(1, 6), visit=visit)
    ok(await api.post(f"/audits/{audit_id}/reports", json=report, headers=BUREAU), 201)


async def public_rows(engine: AsyncEngine) -> list[Any]:
    async with engine.connect() as conn:
        return list(
            await conn.execute(text("SELECT * FROM public_providers ORDER BY enterprise_number"))
        )


async def test_an_application_in_progress_or_refused_changes_nothing_public(
    api: httpx.AsyncClient, clock: FixedClock, engine: AsyncEngine
) -> None:
    ok(await api.post("/bureaus", json=bureau_body(), headers=AGENCY), 201)
    await registration(api, clock, VINCOTTE_KBO, "Vinçotte Academy", themes=("duurzaamheid",))
    clock.set(at(date(2026, 2, 1)))
    before = await public(api)
    assert before["page"]["name"] == "Vinçotte Academy"
    assert before["page"]["themes"] == ["duurzaamheid"]
    assert [p["name"] for p in before["vincotte"]["items"]] == ["Vinçotte Academy"]
    assert before["kiwa"]["items"] == before["theme"]["items"] == []
    assert "Vinçotte Academy" in before["web"]

    application_id = await apply_for_advice(api, clock, PENDING_NAME, date(2026, 2, 2))
    assert await public(api) == before  # merely open
    await audit_passed(api, clock, application_id)
    assert await public(api) == before  # audited, passed, awaiting the decision

    clock.set(at(date(2026, 2, 10)))
    refusal = {"granted": False, "reason": "Geen onafhankelijkheid"}
    ok(await api.post(f"/applications/{application_id}/decision", json=refusal, headers=AGENCY))
    assert await public(api) == before  # refused

    rows = await public_rows(engine)
    await rebuild_projections(engine, Projector())
    assert await public_rows(engine) == rows


async def test_the_name_and_themes_come_from_the_granted_application(
    api: httpx.AsyncClient, clock: FixedClock, engine: AsyncEngine
) -> None:
    ok(await api.post("/bureaus", json=bureau_body(), headers=AGENCY), 201)
    await registration(api, clock, VINCOTTE_KBO, "Vinçotte Academy", themes=("duurzaamheid",))
    application_id = await apply_for_advice(
        api, clock, "Vinçotte Academy & Advies", date(2026, 2, 3)
    )
    await audit_passed(api, clock, application_id)
    clock.set(at(date(2026, 2, 10)))
    ok(
        await api.post(
            f"/applications/{application_id}/decision", json={"granted": True}, headers=AGENCY
        )
    )

    page = ok(await api.get(f"/public/providers/{VINCOTTE_KBO}"))
    assert page["name"] == "Vinçotte Academy & Advies"  # the later decision's name
    assert page["themes"] == ["duurzaamheid", "internationalisering"]
    assert [r["service_type"] for r in page["registrations"]] == ["advies", "opleiding"]
    assert (
        "Vinçotte Academy &amp; Advies" in (await api.get(f"/dienstverleners/{VINCOTTE_KBO}")).text
    )

    rows = await public_rows(engine)
    await rebuild_projections(engine, Projector())
    assert await public_rows(engine) == rows
