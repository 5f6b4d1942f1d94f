"""The demo data set (``kmop demo``): loaded through the service, every status, idempotent, and
what the public search makes of it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from app.api.queries.search import Query, search
from app.demo.data.bureaus import BUREAUS
from app.demo.data.providers import PROVIDERS
from app.demo.load import DemoSummary, load_demo
from app.demo.plan.build import build_plan
from app.demo.plan.steps import UnitStep, provider_enterprise
from app.domain.policies import today
from app.domain.projects import ProjectStatus
from app.domain.registration import Status
from app.events.projections import PROJECTION_TABLES, Projector
from app.events.rebuild import rebuild_projections
from app.runtime.pg import Pool
from app.services.clock import FixedClock
from app.services.registrations import RegistrationService

IN_FORCE = {Status.REGISTERED, Status.REGISTERED_CONDITIONALLY, Status.REGISTERED_STARTER}
NOW = datetime.now(UTC).replace(microsecond=0)


def make_service(engine: AsyncEngine) -> RegistrationService:
    return RegistrationService(engine, clock=FixedClock(NOW), projector=Projector())


@pytest.fixture
async def loaded(engine: AsyncEngine) -> DemoSummary:
    return await load_demo(make_service(engine))


async def rows(engine: AsyncEngine, sql: str, **params: Any) -> list[dict[str, Any]]:
    async with engine.connect() as conn:
        return [dict(row._mapping) for row in await conn.execute(text(sql), params)]


async def projections(engine: AsyncEngine) -> dict[str, list[dict[str, Any]]]:
    """Every row of every projection table, in a stable order."""
    tables = {}
    for table in PROJECTION_TABLES:
        found = await rows(engine, f"SELECT * FROM {table}")
        tables[table] = sorted(found, key=lambda row: sorted((k, repr(v)) for k, v in row.items()))
    return tables


async def event_count(engine: AsyncEngine) -> int:
    return int((await rows(engine, "SELECT count(*) AS n FROM events"))[0]["n"])


async def test_every_status_appears_with_unique_numbers_and_eight_bureaus(
    engine: AsyncEngine, loaded: DemoSummary
) -> None:
    summary = loaded
    plan = build_plan(NOW)
    registrations = await rows(
        engine,
        "SELECT unit_key, enterprise_number, service_type, status, registration_number"
        " FROM registrations",
    )
    status_of = {row["unit_key"]: row["status"] for row in registrations}
    assert status_of == {key: status.value for key, status in plan.expected.items()}
    assert set(status_of.values()) == {s.value for s in Status} - {Status.NONE.value}
    assert summary.statuses == {
        s.value: list(status_of.values()).count(s.value)
        for s in Status
        if s.value in status_of.values()
    }

    numbers = [row["registration_number"] for row in registrations if row["registration_number"]]
    assert len(numbers) == len(set(numbers)) > 25
    assert all(n.startswith(("DV.O", "DV.A")) for n in numbers)

    bureaus = await rows(engine, "SELECT bureau_id, name FROM bureaus ORDER BY bureau_id")
    assert len(bureaus) == 8
    assert {b["name"] for b in bureaus} == {b.name for b in BUREAUS}
    assert summary.bureaus == 8
    assert summary.providers == len(PROVIDERS) >= 40

    both = {
        row["enterprise_number"]
        for row in registrations
        if row["service_type"] == "opleiding" and row["status"] == Status.REGISTERED
    } & {
        row["enterprise_number"]
        for row in registrations
        if row["service_type"] == "advies" and row["status"] == Status.REGISTERED
    }
    assert both, "a provider registered for both training and advice"

    latest = await rows(
        engine, "SELECT max(recorded_at) AS at, min(recorded_at) AS first FROM events"
    )
    assert latest[0]["at"] <= NOW, "nothing is recorded in the future"
    assert (NOW - latest[0]["first"]).days > 5 * 365
    assert summary.ratings > 0
    # Subsidy projects in every state, each rating of one its client bought, some findings.
    assert set(summary.projects) == {s.value for s in ProjectStatus}
    projects = await rows(
        engine,
        "SELECT p.project_id, p.status, p.unmet_findings, p.rating_reference,"
        " p.client_enterprise_number, r.client_enterprise_number AS rater"
        " FROM projects p LEFT JOIN LATERAL (SELECT e.data->>'client_enterprise_number'"
        " AS client_enterprise_number FROM events e WHERE e.event_type = 'RatingRecorded'"
        " AND e.data->>'project_id' = p.project_id) r ON true",
    )
    rated = [p for p in projects if p["rating_reference"] is not None]
    assert len(rated) == summary.ratings
    assert all(p["rater"] == p["client_enterprise_number"] for p in rated)
    assert {p["status"] for p in rated} == {"approved", "reclaimed"}
    unmet = {finding for p in projects for finding in p["unmet_findings"]}
    assert {"filed_in_time", "catering_within_cap"} <= unmet
    assert summary.listed == len(
        {row["enterprise_number"] for row in registrations if row["status"] in IN_FORCE}
    )


async def test_projections_equal_a_rebuild_and_loading_twice_changes_nothing(
    engine: AsyncEngine, loaded: DemoSummary
) -> None:
    first = loaded
    assert not first.already_loaded
    before = await projections(engine)
    events = await event_count(engine)

    await rebuild_projections(engine, Projector())
    assert await projections(engine) == before

    again = await load_demo(make_service(engine))
    assert again.already_loaded
    assert await event_count(engine) == events == again.events
    assert await projections(engine) == before
    assert again.statuses == first.statuses


async def public(engine: AsyncEngine, query: Query) -> list[dict[str, Any]]:
    """The public search's answer, through the asyncpg pool the app reads it with."""
    pool = Pool(engine.url.render_as_string(hide_password=False), max_size=1)
    try:
        async with pool.connection() as conn:
            found = await search(conn, query, today=today(NOW), page=1, limit=100)
    finally:
        await pool.close()
    assert not found.more
    return found.items


