"""The global event feed over HTTP: a follower ends with exactly the committed events while many
commands run at once; filters pick events and the cursor moves past the others; bad parameters
are problems, never a 500."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Iterable
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from app.api.http.auth import Role
from app.services.clock import FixedClock
from tests.api.support import AGENCY, auth, bought, bureau_body, key, ok, problem, register
from tests.api.support import application_body as application
from tests.integration.scenarios import enterprise_number

PROVIDERS = 12
RATINGS = 60
RATED = 100  # rated provider p is enterprise RATED + p: registered, none of those that apply
GLOBAL_ORDER = "ORDER BY transaction_id, position"


def rating(n: int) -> dict[str, Any]:
    """A rating by the client of project ``n``, of the provider it was filed with (see
    ``register_rated``)."""
    return {
        "reference": f"rating-{n:05d}",
        "project_id": f"project-{n:05d}",
        "client_enterprise_number": str(enterprise_number(500 + n)),
        "score": 1 + n % 5,
    }


def provider(n: int) -> dict[str, str]:
    return auth(Role.PROVIDER, sub=f"provider-{n}", enterprise_number=str(enterprise_number(n)))


async def positions(engine: AsyncEngine, where: str = "true") -> list[int]:
    async with engine.connect() as conn:
        query = f"SELECT position FROM events WHERE {where} {GLOBAL_ORDER}"
        return list((await conn.execute(text(query))).scalars())


async def register_rated(
    api: httpx.AsyncClient,
    clock: FixedClock,
    engine: AsyncEngine,
    providers: int = 1,
    projects: Iterable[int] = (*range(10), 99),
) -> int:
    """Only a registered provider is rated, by the client of a project it bought: appoints
    bureau-kiwa, registers rated providers 1 to ``providers`` (granted on 2026-01-20, the clock's
    day from then on; their numbers DV.O000001 on, in that order) and records and approves
    project ``n`` of client 500 + n with provider 1 + n % ``providers``, for each of
    ``projects``. Returns the last position this wrote: what a test says about the feed, it says
    about what comes after."""
    ok(await api.post("/bureaus", json=bureau_body(), headers=AGENCY), 201)
    for p in range(1, providers + 1):
        await register(api, clock, provider(RATED + p))
    for n in projects:
        number, client = f"DV.O{1 + n % providers:06d}", str(enterprise_number(500 + n))
        await bought(api, f"project-{n:05d}", number, client, clock.now().date())
    return (await positions(engine))[-1]


async def follow(
    api: httpx.AsyncClient,
    params: dict[str, Any] | None = None,
    *,
    after: int = 0,
    until: int | None = None,
) -> dict[str, Any]:
    """Pages until caught up (and, given ``until``, until the cursor reached that position:
    transactions of other databases on a shared server can hold the horizon back for a while).
    Returns the events and the cursor to continue from."""
    events: list[dict[str, Any]] = []
    async with asyncio.timeout(30):
        while True:
            query = {**(params or {}), "after": after}
            page = ok(await api.get("/events", params=query, headers=AGENCY))
            events += page["events"]
            assert page["next_after"] != after or not page["events"]
            after = page["next_after"]
            if page["caught_up"] and until in (None, after):
                return {"events": events, "next_after": after}
            if page["caught_up"]:
                await asyncio.sleep(0.01)  # poll: the horizon moves when they finish


async def test_a_follower_gets_exactly_the_committed_events_while_commands_run(
    api: httpx.AsyncClient, clock: FixedClock, engine: AsyncEngine
) -> None:
    await register_rated(api, clock, engine, PROVIDERS, range(RATINGS - 5))
    registered = len(await positions(engine))
    seen: list[int] = []
    stop = asyncio.Event()
    rng = random.Random(11)

    async def follower() -> None:
        after = 0
        while not stop.is_set():
            params = {"after": after, "limit": rng.randint(1, 40)}
            page = ok(await api.get("/events", params=params, headers=AGENCY))
            seen.extend(event["position"] for event in page["events"])
            after = page["next_after"]
            if page["caught_up"]:
                await asyncio.sleep(0)  # let the commands run

    async def record(n: int) -> int:
        body = rating(n % (RATINGS - 5))  # a few repeat: 409; providers 1 + n % PROVIDERS
        response = await api.post("/ratings", json=body, headers=AGENCY | key())
        return response.status_code

    async def apply(n: int) -> int:
        service_type = "opleiding" if n % 2 else "advies"
        response = await api.post(
            "/applications", json=application(service_type), headers=provider(1 + n // 2) | key()
        )
        return response.status_code

    following = asyncio.create_task(follower())
    commands = [record(n) for n in range(RATINGS)] + [apply(n) for n in range(2 * PROVIDERS)]
    rng.shuffle(commands)
    statuses = await asyncio.gather(*commands)
    committed = await positions(engine)
    async with asyncio.timeout(30):  # until the follower has read as far as was committed
        while committed[-1] not in seen:  # noqa: ASYNC110 (the follower is polling HTTP)
            await asyncio.sleep(0.01)
    stop.set()
    await asyncio.wait_for(following, timeout=10)

    assert statuses.count(201) == RATINGS - 5 + 2 * PROVIDERS
    assert statuses.count(409) == 5  # refused: their transactions wrote nothing
    assert len(committed) == registered + RATINGS - 5 + 2 * PROVIDERS
    assert len(seen) == len(set(seen)), "an event was delivered twice"
    assert seen == committed, "the follower missed, invented or reordered events"


async def test_each_event_carries_its_stream_type_data_and_metadata(
    api: httpx.AsyncClient, clock: FixedClock, engine: AsyncEngine
) -> None:
    registered = await register_rated(api, clock, engine)
    idempotency = key()
    ok(
        await api.post(
            "/ratings", json=rating(1), headers=AGENCY | idempotency | {"X-Request-ID": "req-1"}
        ),
        201,
    )
    (committed,) = await positions(engine, f"position > {registered}")
    page = await follow(api, after=registered, until=committed)
    (event,) = page["events"]
    assert page["next_after"] == event["position"] == committed
    assert event["stream_id"] == "rating:rating-00001"
    assert event["stream_type"] == "rating"
    assert event["version"] == 1
    assert event["event_type"] == "RatingRecorded"
    assert event["schema_version"] == 2  # v2: a rating names its project (issue 13)
    assert event["data"]["reference"] == "rating-00001"
    assert event["data"]["score"] == 2
    assert event["metadata"] == {
        "actor": {"id": "vlaio-backoffice", "role": "agency"},
        "correlation_id": "req-1",
        "causation_id": None,
        "idempotency_key": idempotency["Idempotency-Key"],
    }
    assert event["recorded_at"]
    # Nothing new: the same cursor back, caught up.
    again = ok(await api.get("/events", params={"after": event["position"]}, headers=AGENCY))
    assert again == {"events": [], "next_after": event["position"], "caught_up": True}


async def test_filters_pick_events_and_the_cursor_moves_past_the_others(
    api: httpx.AsyncClient, clock: FixedClock, engine: AsyncEngine
) -> None:
    registered = await register_rated(api, clock, engine)  # the bureau's event comes first
    for n in range(5):
        ok(await api.post("/ratings", json=rating(n), headers=AGENCY), 201)
        ok(
            await api.post("/applications", json=application(), headers=provider(10 + n) | key()),
            201,
        )
    everything = await positions(engine)
    ratings = await positions(engine, "event_type = 'RatingRecorded'")

    followed = await follow(api, {"type": "RatingRecorded", "limit": 2}, until=everything[-1])
    assert [e["position"] for e in followed["events"]] == ratings
    assert {e["event_type"] for e in followed["events"]} == {"RatingRecorded"}
    assert followed["next_after"] == everything[-1]  # past the applications after the last one

    # A full page ends at its last event; the rest of what was looked at is read again next.
    page = ok(
        await api.get("/events", params={"type": "RatingRecorded", "limit": 2}, headers=AGENCY)
    )
    assert page["next_after"] == page["events"][-1]["position"] == ratings[1]
    assert page["caught_up"] is False

    # Only skipped events after the cursor: an empty page that still moves on.
    last_rating = ratings[-1]
    page = ok(
        await api.get(
            "/events", params={"type": "RatingRecorded", "after": last_rating}, headers=AGENCY
        )
    )
    assert page == {"events": [], "next_after": everything[-1], "caught_up": True}

    # A new rating is the next page of a follower that kept its cursor.
    ok(await api.post("/ratings", json=rating(99), headers=AGENCY), 201)
    latest = (await positions(engine))[-1]
    page = await follow(api, {"type": "RatingRecorded"}, after=followed["next_after"], until=latest)
    assert [e["data"]["reference"] for e in page["events"]] == ["rating-00099"]

    # Several types, one stream, a stream type.
    both = await follow(api, {"type": ["RatingRecorded", "AuditBureauAppointed"]}, until=latest)
    assert [e["event_type"] for e in both["events"]][:2] == [
        "AuditBureauAppointed",
        "RatingRecorded",
    ]
    assert len(both["events"]) == 7
    one = await follow(api, {"stream": "rating:rating-00003"}, until=latest)
    assert [e["data"]["reference"] for e in one["events"]] == ["rating-00003"]
    units = await follow(api, {"stream_type": "registration-unit"}, after=registered, until=latest)
    assert {e["event_type"] for e in units["events"]} == {"ApplicationSubmitted"}
    assert len(units["events"]) == 5
    assert (await follow(api, {"stream": "nothing:here"}, until=latest))["events"] == []


@pytest.mark.parametrize(
    ("params", "parameter"),
    [
        pytest.param({"after": "-1"}, "after", id="negative position"),
        pytest.param({"after": "seven"}, "after", id="not a number"),
        pytest.param({"after": str(2**63)}, "after", id="beyond bigint"),
        pytest.param({"after": "123456"}, "after", id="no such position"),
        pytest.param({"limit": "0"}, "limit", id="limit 0"),
        pytest.param({"limit": "1001"}, "limit", id="limit too large"),
        pytest.param({"type": "RatingRecordedd"}, "type", id="unknown event type"),
        pytest.param({"type": "Rating\x00"}, "type", id="control character"),
        pytest.param({"type": ["RatingRecorded"] * 21}, "type", id="too many types"),
        pytest.param({"stream": "x" * 301}, "stream", id="stream id too long"),
    ],
)
async def test_bad_parameters_are_problems_never_a_500(
    api: httpx.AsyncClient,
    clock: FixedClock,
    engine: AsyncEngine,
    params: dict[str, Any],
    parameter: str,
) -> None:
    await register_rated(api, clock, engine)
    ok(await api.post("/ratings", json=rating(1), headers=AGENCY), 201)
    for path in ("/events", "/events/stream"):
        if path.endswith("stream") and parameter == "limit":
            continue
        body = problem(await api.get(path, params=params, headers=AGENCY), 422, "validation-failed")
        assert parameter in {error.get("parameter") for error in body["errors"]}, body


@pytest.mark.parametrize("value", ["seven", "-1", "1.5", str(2**63), "123456"])
async def test_a_bad_last_event_id_is_a_problem(
    api: httpx.AsyncClient, clock: FixedClock, engine: AsyncEngine, value: str
) -> None:
    await register_rated(api, clock, engine)
    ok(await api.post("/ratings", json=rating(1), headers=AGENCY), 201)
    response = await api.get("/events/stream", headers=AGENCY | {"Last-Event-ID": value})
    body = problem(response, 422, "validation-failed")
    assert body["errors"] == [
        {"parameter": "Last-Event-ID", "in": "header", "detail": body["errors"][0]["detail"]}
    ]
