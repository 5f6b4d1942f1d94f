"""``If-Match`` pins the version, and concurrent writers of one registration cannot both win,
over HTTP. Retries with ``Idempotency-Key``: tests/api/test_idempotency.py. Every test counts
what was appended in the ``events`` table itself."""

from __future__ import annotations

import asyncio
from collections import Counter

import httpx
from sqlalchemy.ext.asyncio import AsyncEngine

from app.services.clock import FixedClock
from tests.api.idempotency_support import (
    DECISION_EVENTS,
    audit_passed,
    count_events,
    submit,
)
from tests.api.support import (
    AGENCY,
    BUREAU_ID,
    PROVIDER,
    application_body,
    bureau_body,
    key,
    ok,
    problem,
)

# --- 8. If-Match ------------------------------------------------------------------------------


async def test_if_match_pins_the_version(api: httpx.AsyncClient, engine: AsyncEngine) -> None:
    application_id = await submit(api)
    url = f"/applications/{application_id}"
    read = await api.get(url, headers=AGENCY)
    version = ok(read)["version"]
    assert read.headers["ETag"] == f'"{version}"'

    declared = await api.post(
        f"{url}/sworn-declaration", json={}, headers=AGENCY | {"If-Match": read.headers["ETag"]}
    )
    ok(declared)
    assert declared.headers["ETag"] == f'"{version + 1}"'
    reread = await api.get(url, headers=AGENCY)
    assert reread.headers["ETag"] == declared.headers["ETag"]

    # The ETag read before the declaration is stale now.
    ok(await api.post("/bureaus", json=bureau_body(), headers=AGENCY | key()), 201)
    events = await count_events(engine)
    stale = await api.post(
        f"{url}/audits",
        json={"bureau_id": BUREAU_ID},
        headers=PROVIDER | key() | {"If-Match": read.headers["ETag"]},
    )
    body = problem(stale, 412, "version-mismatch")
    assert body["expected_version"] == version
    assert body["actual_version"] == version + 1
    assert await count_events(engine) == events

    malformed = await api.post(
        f"{url}/audits", json={"bureau_id": BUREAU_ID}, headers=PROVIDER | {"If-Match": "abc"}
    )
    problem(malformed, 422, "invalid-if-match")
    assert await count_events(engine) == events

    anything = await api.post(
        f"{url}/audits", json={"bureau_id": BUREAU_ID}, headers=PROVIDER | {"If-Match": "*"}
    )
    ok(anything, 201)
    assert anything.headers["ETag"] == f'"{version + 2}"'
    assert await count_events(engine) == events + 1


async def test_if_match_again_with_the_same_etag_is_refused(
    api: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    application_id = await submit(api)
    etag = (await api.get(f"/applications/{application_id}", headers=AGENCY)).headers["ETag"]
    url = f"/applications/{application_id}/sworn-declaration"
    ok(await api.post(url, json={}, headers=AGENCY | {"If-Match": etag}))
    events = await count_events(engine)

    again = await api.post(url, json={}, headers=AGENCY | {"If-Match": etag})
    problem(again, 412, "version-mismatch")
    assert await count_events(engine) == events


# --- 9. races between different commands ------------------------------------------------------


async def test_concurrent_declarations_only_one_is_recorded(
    api: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    application_id = await submit(api)
    url = f"/applications/{application_id}/sworn-declaration"
    responses = await asyncio.gather(
        *(api.post(url, json={}, headers=AGENCY | (key() if n % 2 else {})) for n in range(10))
    )

    statuses = Counter(response.status_code for response in responses)
    assert statuses == {200: 1, 409: 9}, [r.text for r in responses]
    for response in responses:
        if response.status_code == 409:
            problem(response, 409, "sworn-declaration-already-received")
    assert await count_events(engine, "SwornDeclarationReceived") == 1


async def test_concurrent_decisions_only_one_is_recorded(
    api: httpx.AsyncClient, engine: AsyncEngine, clock: FixedClock
) -> None:
    application_id = await submit(api)
    await audit_passed(api, clock, application_id)
    url = f"/applications/{application_id}/decision"
    granted, refused = await asyncio.gather(
        api.post(url, json={"granted": True}, headers=AGENCY | key()),
        api.post(url, json={"granted": False, "reason": "Twijfel"}, headers=AGENCY | key()),
    )

    assert sorted([granted.status_code, refused.status_code]) == [200, 409], (
        granted.text,
        refused.text,
    )
    loser = granted if granted.status_code == 409 else refused
    problem(loser, 409, "no-open-application")
    assert await count_events(engine, *DECISION_EVENTS) == 1
    winner = refused if loser is granted else granted
    status = ok(winner)["status"]
    assert status == ("granted" if winner is granted else "refused")


async def test_concurrent_applications_for_one_unit_only_one_is_open(
    api: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    responses = await asyncio.gather(
        *(
            api.post("/applications", json=application_body(), headers=PROVIDER | key())
            for _ in range(10)
        )
    )

    statuses = Counter(response.status_code for response in responses)
    assert statuses == {201: 1, 409: 9}, [r.text for r in responses]
    for response in responses:
        if response.status_code == 409:
            problem(response, 409, "application-already-open")
    assert await count_events(engine, "ApplicationSubmitted") == 1
    listed = ok(await api.get("/applications", headers=PROVIDER))
    assert len(listed["items"]) == 1
