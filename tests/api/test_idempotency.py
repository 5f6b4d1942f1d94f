"""Retries and restarts over HTTP: ``Idempotency-Key`` replays the first response and appends
nothing, keys are per client, survive a restart and are forgotten after the retention; every
event records its key, actor and correlation. ``If-Match`` and races between different commands:
tests/api/test_if_match_and_races.py. Every test counts what was appended in the ``events`` table
itself."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta

import httpx
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from app.api.http.auth import Role
from app.api.http.idempotency import forget_expired
from app.main import create_app
from app.runtime.settings import Settings
from app.services.clock import FixedClock
from tests.api.idempotency_support import (
    DECISION_EVENTS,
    REPLAYED,
    audit_passed,
    count_events,
    last_event,
    stored_keys,
    submit,
)
from tests.api.support import (
    AGENCY,
    OTHER_PROVIDER_KBO,
    PROVIDER,
    PROVIDER_KBO,
    application_body,
    auth,
    bureau_body,
    key,
    ok,
    problem,
)

# --- 1. a retry gets the first response again ------------------------------------------------


async def test_a_retry_with_the_same_key_and_body_replays_the_first_response(
    api: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    headers = PROVIDER | key()
    body = application_body()
    first = await api.post("/applications", json=body, headers=headers)
    created = ok(first, 201)
    assert REPLAYED not in first.headers
    assert first.headers["Location"] == f"/applications/{created['application_id']}"
    events = await count_events(engine)
    assert events == 1

    # The same JSON, its keys in another order and laid out otherwise, is the same request.
    reordered = json.dumps(dict(reversed(list(body.items()))), indent=4).encode()
    assert reordered != json.dumps(body).encode()
    retries = [
        await api.post("/applications", json=body, headers=headers),
        await api.post(
            "/applications",
            content=reordered,
            headers=headers | {"Content-Type": "application/json"},
        ),
    ]
    for retry in retries:
        assert retry.status_code == 201, retry.text
        assert retry.content == first.content  # byte for byte
        assert retry.headers["Location"] == first.headers["Location"]
        assert retry.headers["ETag"] == first.headers["ETag"]
        assert retry.headers[REPLAYED] == "true"
    assert await count_events(engine) == events

    # Still exactly the one application.
    listed = ok(await api.get("/applications", headers=PROVIDER))
    assert [a["application_id"] for a in listed["items"]] == [created["application_id"]]


# --- 2. the same key for another request is refused ------------------------------------------


async def test_the_same_key_with_another_body_is_refused(
    api: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    headers = PROVIDER | key()
    ok(await api.post("/applications", json=application_body(), headers=headers), 201)
    events = await count_events(engine)

    other = application_body(provider_name="Een Heel Andere Naam")
    refused = await api.post("/applications", json=other, headers=headers)
    problem(refused, 409, "idempotency-key-reused")
    assert REPLAYED not in refused.headers
    # Another service type would have been a new, valid application: still refused.
    refused = await api.post("/applications", json=application_body("advies"), headers=headers)
    problem(refused, 409, "idempotency-key-reused")
    assert await count_events(engine) == events


# --- 3. keys are per client -------------------------------------------------------------------


async def test_keys_are_per_client(api: httpx.AsyncClient, engine: AsyncEngine) -> None:
    shared = key()
    first = ok(
        await api.post("/applications", json=application_body(), headers=PROVIDER | shared), 201
    )

    someone_else = auth(Role.PROVIDER, sub="someone-else", enterprise_number=OTHER_PROVIDER_KBO)
    response = await api.post(
        "/applications", json=application_body(), headers=someone_else | shared
    )
    theirs = ok(response, 201)
    assert REPLAYED not in response.headers
    assert theirs["application_id"] != first["application_id"]
    assert theirs["enterprise_number"] == OTHER_PROVIDER_KBO
    assert await count_events(engine, "ApplicationSubmitted") == 2

    # Another client of the same enterprise with the same key is not replayed either: its
    # request is judged on its own (and the unit already has an open application).
    colleague = auth(Role.PROVIDER, sub="colleague-app", enterprise_number=PROVIDER_KBO)
    judged = await api.post("/applications", json=application_body(), headers=colleague | shared)
    problem(judged, 409, "application-already-open")
    assert await count_events(engine, "ApplicationSubmitted") == 2
    assert await stored_keys(engine) == {
        ("provider-app", shared["Idempotency-Key"]),
        ("someone-else", shared["Idempotency-Key"]),
    }


async def test_one_client_id_for_two_enterprises_shares_no_keys(
    api: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    """Tokens that share a ``sub`` (as ``kmop token`` once minted ``provider-dev`` for every
    provider) but act for different enterprises are different callers: the second enterprise's
    application is made, not answered with the first's."""
    shared = key()
    first_enterprise = auth(Role.PROVIDER, sub="provider-dev", enterprise_number=PROVIDER_KBO)
    second_enterprise = auth(
        Role.PROVIDER, sub="provider-dev", enterprise_number=OTHER_PROVIDER_KBO
    )
    first = await api.post(
        "/applications", json=application_body(), headers=first_enterprise | shared
    )
    second = await api.post(
        "/applications", json=application_body(), headers=second_enterprise | shared
    )

    assert ok(first, 201)["enterprise_number"] == PROVIDER_KBO
    theirs = ok(second, 201)
    assert REPLAYED not in second.headers
    assert theirs["enterprise_number"] == OTHER_PROVIDER_KBO
    assert theirs["application_id"] != first.json()["application_id"]
    assert await count_events(engine, "ApplicationSubmitted") == 2
    listed = ok(await api.get("/applications", headers=second_enterprise))
    assert [a["application_id"] for a in listed["items"]] == [theirs["application_id"]]
    # Each enterprise's retry replays its own response.
    for headers, response in ((first_enterprise, first), (second_enterprise, second)):
        retry = await api.post("/applications", json=application_body(), headers=headers | shared)
        assert retry.headers[REPLAYED] == "true"
        assert retry.content == response.content