async def test_public_search_finds_accents_and_typos_and_lists_only_registrations_in_force(
    engine: AsyncEngine, loaded: DemoSummary
) -> None:
    vincotte = await public(engine, Query(text="vincotte"))
    assert [item["name"] for item in vincotte] == ["Vinçotte Academy"]

    kiwa = await public(engine, Query(text="kiwa belgum"))
    assert "Kiwa Belgium Academy" in [item["name"] for item in kiwa], kiwa

    plan = build_plan(NOW)
    in_force: set[str] = set()
    ended: set[str] = set()
    for index in range(len(PROVIDERS)):
        kbo = str(provider_enterprise(index))
        statuses = {plan.expected[key] for key in plan.expected if key.startswith(f"{kbo}:")}
        if statuses & IN_FORCE:
            in_force.add(kbo)
        elif statuses & {Status.STOPPED, Status.EXPIRED, Status.REFUSED}:
            ended.add(kbo)
    assert ended, "the demo has providers whose registrations ended or were refused"

    listed = {item["enterprise_number"] for item in await public(engine, Query())}
    assert listed == in_force
    assert not listed & ended
    for item in await public(engine, Query()):
        assert item["registrations"], item["name"]


@pytest.mark.parametrize("days_later", range(14))
def test_the_plan_fits_before_now_on_any_day_of_the_week(days_later: int) -> None:
    """Steps move off weekends; whatever day it is, every step is in the past and each unit's
    steps keep their order."""
    now = NOW + timedelta(days=days_later)
    plan = build_plan(now)
    assert all(step.day < today(now) for step in plan.steps)
    assert all(step.day.weekday() < 5 for step in plan.steps if isinstance(step.action, UnitStep))
    assert [step.day for step in plan.steps] == sorted(step.day for step in plan.steps)
    assert len(plan.expected) == sum(len(provider.units) for provider in PROVIDERS)
