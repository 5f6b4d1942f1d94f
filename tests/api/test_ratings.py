"""Who can be rated, over HTTP against the real database: only a provider whose first
registration was granted on or before the rating's date (issue 11, point 6), even once that
registration has ended; anything else is refused and nothing is written. Ratings come from
projects (issue 13): each rating names an approved project of its client's, rated once, after
the service; ratings recorded before (no project) stay readable and counted."""

from __future__ import annotations

import asyncio
from datetime import date
from typing import Any, ClassVar

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from app.domain.event import DomainEvent
from app.events import EventStore
from app.events.catalog import RATING_STREAM, rating_stream_id
from app.events.projection_check import check_projections
from app.events.projections import Projector
from app.events.rebuild import rebuild_projections
from app.events.registry import EventRegistry
from app.services.clock import FixedClock
from tests.api import support
from tests.api.support import AGENCY, PROVIDER, PROVIDER_KBO, at, bureau_body, ok, problem, register
from tests.api.test_projects import project as project_body
from tests.integration.scenarios import enterprise_number

CLIENT_KBO = str(enterprise_number(777))
GRANTED_ON = date(2026, 1, 20)  # the decision date of support.register
PROJECT = project_body("p", date(2026, 2, 5)) | {"client_enterprise_number": CLIENT_KBO}


def rating(reference: str, project_id: str, rated_on: date | None = None) -> dict[str, Any]:
    body = {
        "reference": reference,
        "project_id": project_id,
        "client_enterprise_number": CLIENT_KBO,
        "score": 4,
    }
    return body | ({"rated_on": rated_on.isoformat()} if rated_on else {})


async def bought(
    api: httpx.AsyncClient,
    project_id: str,
    start: date,
    number: str = "DV.O000001",
    **fields: Any,
) -> dict[str, Any]:
    """CLIENT_KBO's project of a day's training from ``start``, recorded and approved."""
    return await support.bought(api, project_id, number, CLIENT_KBO, start, **fields)


async def refused(api: httpx.AsyncClient, engine: AsyncEngine, body: dict[str, Any]) -> str:
    """The rating is refused as not of a registered provider, and nothing of it is written."""
    detail = problem(
        await api.post("/ratings", json=body, headers=AGENCY),
        422,
        "rated-enterprise-not-registered",
    )["detail"]
    problem(await api.get(f"/ratings/{body['reference']}", headers=AGENCY), 404, "not-found")
    async with engine.connect() as conn:
        written = await conn.scalar(
            text("SELECT count(*) FROM events WHERE event_type = 'RatingRecorded'")
        )
        rated = await conn.scalar(text("SELECT count(*) FROM provider_ratings"))
    assert (written, rated) == (0, 0)
    return str(detail)


async def test_an_enterprise_that_is_no_registered_provider_cannot_be_rated(
    api: httpx.AsyncClient, clock: FixedClock, engine: AsyncEngine
) -> None:
    # A project naming a number no unit ever held names no provider to rate.
    clock.set(at(date(2026, 1, 10)))
    await bought(api, "p-nobody", date(2026, 1, 5), number="DV.O000555")
    assert "never" in await refused(api, engine, rating("r-1", "p-nobody"))
    # An application audited but not yet decided is no registration: it has no number yet.
    ok(await api.post("/bureaus", json=bureau_body(), headers=AGENCY), 201)
    await register(api, clock, PROVIDER, decide=False)
    clock.set(at(date(2026, 2, 1)))
    await bought(api, "p-undecided", date(2026, 1, 20))
    assert "never" in await refused(api, engine, rating("r-2", "p-undecided"))


async def test_a_rating_dated_before_the_first_registration_is_refused(
    api: httpx.AsyncClient, clock: FixedClock, engine: AsyncEngine
) -> None:
    ok(await api.post("/bureaus", json=bureau_body(), headers=AGENCY), 201)
    await register(api, clock, PROVIDER)
    clock.set(at(date(2026, 2, 1)))
    await bought(api, "p-1", date(2026, 1, 15))  # given before the registration
    day_before = rating("r-1", "p-1", date(2026, 1, 19))
    assert "first registered on 2026-01-20" in await refused(api, engine, day_before)
    recorded = ok(
        await api.post("/ratings", json=rating("r-2", "p-1", GRANTED_ON), headers=AGENCY),
        201,
    )
    assert (recorded["reference"], recorded["rated_on"]) == ("r-2", "2026-01-20")
    assert (recorded["project_id"], recorded["provider_enterprise_number"]) == ("p-1", PROVIDER_KBO)


async def test_a_provider_is_still_rated_after_its_registration_ended(
    api: httpx.AsyncClient, clock: FixedClock
) -> None:
    """A rating follows the service and its payment: it may come after the registration ended."""
    ok(await api.post("/bureaus", json=bureau_body(), headers=AGENCY), 201)
    await register(api, clock, PROVIDER)
    clock.set(at(date(2026, 3, 1)))
    stopped = {"reason": "Misbruik vastgesteld bij controle"}
    assert (
        ok(await api.post("/registrations/DV.O000001/stop", json=stopped, headers=AGENCY))["status"]
        == "stopped"
    )
    clock.set(at(date(2026, 3, 10)))
    await bought(api, "p-1", date(2026, 2, 10))
    await bought(api, "p-2", date(2026, 2, 12))
    ok(await api.post("/ratings", json=rating("r-1", "p-1"), headers=AGENCY), 201)
    ok(
        await api.post("/ratings", json=rating("r-2", "p-2", date(2026, 2, 15)), headers=AGENCY),
        201,
    )


