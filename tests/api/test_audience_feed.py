"""Every role follows its own events: the agency all of them, a provider those of its own units
and profile, a bureau those of the audits assigned to it and of the registrations it audited --
never its successor's audit -- filtered in the feed's SQL, with the same no-skip cursor, which
neither stops early nor skips when thousands of events in a row are not the reader's."""

from __future__ import annotations

import asyncio
import json
import time
from collections import Counter
from datetime import date
from typing import Any

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from app.domain.events import ProviderProfileUpdated, RegistrationStopped
from app.domain.roles import Role
from app.events import EventStore
from app.events.audience import SEEN_BY, Audience, Seen, condition, opened_for, params, payload
from app.events.catalog import REGISTRY, UNIT_STREAM
from app.services.clock import FixedClock
from tests.api.support import (
    AGENCY,
    BUREAU,
    OTHER_BUREAU,
    OTHER_PROVIDER,
    OTHER_PROVIDER_KBO,
    PROVIDER,
    PROVIDER_KBO,
    bureau_body,
    ok,
)
from tests.api.test_former_bureau import story  # noqa: F401 (the fixture)
from tests.api.test_sse import blocks, committed, serving
from tests.integration.scenarios import enterprise_number

INVISIBLE = 10_000
HORIZON_PASSED = "SELECT pg_snapshot_xmin(pg_current_snapshot()) > CAST(CAST(:x AS text) AS xid8)"


async def everything(
    api: httpx.AsyncClient, engine: AsyncEngine, headers: dict[str, str]
) -> list[dict[str, Any]]:
    """The caller's whole feed: pages until the cursor reached the last committed event (other
    databases' transactions on a shared server can hold the horizon back for a while)."""
    end = (await committed(engine))[-1]
    events: list[dict[str, Any]] = []
    after = 0
    async with asyncio.timeout(30):
        while True:
            params = {"after": after, "limit": 7}
            page = ok(await api.get("/events", params=params, headers=headers))
            events += page["events"]
            after = page["next_after"]
            if page["caught_up"] and after == end:
                return events
            if page["caught_up"]:
                await asyncio.sleep(0.01)


async def readable(engine: AsyncEngine) -> None:
    """Waits until every committed event is below the feed's horizon (other databases'
    transactions on a shared server can hold it back for a while)."""
    async with engine.connect() as conn:
        last = await conn.scalar(text("SELECT max(transaction_id)::text FROM events"))
        async with asyncio.timeout(30):
            while not await conn.scalar(text(HORIZON_PASSED), {"x": str(last)}):
                await conn.rollback()  # a new snapshot


def kinds(events: list[dict[str, Any]]) -> Counter[str]:
    return Counter(event["event_type"] for event in events)


async def test_each_role_reads_its_own_events_and_a_former_bureau_not_its_successors(
    api: httpx.AsyncClient,
    engine: AsyncEngine,
    story: dict[str, str],  # noqa: F811 (the fixture)
) -> None:
    profile = {"description": "Opleidingen", "themes": ["innovatie"], "locations": []}
    url = f"/providers/{OTHER_PROVIDER_KBO}/profile"
    ok(await api.post(url, json=profile, headers=OTHER_PROVIDER))

    agency = await everything(api, engine, AGENCY)
    provider = await everything(api, engine, PROVIDER)
    former = await everything(api, engine, BUREAU)
    current = await everything(api, engine, OTHER_BUREAU)
    others = await everything(api, engine, OTHER_PROVIDER)

    assert kinds(agency)["ProviderProfileUpdated"] == 1
    # The provider: every event of its unit and the bureaus' appointments; not another's profile.
    unit = f"unit:{story['unit']}"
    assert [e["event_id"] for e in provider if e["stream_type"] == "registration_unit"] == [
        e["event_id"] for e in agency if e["stream_id"] == unit
    ]
    assert kinds(provider) == kinds(agency) - Counter(["ProviderProfileUpdated"])
    assert [e["event_type"] for e in others] == [
        "AuditBureauAppointed",
        "AuditBureauAppointed",
        "ProviderProfileUpdated",
    ]
    # The former bureau: its own audit and the minister's refusal of what it audited; of the
    # second application (audited by its successor) nothing at all.
    assert kinds(former) == Counter(
        {
            "AuditBureauAppointed": 2,
            "AuditBureauChosen": 1,
            "AuditPlanned": 1,
            "AuditReportSubmitted": 1,
            "ApplicationRefused": 1,
        }
    )
    audits = {e["data"]["audit_id"] for e in former if "audit_id" in e["data"]}
    assert audits == {story["first_audit"]}
    # The current bureau: its own audit, not the decision on the one before it.
    assert kinds(current) == Counter(
        {"AuditBureauAppointed": 2, "AuditBureauChosen": 1, "AuditPlanned": 1}
        | {"AuditReportSubmitted": 1}
    )
    assert {e["data"]["audit_id"] for e in current if "audit_id" in e["data"]} == {story["audit"]}
    # Positions and order are the global ones: each reader's feed is a subsequence of the agency's.
    order = [e["position"] for e in agency]
    for feed in (provider, former, current, others):
        positions = [e["position"] for e in feed]
        assert positions == [p for p in order if p in set(positions)]
    # Of the metadata, another reader sees the actor's role alone.
    by_provider = next(e for e in provider if e["event_type"] == "ApplicationSubmitted")
    assert by_provider["metadata"]["actor"] == {"id": "provider", "role": "provider"}
    assert by_provider["metadata"]["idempotency_key"] is None
    assert by_provider["metadata"]["correlation_id"] is None
    full = next(e for e in agency if e["event_id"] == by_provider["event_id"])
    assert full["metadata"]["actor"]["id"] == "provider-app"
    assert full["metadata"]["correlation_id"] is not None