async def test_one_client_id_in_two_roles_shares_no_keys(
    api: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    """The same ``sub`` as the agency and as a provider: two callers, each with its own keys
    (scoped by ``sub`` alone, the second request was refused as a reuse of the first's key)."""
    shared = key()
    agency = auth(Role.AGENCY, sub="shared-client")
    provider = auth(Role.PROVIDER, sub="shared-client", enterprise_number=PROVIDER_KBO)
    ok(await api.post("/bureaus", json=bureau_body(), headers=agency | shared), 201)
    applied = await api.post("/applications", json=application_body(), headers=provider | shared)
    ok(applied, 201)
    assert REPLAYED not in applied.headers
    async with engine.connect() as conn:
        rows = (
            await conn.execute(text("SELECT client_id, role, bound_to FROM idempotency_keys"))
        ).all()
    assert sorted(tuple(row) for row in rows) == [
        ("shared-client", "agency", ""),
        ("shared-client", "provider", PROVIDER_KBO),
    ]


# --- 4. the memory survives a restart ---------------------------------------------------------


async def test_a_retry_after_a_restart_replays_the_first_response(
    api: httpx.AsyncClient, engine: AsyncEngine, clock: FixedClock
) -> None:
    headers = PROVIDER | key()
    first = await api.post("/applications", json=application_body(), headers=headers)
    ok(first, 201)
    events = await count_events(engine)

    restarted: FastAPI = create_app(Settings(environment="test"), engine=engine, clock=clock)
    transport = httpx.ASGITransport(app=restarted, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as fresh:
        retry = await fresh.post("/applications", json=application_body(), headers=headers)
    assert retry.status_code == 201, retry.text
    assert retry.content == first.content
    assert retry.headers["Location"] == first.headers["Location"]
    assert retry.headers[REPLAYED] == "true"
    assert await count_events(engine) == events


# --- 5. a refused command is not remembered ---------------------------------------------------


async def test_a_refused_command_is_judged_again_on_retry(
    api: httpx.AsyncClient, engine: AsyncEngine, clock: FixedClock
) -> None:
    """Only successful responses are remembered: a refused command appended nothing, so a
    retry with the same key is judged again, on the state as it is then."""
    application_id = await submit(api)
    decide = AGENCY | key()
    refused = await api.post(
        f"/applications/{application_id}/decision", json={"granted": True}, headers=decide
    )
    problem(refused, 409, "decision-without-report")
    assert ("vlaio-backoffice", decide["Idempotency-Key"]) not in await stored_keys(engine)

    await audit_passed(api, clock, application_id)
    events = await count_events(engine)
    granted = await api.post(
        f"/applications/{application_id}/decision", json={"granted": True}, headers=decide
    )
    assert ok(granted)["status"] == "granted"
    assert REPLAYED not in granted.headers
    assert await count_events(engine) == events + 1
    assert await count_events(engine, *DECISION_EVENTS) == 1

    # Now it is remembered.
    again = await api.post(
        f"/applications/{application_id}/decision", json={"granted": True}, headers=decide
    )
    assert again.status_code == 200
    assert again.content == granted.content
    assert again.headers[REPLAYED] == "true"
    assert await count_events(engine) == events + 1


# --- 6. concurrent retries with one key -------------------------------------------------------


async def test_concurrent_retries_of_a_declaration_append_once(
    api: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    application_id = await submit(api)
    headers = AGENCY | key()
    url = f"/applications/{application_id}/sworn-declaration"
    responses = await asyncio.gather(*(api.post(url, json={}, headers=headers) for _ in range(8)))

    for response in responses:
        assert response.status_code == 200, response.text
    assert len({response.content for response in responses}) == 1
    assert json.loads(responses[0].content)["sworn_declaration_on"] == "2026-01-05"
    assert sum(REPLAYED not in response.headers for response in responses) == 1
    assert await count_events(engine, "SwornDeclarationReceived") == 1
    assert await count_events(engine) == 2


async def test_concurrent_retries_of_an_application_append_once(
    api: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    headers = PROVIDER | key()
    responses = await asyncio.gather(
        *(api.post("/applications", json=application_body(), headers=headers) for _ in range(8))
    )

    for response in responses:
        assert response.status_code == 201, response.text
    assert len({response.content for response in responses}) == 1
    assert len({response.headers["Location"] for response in responses}) == 1
    assert sum(REPLAYED not in response.headers for response in responses) == 1
    assert await count_events(engine) == 1


# --- 7. who, why and under which key ----------------------------------------------------------


async def test_every_event_records_key_actor_and_correlation(
    api: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    sent = PROVIDER | key() | {"X-Request-ID": "provider-req-42"}
    response = await api.post("/applications", json=application_body(), headers=sent)
    application_id = ok(response, 201)["application_id"]
    assert response.headers["X-Request-ID"] == "provider-req-42"
    event_type, metadata = await last_event(engine)
    assert event_type == "ApplicationSubmitted"
    assert metadata["idempotency_key"] == sent["Idempotency-Key"]
    assert metadata["actor"] == {"id": "provider-app", "role": "provider"}
    assert metadata["correlation_id"] == "provider-req-42"

    # No X-Request-ID sent: one is made, answered in the header and kept with the event.
    declare = AGENCY | key()
    response = await api.post(
        f"/applications/{application_id}/sworn-declaration", json={}, headers=declare
    )
    ok(response)
    generated = response.headers["X-Request-ID"]
    assert generated
    event_type, metadata = await last_event(engine)
    assert event_type == "SwornDeclarationReceived"
    assert metadata["idempotency_key"] == declare["Idempotency-Key"]
    assert metadata["actor"] == {"id": "vlaio-backoffice", "role": "agency"}
    assert metadata["correlation_id"] == generated

    # Without an Idempotency-Key, none is recorded.
    response = await api.post(
        "/applications", json=application_body("advies"), headers=PROVIDER | {"X-Request-ID": "r3"}
    )
    ok(response, 201)
    event_type, metadata = await last_event(engine)
    assert event_type == "ApplicationSubmitted"
    assert metadata.get("idempotency_key") is None
    assert metadata["correlation_id"] == "r3"
    assert metadata["actor"] == {"id": "provider-app", "role": "provider"}


# --- 10. keys are forgotten after the retention -----------------------------------------------


async def test_expired_keys_are_forgotten(api: httpx.AsyncClient, engine: AsyncEngine) -> None:
    old, fresh = key(), key()
    first = await api.post("/applications", json=application_body(), headers=PROVIDER | old)
    ok(first, 201)
    ok(
        await api.post("/applications", json=application_body("advies"), headers=PROVIDER | fresh),
        201,
    )
    async with engine.begin() as conn:
        moved = await conn.execute(
            text(
                "UPDATE idempotency_keys SET created_at = created_at - interval '25 hours'"
                " WHERE key = :key"
            ),
            {"key": old["Idempotency-Key"]},
        )
        assert moved.rowcount == 1

    assert await forget_expired(engine, timedelta(hours=24)) == 1
    assert await stored_keys(engine) == {("provider-app", fresh["Idempotency-Key"])}
    assert await forget_expired(engine, timedelta(hours=24)) == 0

    # The forgotten key is no longer replayed: a retry is judged again (the unit's
    # application is open), the fresh one still is.
    events = await count_events(engine)
    retried = await api.post("/applications", json=application_body(), headers=PROVIDER | old)
    problem(retried, 409, "application-already-open")
    replayed = await api.post(
        "/applications", json=application_body("advies"), headers=PROVIDER | fresh
    )
    assert replayed.status_code == 201
    assert replayed.headers[REPLAYED] == "true"
    assert await count_events(engine) == events
