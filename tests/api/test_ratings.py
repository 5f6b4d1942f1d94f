"""Who can be rated, over HTTP against the real database: only a provider whose first
registration was granted on or before the rating's date (issue 11, point 6), even once that
registration has ended; anything else is refused and nothing is written."""

from __future__ import annotations

from datetime import date
from typing import Any

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from app.services.clock import FixedClock
from tests.api.support import AGENCY, PROVIDER, PROVIDER_KBO, at, bureau_body, ok, problem, register
from tests.integration.scenarios import enterprise_number

CLIENT_KBO = str(enterprise_number(777))
GRANTED_ON = date(2026, 1, 20)  # the decision date of support.register


def rating(reference: str, provider: str, rated_on: date | None = None) -> dict[str, Any]:
    body = {
        "reference": reference,
        "provider_enterprise_number": provider,
        "client_enterprise_number": CLIENT_KBO,
        "score": 4,
    }
    return body | ({"rated_on": rated_on.isoformat()} if rated_on else {})


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
    never_applied = str(enterprise_number(555))
    assert "never" in await refused(api, engine, rating("r-1", never_applied))
    # An application audited but not yet decided is no registration.
    ok(await api.post("/bureaus", json=bureau_body(), headers=AGENCY), 201)
    await register(api, clock, PROVIDER, decide=False)
    clock.set(at(date(2026, 2, 1)))
    assert "never" in await refused(api, engine, rating("r-2", PROVIDER_KBO))


async def test_a_rating_dated_before_the_first_registration_is_refused(
    api: httpx.AsyncClient, clock: FixedClock, engine: AsyncEngine
) -> None:
    ok(await api.post("/bureaus", json=bureau_body(), headers=AGENCY), 201)
    await register(api, clock, PROVIDER)
    clock.set(at(date(2026, 2, 1)))
    day_before = rating("r-1", PROVIDER_KBO, date(2026, 1, 19))
    assert "first registered on 2026-01-20" in await refused(api, engine, day_before)
    recorded = ok(
        await api.post("/ratings", json=rating("r-2", PROVIDER_KBO, GRANTED_ON), headers=AGENCY),
        201,
    )
    assert (recorded["reference"], recorded["rated_on"]) == ("r-2", "2026-01-20")


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
    ok(await api.post("/ratings", json=rating("r-1", PROVIDER_KBO), headers=AGENCY), 201)
    ok(
        await api.post(
            "/ratings", json=rating("r-2", PROVIDER_KBO, date(2026, 2, 15)), headers=AGENCY
        ),
        201,
    )