async def test_the_stream_of_a_former_bureau_carries_its_events_and_moves_past_the_rest(
    api: httpx.AsyncClient,
    story: dict[str, str],  # noqa: F811 (the fixture)
    engine: AsyncEngine,
    clock: FixedClock,
) -> None:
    former = await everything(api, engine, BUREAU)
    last = (await committed(engine))[-1]
    streamed: list[dict[str, Any]] = []
    async with (
        serving(engine, clock) as (_, client),
        client.stream("GET", "/events/stream", headers=BUREAU) as response,
        asyncio.timeout(10),
    ):
        assert response.status_code == 200
        async for block in blocks(response):
            if block.event is not None:
                streamed.append(block.event)
            if block.fields.get("id") == str(last):  # the resume point reached the end
                break
    assert [e["event_id"] for e in streamed] == [e["event_id"] for e in former]
    assert len(streamed) == 6
    assert story["audit"] not in json.dumps(streamed)  # the successor's audit never appears


async def test_a_scoped_page_neither_stops_early_nor_skips_past_10000_invisible_events(
    api: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    """10,000 events of another enterprise's unit in a row (no bureau chosen there), then one
    event each reader may see: every page before it is empty but not caught up, and the first
    page with an event holds exactly that one."""
    ok(await api.post("/bureaus", json=bureau_body(), headers=AGENCY), 201)
    async with engine.connect() as conn:
        start = await conn.scalar(text("SELECT max(position) FROM events"))
    stopped = RegistrationStopped(reason="misbruik", stopped_on=date(2026, 1, 5))
    async with engine.begin() as conn:
        await EventStore(conn, REGISTRY).append(
            f"unit:{OTHER_PROVIDER_KBO}:advies", UNIT_STREAM, 0, [stopped] * INVISIBLE
        )
    own = ProviderProfileUpdated(
        enterprise_number=PROVIDER_KBO,
        description="x",
        themes=[],
        locations=[],
        updated_on=date(2026, 1, 5),
    )
    async with engine.begin() as conn:
        await EventStore(conn, REGISTRY).append(f"provider:{PROVIDER_KBO}", "provider", 0, [own])
    late = bureau_body("bureau-late", str(enterprise_number(902)))
    ok(await api.post("/bureaus", json=late, headers=AGENCY), 201)
    await readable(engine)

    for headers, expected in (
        (PROVIDER, ["ProviderProfileUpdated", "AuditBureauAppointed"]),
        (BUREAU, ["AuditBureauAppointed"]),
    ):
        after, pages = start, 0
        seen: list[dict[str, Any]] = []
        started = time.perf_counter()
        while True:
            page = ok(await api.get("/events", params={"after": after}, headers=headers))
            pages += 1
            if not page["events"]:
                assert not page["caught_up"] or seen, "a page stopped before the visible event"
            assert page["next_after"] != after or page["caught_up"]
            seen += page["events"]
            after = page["next_after"]
            if page["caught_up"]:
                break
        elapsed = time.perf_counter() - started
        assert [e["event_type"] for e in seen] == expected
        assert pages >= INVISIBLE // 5000  # each read looks at 5,000 at most
        role = "bureau" if headers is BUREAU else "provider"
        print(f"{role}: {pages} pages past {INVISIBLE} invisible events, {elapsed:.3f} s")


def test_every_event_type_says_who_sees_it_and_the_condition_names_only_known_types() -> None:
    assert set(SEEN_BY) == set(REGISTRY.classes)
    assert condition(Audience(Role.AGENCY)) == "true"
    for audience in (Audience(Role.BUREAU, bureau_id="b"), Audience(Role.PROVIDER, None, "1")):
        sql = condition(audience)
        named = {t for t in REGISTRY.classes if f"'{t}'" in sql}
        assert named == {
            t
            for t, seen in SEEN_BY.items()
            if (seen.bureau if audience.role is Role.BUREAU else seen.provider) is not None
        }
    assert "RatingRecorded" not in condition(Audience(Role.PROVIDER, None, "1"))


async def test_the_rules_for_streams_that_name_their_provider_in_a_field(
    engine: AsyncEngine,
) -> None:
    """``payload`` and ``opened_for``, the rules a new stream type (subsidy projects) takes: on
    profile streams, whose events carry the enterprise number, as a stand-in."""
    profile = {"description": "x", "themes": [], "locations": [], "updated_on": date(2026, 1, 5)}
    async with engine.begin() as conn:
        store = EventStore(conn, REGISTRY)
        for kbo in (PROVIDER_KBO, OTHER_PROVIDER_KBO):
            first = ProviderProfileUpdated(enterprise_number=kbo, **profile)
            # the second event names another enterprise: only the first one counts for opened_for
            second = ProviderProfileUpdated(enterprise_number="0000000097", **profile)
            await store.append(f"provider:{kbo}", "provider", 0, [first, second])
    reader = Audience(Role.PROVIDER, enterprise_number=PROVIDER_KBO)
    found = {}
    for name, rule in (
        ("payload", payload("enterprise_number")),
        ("opened", opened_for("enterprise_number")),
    ):
        where = condition(reader, {"ProviderProfileUpdated": Seen(provider=rule)})
        async with engine.connect() as conn:
            rows = await conn.execute(
                text(f"SELECT stream_id, version FROM events e WHERE {where} ORDER BY position"),
                params(reader),
            )
            found[name] = [tuple(row) for row in rows]
    assert found["payload"] == [(f"provider:{PROVIDER_KBO}", 1)]
    assert found["opened"] == [(f"provider:{PROVIDER_KBO}", 1), (f"provider:{PROVIDER_KBO}", 2)]
