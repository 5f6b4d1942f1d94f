"""Subsidy projects over HTTP, each audience's story (issue 13): the agency records projects
filed with a provider (one in order, one filed late, one with catering above the cap, one
started before the provider's registration, one naming a number no unit holds), the service
computes the findings; the provider confirms one and disputes another; the agency approves,
stops and reclaims; and a rebuild of the projections gives the same project rows."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from app.events.projection_check import check_projections
from app.events.projections import Projector
from app.events.rebuild import rebuild_projections
from app.services.clock import FixedClock
from tests.api.support import (
    AGENCY,
    BUREAU,
    OTHER_PROVIDER,
    PROVIDER,
    PROVIDER_KBO,
    at,
    bureau_body,
    ok,
    problem,
    register,
)
from tests.integration.scenarios import enterprise_number

CLIENT_KBO = str(enterprise_number(777))
NUMBER = "DV.O000001"  # support.register: granted 2026-01-20, in force through 2031-01-19


def project(project_id: str, start: date, **fields: Any) -> dict[str, Any]:
    body = {
        "project_id": project_id,
        "client_enterprise_number": CLIENT_KBO,
        "registration_number": NUMBER,
        "service_type": "opleiding",
        "theme": "digitalisering",
        "start_date": start.isoformat(),
        "end_date": start.isoformat(),
        "price_excluding_vat": "1200.00",
        "vat": "252.00",
        "participants": 4,
        "training_days": "3",
        "catering_cost": "200.00",
    }
    return body | fields


def outcomes(view: dict[str, Any]) -> dict[str, str]:
    return {finding["code"]: finding["outcome"] for finding in view["findings"]}


async def record(api: httpx.AsyncClient, body: dict[str, Any]) -> dict[str, Any]:
    response = await api.post("/projects", json=body, headers=AGENCY)
    view = ok(response, 201)
    assert response.headers["Location"] == f"/projects/{body['project_id']}"
    assert response.headers["ETag"] == '"1"'
    return dict(view)


async def event_count(engine: AsyncEngine) -> int:
    async with engine.connect() as conn:
        return int(await conn.scalar(text("SELECT count(*) FROM events")) or 0)


async def registered(api: httpx.AsyncClient, clock: FixedClock) -> None:
    ok(await api.post("/bureaus", json=bureau_body(), headers=AGENCY), 201)
    await register(api, clock, PROVIDER)


async def test_the_agency_records_projects_and_the_service_computes_the_findings(
    api: httpx.AsyncClient, clock: FixedClock
) -> None:
    await registered(api, clock)

    # Started the day before the registration was granted, filed in time.
    clock.set(at(date(2026, 1, 25)))
    before = await record(api, project("p-before", date(2026, 1, 19)))
    assert outcomes(before)["registered_on_start_date"] == "not_met"
    assert "not in force on 2026-01-19" in before["findings"][0]["explanation"]
    assert outcomes(before)["filed_in_time"] == "met"
    assert before["eligible_amount"] == "0.00"  # the whole service is not eligible

    clock.set(at(date(2026, 2, 10)))
    fine = await record(api, project("p-fine", date(2026, 2, 2)))
    assert set(outcomes(fine).values()) == {"met"}
    # VAT is left out; catering EUR 200 is within 25 x 4 participants x 3 days = EUR 300.
    assert (fine["eligible_amount"], fine["provider_enterprise_number"]) == (
        "1400.00",
        PROVIDER_KBO,
    )
    assert (fine["status"], fine["filed_on"], fine["waiting_days"]) == ("to_check", "2026-02-10", 0)

    late = await record(api, project("p-late", date(2026, 1, 26)))  # 15 days before filing
    assert outcomes(late)["filed_in_time"] == "not_met"
    assert "the latest 14 days after the start (2026-02-09)" in late["findings"][1]["explanation"]
    assert late["eligible_amount"] == "0.00"
    on_the_last_day = await record(api, project("p-day-14", date(2026, 1, 27)))
    assert outcomes(on_the_last_day)["filed_in_time"] == "met"

    catering = await record(api, project("p-catering", date(2026, 2, 5), catering_cost="400.00"))
    assert outcomes(catering)["catering_within_cap"] == "not_met"
    assert "EUR 100.00 is not eligible" in catering["findings"][4]["explanation"]
    assert Decimal(catering["eligible_amount"]) == Decimal("1500.00")  # 1200 + the cap of 300

    theme = await record(api, project("p-theme", date(2026, 2, 5), theme="koken"))
    assert outcomes(theme)["eligible_theme"] == "not_met"
    advice = {"service_type": "advies", "participants": None, "training_days": None}
    advice |= {"catering_cost": None}
    wrong_type = await record(api, project("p-advice", date(2026, 2, 5), **advice))
    assert outcomes(wrong_type)["registered_on_start_date"] == "not_met"
    assert outcomes(wrong_type)["catering_within_cap"] == "not_applicable"
    assert "is a registration for opleiding" in wrong_type["findings"][0]["explanation"]

    # A number no unit holds: recorded all the same, nobody's project but the agency's.
    unknown = await record(
        api, project("p-unknown", date(2026, 2, 5), registration_number="dvo000099")
    )
    assert (unknown["registration_number"], unknown["provider_enterprise_number"]) == (
        "DV.O000099",
        None,
    )
    assert outcomes(unknown)["registered_on_start_date"] == "not_met"


async def test_a_later_stop_of_the_registration_does_not_rewrite_the_start_date(
    api: httpx.AsyncClient, clock: FixedClock
) -> None:
    await registered(api, clock)
    clock.set(at(date(2026, 3, 1)))
    stop = {"reason": "Misbruik vastgesteld bij controle"}
    ok(await api.post(f"/registrations/{NUMBER}/stop", json=stop, headers=AGENCY))
    clock.set(at(date(2026, 3, 5)))
    started_before_the_stop = await record(api, project("p-1", date(2026, 2, 25)))
    assert outcomes(started_before_the_stop)["registered_on_start_date"] == "met"
    started_after_the_stop = await record(api, project("p-2", date(2026, 3, 2)))
    assert outcomes(started_after_the_stop)["registered_on_start_date"] == "not_met"


async def test_bad_projects_are_refused_and_change_nothing(
    api: httpx.AsyncClient, clock: FixedClock, engine: AsyncEngine
) -> None:
    await registered(api, clock)
    clock.set(at(date(2026, 2, 10)))
    await record(api, project("p-1", date(2026, 2, 2)))
    events = await event_count(engine)
    again = await api.post(
        "/projects", json=project("p-1", date(2026, 2, 3), theme="innovatie"), headers=AGENCY
    )
    problem(again, 409, "project-already-recorded")
    bad = [
        project("p-2", date(2026, 2, 2), end_date="2026-02-01"),
        project("p-3", date(2026, 2, 2), service_type="advies"),  # with training's fields
        project("p-4", date(2026, 2, 2), participants=None),
    ]
    for body in bad:
        problem(await api.post("/projects", json=body, headers=AGENCY), 422, "invalid-command")
    for field, value in [("vat", "-1.00"), ("price_excluding_vat", "10.001"), ("theme", "")]:
        body = project("p-5", date(2026, 2, 2), **{field: value})
        problem(await api.post("/projects", json=body, headers=AGENCY), 422, "validation-failed")
    problem(
        await api.post("/projects", json=project("p-6", date(2026, 2, 2)), headers=PROVIDER),
        403,
        "forbidden",
    )
    assert await event_count(engine) == events
    problem(await api.get("/projects/p-2", headers=AGENCY), 404, "not-found")


async def story(api: httpx.AsyncClient, clock: FixedClock) -> None:
    """The provider checks, the agency decides, the client rates: every status a project can
    reach."""
    await registered(api, clock)
    clock.set(at(date(2026, 2, 10)))
    for project_id in ("p-confirmed", "p-disputed", "p-stopped", "p-waiting"):
        await record(api, project(project_id, date(2026, 2, 2)))
    await record(api, project("p-late", date(2026, 1, 21)))
    await record(api, project("p-unknown", date(2026, 2, 2), registration_number="DV.O000099"))

    clock.set(at(date(2026, 2, 13)))
    confirmed = ok(await api.post("/projects/p-confirmed/confirmation", headers=PROVIDER))
    assert (confirmed["status"], confirmed["checked_on"], confirmed["waiting_days"]) == (
        "confirmed",
        "2026-02-13",
        3,
    )
    dispute = {"reason": "client_did_not_enrol", "comment": "Nooit ingeschreven."}
    disputed = ok(await api.post("/projects/p-disputed/dispute", json=dispute, headers=PROVIDER))
    assert (disputed["status"], disputed["dispute_reason"]) == ("disputed", "client_did_not_enrol")

    clock.set(at(date(2026, 2, 20)))
    ok(await api.post("/projects/p-confirmed/approval", headers=AGENCY))
    stop = {"reason": "De klant schreef zich nooit in"}
    ok(await api.post("/projects/p-disputed/stop", json=stop, headers=AGENCY))
    ok(await api.post("/projects/p-stopped/stop", json=stop, headers=AGENCY))
    # The client rates the service it bought; the provider's public average counts it.
    rating = {"reference": "r-1", "project_id": "p-confirmed", "score": 5}
    rating["client_enterprise_number"] = CLIENT_KBO
    ok(await api.post("/ratings", json=rating, headers=AGENCY), 201)
    public = ok(await api.get(f"/public/providers/{PROVIDER_KBO}"))
    assert public["rating"] == {"average": 5.0, "count": 1}
    clock.set(at(date(2026, 4, 1)))
    reclaim = {"reason": "Na betaling: de opleiding vond nooit plaats"}
    reclaimed = ok(await api.post("/projects/p-confirmed/reclaim", json=reclaim, headers=AGENCY))
    assert (reclaimed["status"], reclaimed["decided_on"]) == ("reclaimed", "2026-04-01")
    assert reclaimed["decision_reason"] == reclaim["reason"]


async def test_the_provider_checks_and_the_agency_approves_stops_and_reclaims(
    api: httpx.AsyncClient, clock: FixedClock, engine: AsyncEngine
) -> None:
    await story(api, clock)

    # The provider sees the projects filed with it, not the agency's reasons.
    mine = ok(await api.get("/projects", headers=PROVIDER))["items"]
    assert [p["project_id"] for p in mine] == [
        "p-confirmed",
        "p-disputed",
        "p-late",
        "p-stopped",
        "p-waiting",
    ]
    assert {p["decision_reason"] for p in mine} == {None}
    assert ok(await api.get("/projects", headers=OTHER_PROVIDER))["items"] == []
    problem(await api.get("/projects/p-waiting", headers=OTHER_PROVIDER), 404, "not-found")
    problem(await api.get("/projects/p-unknown", headers=PROVIDER), 404, "not-found")
    problem(
        await api.post("/projects/p-waiting/confirmation", headers=OTHER_PROVIDER),
        404,
        "not-found",
    )
    problem(await api.get("/projects", headers=BUREAU), 403, "forbidden")

    # What the state went past is refused, and nothing is written.
    events = await event_count(engine)
    refusals = [
        ("/projects/p-confirmed/confirmation", PROVIDER, None, "project-already-checked"),
        ("/projects/p-stopped/approval", AGENCY, None, "project-already-decided"),
        ("/projects/p-disputed/reclaim", AGENCY, {"reason": "x"}, "project-not-approved"),
    ]
    for url, headers, body, code in refusals:
        problem(await api.post(url, json=body, headers=headers), 409, code)
    stale = {**PROVIDER, "If-Match": '"1"'}
    current = await api.get("/projects/p-waiting", headers=PROVIDER)
    assert current.headers["ETag"] == '"1"'
    ok(await api.post("/projects/p-waiting/confirmation", headers=stale))
    problem(
        await api.post("/projects/p-waiting/approval", headers={**AGENCY, "If-Match": '"1"'}),
        412,
        "version-mismatch",
    )
    assert await event_count(engine) == events + 1

    # The agency lists by status, provider, finding and how long projects waited.
    async def listed(query: str) -> list[str]:
        page = ok(await api.get(f"/projects?{query}", headers=AGENCY))
        return [p["project_id"] for p in page["items"]]

    assert await listed("status=reclaimed") == ["p-confirmed"]
    assert await listed("status=stopped") == ["p-disputed", "p-stopped"]
    assert await listed("finding=filed_in_time") == ["p-late"]
    assert await listed("finding=registered_on_start_date") == ["p-unknown"]
    assert await listed(f"provider={PROVIDER_KBO}&status=to_check") == ["p-late"]
    assert await listed("waiting_more_than_days=49") == ["p-late", "p-unknown"]
    assert await listed("waiting_more_than_days=50") == []
    first = ok(await api.get("/projects?limit=2", headers=AGENCY))
    second = ok(await api.get(f"/projects?limit=2&cursor={first['next_cursor']}", headers=AGENCY))
    assert [p["project_id"] for p in first["items"] + second["items"]] == await listed("limit=4")
    problem(await api.get("/projects?status=paid", headers=AGENCY), 422, "validation-failed")


async def test_a_rebuild_gives_the_same_project_rows(
    api: httpx.AsyncClient, clock: FixedClock, engine: AsyncEngine
) -> None:
    await story(api, clock)

    async def rows() -> list[dict[str, Any]]:
        async with engine.connect() as conn:
            result = await conn.execute(text("SELECT * FROM projects ORDER BY project_id"))
            return [dict(row._mapping) for row in result]

    before = await rows()
    assert {row["status"] for row in before} == {
        "reclaimed",
        "stopped",
        "to_check",
    }
    assert len(before) == 6
    check = await check_projections(engine, Projector())
    assert check.events > 0
    assert check.equal, check.shown
    assert check.rows["projects"] == 6
    await rebuild_projections(engine, Projector())
    assert await rows() == before


async def test_a_retried_record_with_its_idempotency_key_answers_the_first_and_writes_once(
    api: httpx.AsyncClient, clock: FixedClock, engine: AsyncEngine
) -> None:
    await registered(api, clock)
    clock.set(at(date(2026, 2, 10)))
    body = project("p-1", date(2026, 2, 2))
    headers = AGENCY | {"Idempotency-Key": "record-p-1"}
    first = await api.post("/projects", json=body, headers=headers)
    events = await event_count(engine)
    again = await api.post("/projects", json=body, headers=headers)
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    assert await event_count(engine) == events
    other = await api.post("/projects", json=body | {"vat": "0.00"}, headers=headers)
    problem(other, 409, "idempotency-key-reused")
