"""Providers keeping their public profile through their own API (as events, refused when it breaks
a rule, rebuilt row for row), and the days a provider is listed. The world searched:
tests/api/test_public.py."""

from __future__ import annotations

from datetime import date
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from app.events.projections import Projector
from app.events.rebuild import rebuild_projections
from app.services.clock import FixedClock
from tests.api.support import (
    AGENCY,
    PROBLEM,
    at,
    ok,
    problem,
)
from tests.api.test_public import (
    KIWA_KBO,
    NOORD_KBO,
    VINCOTTE_KBO,
    ZUID_KBO,
    names,
    profile,
    provider,
)
from tests.api.test_public import world as public_world

world = public_world  # the public search's world (tests/api/test_public.py)


# --- the profile, kept by the provider ----------------------------------------------------


async def test_a_provider_keeps_its_own_profile_as_events(
    api: httpx.AsyncClient, engine: AsyncEngine, world: dict[str, str]
) -> None:
    mine = provider(VINCOTTE_KBO)
    url = f"/providers/{VINCOTTE_KBO}/profile"
    read = await api.get(url, headers=mine)
    current = ok(read)
    assert read.headers["ETag"] == '"1"'
    assert current["version"] == 1
    assert ok(await api.get(url, headers=AGENCY)) == current
    problem(await api.get(url, headers=provider(KIWA_KBO)), 404, "not-found")
    problem(await api.post(url, json=profile("x"), headers=provider(KIWA_KBO)), 404, "not-found")
    problem(await api.post(url, json=profile("x"), headers=AGENCY), 403, "forbidden")

    same = {k: current[k] for k in ("description", "themes", "website")}
    same["locations"] = [
        {k: v for k, v in location.items() if k != "province"} for location in current["locations"]
    ]
    assert ok(await api.post(url, json=same, headers=mine))["version"] == 1  # nothing changed

    changed = profile("Nieuw.", ("1000", "Brussel"))
    problem(
        await api.post(url, json=changed, headers={**mine, "If-Match": '"0"'}),
        412,
        "version-mismatch",
    )
    after = ok(await api.post(url, json=changed, headers={**mine, "If-Match": '"1"'}))
    assert after["version"] == 2
    assert after["locations"][0]["province"] == "brussel"
    assert await names(api, region="brussel") == ["Vinçotte Academy"]

    async with engine.connect() as conn:
        rows = (
            await conn.execute(
                text(
                    "SELECT event_type, metadata FROM events WHERE stream_id = :s ORDER BY version"
                ),
                {"s": f"provider:{VINCOTTE_KBO}"},
            )
        ).all()
    assert [row.event_type for row in rows] == ["ProviderProfileUpdated"] * 2
    assert rows[-1].metadata["actor"] == {"id": f"app-{VINCOTTE_KBO}", "role": "provider"}


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"locations": [{"street": "x", "postal_code": "12", "municipality": "Gent"}]}, 422),
        ({"locations": [{"street": "x", "postal_code": "0999", "municipality": "Gent"}]}, 422),
        ({"themes": ["koken"]}, 422),
        ({"website": "javascript:alert(1)"}, 422),
        ({"description": "x" * 4001}, 422),
        ({"unknown": 1}, 422),
    ],
)
async def test_a_profile_that_breaks_a_rule_is_refused_and_nothing_is_recorded(
    api: httpx.AsyncClient, engine: AsyncEngine, body: dict[str, Any], status: int
) -> None:
    response = await api.post(
        f"/providers/{VINCOTTE_KBO}/profile", json=body, headers=provider(VINCOTTE_KBO)
    )
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    async with engine.connect() as conn:
        assert await conn.scalar(text("SELECT count(*) FROM events")) == 0