async def test_only_the_client_rates_an_approved_project_once_after_the_service(
    api: httpx.AsyncClient, clock: FixedClock, engine: AsyncEngine
) -> None:
    ok(await api.post("/bureaus", json=bureau_body(), headers=AGENCY), 201)
    await register(api, clock, PROVIDER)
    clock.set(at(date(2026, 2, 10)))
    await bought(api, "p-1", date(2026, 2, 5), end_date="2026-02-12")
    ok(await api.post("/projects", json=PROJECT | {"project_id": "p-open"}, headers=AGENCY), 201)
    other_client = rating("r-1", "p-1") | {"client_enterprise_number": str(enterprise_number(778))}
    refusals = [
        (other_client, 422, "rating-not-by-client"),
        (rating("r-1", "p-1", date(2026, 2, 10)), 422, "rating-before-service-ended"),
        (rating("r-1", "p-none"), 422, "rated-project-unknown"),
        (rating("r-1", "p-open"), 409, "project-not-approved"),
        (rating("r-1", "p-1") | {"provider_enterprise_number": CLIENT_KBO}, 422, "invalid-command"),
    ]
    clock.set(at(date(2026, 2, 20)))
    for body, status, code in refusals:
        problem(await api.post("/ratings", json=body, headers=AGENCY), status, code)
    rated = ok(await api.post("/ratings", json=rating("r-1", "p-1"), headers=AGENCY), 201)
    assert (rated["project_id"], rated["rated_on"]) == ("p-1", "2026-02-20")
    problem(
        await api.post("/ratings", json=rating("r-2", "p-1"), headers=AGENCY),
        409,
        "project-already-rated",
    )
    async with engine.connect() as conn:
        counted = (
            await conn.execute(text("SELECT rating_count, rating_sum FROM provider_ratings"))
        ).one()
    assert tuple(counted) == (1, 4)
    view = ok(await api.get("/projects/p-1", headers=AGENCY))
    assert view["rating"] == {"reference": "r-1", "score": 4, "rated_on": "2026-02-20"}
    assert ok(await api.get("/projects/p-1", headers=PROVIDER))["rating"] is None


async def test_two_ratings_of_one_project_at_once_count_once(
    api: httpx.AsyncClient, clock: FixedClock, engine: AsyncEngine
) -> None:
    ok(await api.post("/bureaus", json=bureau_body(), headers=AGENCY), 201)
    await register(api, clock, PROVIDER)
    clock.set(at(date(2026, 2, 10)))
    await bought(api, "p-1", date(2026, 2, 5))
    answers = await asyncio.gather(
        *(api.post("/ratings", json=rating(f"r-{n}", "p-1"), headers=AGENCY) for n in range(6))
    )
    assert sorted(a.status_code for a in answers) == [201] + [409] * 5
    async with engine.connect() as conn:
        written = await conn.scalar(
            text("SELECT count(*) FROM events WHERE event_type = 'RatingRecorded'")
        )
    assert written == 1


class RatingRecordedV1(DomainEvent):
    """A rating as recorded before ratings came from projects (schema version 1)."""

    event_type: ClassVar[str] = "RatingRecorded"
    reference: str
    provider_enterprise_number: str
    client_enterprise_number: str
    score: int
    rated_on: date


async def test_a_rating_recorded_before_projects_stays_readable_and_counted(
    api: httpx.AsyncClient, clock: FixedClock, engine: AsyncEngine
) -> None:
    ok(await api.post("/bureaus", json=bureau_body(), headers=AGENCY), 201)
    await register(api, clock, PROVIDER)
    old = RatingRecordedV1(
        reference="r-old",
        provider_enterprise_number=PROVIDER_KBO,
        client_enterprise_number=CLIENT_KBO,
        score=2,
        rated_on=date(2026, 1, 25),
    )
    async with engine.begin() as conn:
        store = EventStore(conn, EventRegistry([RatingRecordedV1]))
        await store.append(rating_stream_id("r-old"), RATING_STREAM, 0, [old])
    await rebuild_projections(engine, Projector())
    read = ok(await api.get("/ratings/r-old", headers=AGENCY))
    assert (read["project_id"], read["score"], read["provider_enterprise_number"]) == (
        None,
        2,
        PROVIDER_KBO,
    )
    clock.set(at(date(2026, 2, 10)))
    await bought(api, "p-1", date(2026, 2, 5))
    ok(await api.post("/ratings", json=rating("r-new", "p-1"), headers=AGENCY), 201)
    async with engine.connect() as conn:
        counted = (
            await conn.execute(text("SELECT rating_count, rating_sum FROM provider_ratings"))
        ).one()
    assert tuple(counted) == (2, 6)  # the old one and the new one
    check = await check_projections(engine, Projector())
    assert check.equal, check.shown