async def test_the_public_projection_is_rebuilt_row_for_row(
    engine: AsyncEngine, world: dict[str, str]
) -> None:
    query = text(
        "SELECT enterprise_number, name, description, themes, locations, regions, search_name,"
        " document::text AS document, profile_version FROM public_providers"
        " ORDER BY enterprise_number"
    )
    async with engine.connect() as conn:
        before = [dict(row._mapping) for row in await conn.execute(query)]
    await rebuild_projections(engine, Projector())
    async with engine.connect() as conn:
        after = [dict(row._mapping) for row in await conn.execute(query)]
    assert len(before) == 4
    assert after == before


# --- the days a provider is listed (``public_providers.listed``, migration 0015) ------------

_LISTED = text("SELECT enterprise_number, listed::text FROM public_providers ORDER BY 1")
# The same from the registrations themselves: the union of the validities in force.
_IN_FORCE_DAYS = text(
    "SELECT p.enterprise_number, coalesce(range_agg(daterange(r.valid_from, r.valid_until, '[]'))"
    " FILTER (WHERE r.status IN ('registered', 'registered_conditionally', 'registered_starter')"
    " AND r.valid_from IS NOT NULL), '{}')::text"
    " FROM public_providers p LEFT JOIN registrations r USING (enterprise_number)"
    " GROUP BY p.enterprise_number ORDER BY 1"
)


async def _listed(engine: AsyncEngine) -> dict[str, str]:
    async with engine.connect() as conn:
        listed = {row[0]: row[1] for row in await conn.execute(_LISTED)}
        assert listed == {row[0]: row[1] for row in await conn.execute(_IN_FORCE_DAYS)}
    return listed


async def test_the_days_a_provider_is_listed_follow_its_registrations_live_and_rebuilt(
    api: httpx.AsyncClient, engine: AsyncEngine, world: dict[str, str]
) -> None:
    listed = await _listed(engine)
    assert listed[NOORD_KBO] == "{}"  # a profile, no decision yet
    for kbo in (VINCOTTE_KBO, KIWA_KBO, ZUID_KBO):
        page = ok(await api.get(f"/public/providers/{kbo}"))
        first = min(r["valid_from"] for r in page["registrations"])
        assert listed[kbo].startswith(f"{{[{first},")
    ok(await api.post("/registrations/DV.O000004/stop", json={"reason": "Stop"}, headers=AGENCY))
    ok(await api.post("/registrations/DV.O000002/stop", json={"reason": "Stop"}, headers=AGENCY))
    listed = await _listed(engine)
    assert listed[ZUID_KBO] == "{}"
    advies = ok(await api.get(f"/public/providers/{KIWA_KBO}"))["registrations"]
    assert [r["number"] for r in advies] == ["DV.A000003"]
    until = date.fromisoformat(advies[0]["valid_until"])
    after = date.fromordinal(until.toordinal() + 1)
    assert listed[KIWA_KBO] == f"{{[{advies[0]['valid_from']},{after})}}"
    await rebuild_projections(engine, Projector())
    assert await _listed(engine) == listed


@pytest.mark.parametrize(
    "params",
    [
        {"q": "academy"},  # a word of its name
        {"q": "vinçote academy"},  # a typo: the trigram candidates
        {"q": "duurzaam"},  # its description
        {"theme": "duurzaamheid"},
        {"region": "gent"},
        {"q": "academy", "service_type": "opleiding"},  # looked up in the registrations
    ],
)
async def test_every_kind_of_search_drops_a_registration_the_day_after_its_validity(
    api: httpx.AsyncClient, clock: FixedClock, world: dict[str, str], params: dict[str, str]
) -> None:
    """No event in between: the day of the query is compared with the days stored."""
    page = ok(await api.get(f"/public/providers/{VINCOTTE_KBO}"))
    valid_until = date.fromisoformat(page["registrations"][0]["valid_until"])
    clock.set(at(valid_until, 12))
    assert "Vinçotte Academy" in await names(api, **params)
    clock.set(at(date.fromordinal(valid_until.toordinal() + 1)))
    assert await names(api, **params) == []
