"""Webhooks: a real receiver on localhost that fails, recovers and ends up with every event of its
owner's scope exactly once after de-duplication by event id, in order; signatures it can verify;
the backoff and its cap; dispatchers that stop and start again (a restart) and run two at once;
the delivery log; and addresses that would let a client reach into private networks refused."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from app.api.delivery import EVENT_ID, SIGNATURE, TIMESTAMP, Dispatcher, resolved_refusal, verify
from app.main import create_app
from app.runtime.settings import Settings
from tests.api.support import (
    AGENCY,
    BUREAU,
    OTHER_BUREAU_ID,
    OTHER_PROVIDER,
    PROVIDER,
    PROVIDER_KBO,
    bureau_body,
    ok,
    problem,
)
from tests.api.test_audience_feed import everything, readable
from tests.api.test_former_bureau import story  # noqa: F401 (the fixture)
from tests.api.test_sse import committed
from tests.integration.scenarios import enterprise_number

FAILURES = 4  # the receiver's first answers: failures (every other one after storing the event)

Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]


@dataclass
class Hook:
    """What one webhook's receiver got."""

    secret: str = ""
    received: list[str] = field(default_factory=list)  # event ids, as stored, duplicates too
    accepted: list[str] = field(default_factory=list)  # those answered 2xx
    events: dict[str, dict[str, Any]] = field(default_factory=dict)
    bad_signatures: int = 0
    fail: int = 0  # answers still to fail
    want: set[str] = field(default_factory=set)  # the event ids it waits for
    done: asyncio.Event = field(default_factory=asyncio.Event)

    def unique(self) -> list[str]:
        return list(dict.fromkeys(self.received))  # de-duplicated by event id, first arrival


class Receiver:
    """An ASGI receiver: /<name> is webhook <name>'s; it verifies each signature, stores the
    event, and answers 503 while the hook has failures left (every other time without storing
    it first), else 204."""

    def __init__(self) -> None:
        self.hooks: dict[str, Hook] = {}

    async def __call__(self, scope: dict[str, Any], receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        hook = self.hooks[scope["path"].strip("/")]
        headers = {k.decode().lower(): v.decode() for k, v in scope["headers"]}
        if not verify(hook.secret, headers[TIMESTAMP.lower()], body, headers[SIGNATURE.lower()]):
            hook.bad_signatures += 1
        event = json.loads(body)
        assert headers[EVENT_ID.lower()] == event["event_id"]
        status = 204
        if hook.fail:
            hook.fail -= 1
            status = 503
        if status == 204 or hook.fail % 2:  # some failures come after the event was stored
            hook.received.append(event["event_id"])
            hook.events[event["event_id"]] = event
        if status == 204:
            hook.accepted.append(event["event_id"])
            if hook.want <= set(hook.received):
                hook.done.set()
        await send({"type": "http.response.start", "status": status, "headers": []})
        await send({"type": "http.response.body", "body": b""})


@asynccontextmanager
async def receiving(receiver: Receiver) -> AsyncIterator[str]:
    server = uvicorn.Server(
        uvicorn.Config(receiver, host="127.0.0.1", port=0, log_level="warning", lifespan="off")
    )
    task = asyncio.create_task(server.serve())
    try:
        async with asyncio.timeout(10):
            while not server.started:  # noqa: ASYNC110 (uvicorn offers no event to wait on)
                await asyncio.sleep(0.01)
        yield f"http://127.0.0.1:{server.servers[0].sockets[0].getsockname()[1]}"
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, timeout=10)


def fast(**changes: Any) -> Settings:
    return Settings(
        environment="test",
        webhook_retry_base_seconds=0.01,
        webhook_retry_cap_seconds=0.04,
        webhook_poll_seconds=0.02,
        webhook_batch=3,  # several leases per webhook
        **changes,
    )


@asynccontextmanager
async def dispatching(engine: AsyncEngine, settings: Settings, count: int) -> AsyncIterator[None]:
    """``count`` dispatchers at once, as the service runs them; cancelled (a shutdown) after."""

    async def loop(dispatcher: Dispatcher) -> None:
        while True:
            if not await dispatcher.run_once():
                await asyncio.sleep(settings.webhook_poll_seconds)

    async with httpx.AsyncClient(follow_redirects=False, trust_env=False) as http:
        tasks = [
            asyncio.create_task(loop(Dispatcher(engine, settings, http))) for _ in range(count)
        ]
        try:
            yield
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)


async def register_hook(
    api: httpx.AsyncClient, receiver: Receiver, base: str, name: str, headers: dict[str, str]
) -> str:
    created = ok(
        await api.post("/webhooks", json={"url": f"{base}/{name}", "after": 0}, headers=headers),
        201,
    )
    receiver.hooks[name] = Hook(secret=created["secret"])
    assert created["secret"].startswith("whsec_")
    assert "secret" not in ok(await api.get("/webhooks", headers=headers))["items"][0]
    return str(created["webhook_id"])


async def hooks(api: httpx.AsyncClient) -> list[dict[str, Any]]:
    return [
        hook
        for headers in (PROVIDER, BUREAU)
        for hook in ok(await api.get("/webhooks", headers=headers))["items"]
    ]


async def test_a_receiver_that_fails_and_recovers_gets_every_event_of_its_scope_exactly_once(
    api: httpx.AsyncClient,
    engine: AsyncEngine,
    story: dict[str, str],  # noqa: F811 (the fixture)
) -> None:
    receiver = Receiver()
    async with receiving(receiver) as base:
        provider_hook = await register_hook(api, receiver, base, "provider", PROVIDER)
        await register_hook(api, receiver, base, "bureau", BUREAU)
        provider, bureau = receiver.hooks["provider"], receiver.hooks["bureau"]
        provider.fail = FAILURES
        provider_feed = await everything(api, engine, PROVIDER)
        bureau_feed = await everything(api, engine, BUREAU)
        provider.want = {e["event_id"] for e in provider_feed[:5]}
        bureau.want = {e["event_id"] for e in bureau_feed}

        async with dispatching(engine, fast(), 2), asyncio.timeout(30):
            await provider.done.wait()
        # Stopped (as at a shutdown) partway: no lease is left behind, the cursor is kept.
        async with engine.connect() as conn:
            rows = (await conn.execute(text("SELECT * FROM webhooks"))).all()
        assert all(row.leased_until is None and row.lease_token is None for row in rows)
        # More events while no dispatcher runs; then a new one (a restart) goes on.
        profile = {"description": "Opleidingen", "themes": ["innovatie"], "locations": []}
        url = f"/providers/{PROVIDER_KBO}/profile"
        ok(await api.post(url, json=profile, headers=PROVIDER))
        provider_feed = await everything(api, engine, PROVIDER)
        provider.want = {e["event_id"] for e in provider_feed}
        provider.done.clear()
        async with dispatching(engine, fast(), 1), asyncio.timeout(30):
            await provider.done.wait()
            await bureau.done.wait()
            end = (await committed(engine))[-1]  # caught up, a cursor moves past the rest
            while {h["after"] for h in await hooks(api)} != {end}:  # noqa: ASYNC110 (HTTP)
                await asyncio.sleep(0.01)

    for hook, feed in ((provider, provider_feed), (bureau, bureau_feed)):
        ids = [e["event_id"] for e in feed]
        assert hook.bad_signatures == 0
        extra = [hook.events[i]["event_type"] for i in set(hook.unique()) - set(ids)]
        assert hook.unique() == ids, (hook is bureau, extra)  # all, once each, in order
        # (at least once: a delivery cut short by the stop may come again, never out of order)
        assert list(dict.fromkeys(hook.accepted)) == ids
        assert [hook.events[i]["data"] for i in ids] == [e["data"] for e in feed]
        assert all(hook.events[i]["metadata"]["correlation_id"] is None for i in ids)
    assert len(provider.received) > len(provider.unique())  # there were duplicates to drop
    assert story["audit"] not in json.dumps(bureau.events)  # the former bureau's scope

    log = ok(await api.get(f"/webhooks/{provider_hook}/deliveries", headers=PROVIDER))["items"]
    first = provider_feed[0]["event_id"]
    attempts = [(d["attempt"], d["succeeded"]) for d in reversed(log) if d["event_id"] == first]
    assert attempts == [(1, False), (2, False), (3, False), (4, False), (5, True)]
    assert {d["status_code"] for d in log if not d["succeeded"]} == {503}
    assert {d["event_id"] for d in log if d["succeeded"]} == {e["event_id"] for e in provider_feed}
    problem(
        await api.get(f"/webhooks/{provider_hook}/deliveries", headers=BUREAU), 404, "not-found"
    )
    listed = ok(await api.get("/webhooks", headers=PROVIDER))["items"]
    assert listed[0]["delivered"] == len(provider_feed)
    assert listed[0]["failures"] == 0


async def test_failed_deliveries_back_off_exponentially_up_to_the_cap(
    api: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    receiver = Receiver()
    settings = Settings(
        environment="test", webhook_retry_base_seconds=100, webhook_retry_cap_seconds=250
    )
    async with receiving(receiver) as base:
        await register_hook(api, receiver, base, "agency", AGENCY)
        receiver.hooks["agency"].fail = 10
        ok(await api.post("/bureaus", json=bureau_body(), headers=AGENCY), 201)
        await readable(engine)
        waits = []
        async with httpx.AsyncClient() as http:
            dispatcher = Dispatcher(engine, settings, http)
            for _ in range(4):
                assert await dispatcher.run_once()
                assert not await dispatcher.run_once()  # not due again until the wait is over
                async with engine.begin() as conn:
                    wait = await conn.scalar(
                        text(
                            "SELECT extract(epoch FROM w.next_attempt_at - d.attempted_at)"
                            " FROM webhooks w JOIN LATERAL (SELECT attempted_at FROM"
                            " webhook_deliveries ORDER BY delivery_id DESC LIMIT 1) d ON true"
                        )
                    )
                    waits.append(round(float(wait)))
                    await conn.execute(text("UPDATE webhooks SET next_attempt_at = now()"))
    assert waits == [100, 200, 250, 250]


async def test_an_idle_webhook_is_not_leased_until_a_new_event_is_committed(
    api: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    receiver = Receiver()
    ok(await api.post("/bureaus", json=bureau_body(), headers=AGENCY), 201)
    await readable(engine)
    async with receiving(receiver) as base, httpx.AsyncClient() as http:
        body = {"url": f"{base}/agency"}  # from now on: its cursor is on the newest event
        receiver.hooks["agency"] = Hook(
            secret=ok(await api.post("/webhooks", json=body, headers=AGENCY), 201)["secret"]
        )
        dispatcher = Dispatcher(engine, fast(), http)
        assert not await dispatcher.run_once()  # due, but nothing new: not even leased
        other = bureau_body(OTHER_BUREAU_ID, str(enterprise_number(901)))
        ok(await api.post("/bureaus", json=other, headers=AGENCY), 201)
        await readable(engine)
        assert await dispatcher.run_once()
    assert [e["data"]["bureau_id"] for e in receiver.hooks["agency"].events.values()] == [
        OTHER_BUREAU_ID
    ]


@pytest.fixture
async def strict_api(engine: AsyncEngine) -> AsyncIterator[httpx.AsyncClient]:
    """The app as in production as far as webhook addresses go: no private ones."""
    app: FastAPI = create_app(
        Settings(environment="test", webhook_private_addresses=False), engine=engine
    )
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        yield client
    await app.state.pg.close()


@pytest.mark.parametrize(
    "url",
    [
        "http://integrator.example.com/hook",  # not https
        "ftp://integrator.example.com/hook",
        "https://user:secret@integrator.example.com/hook",
        "https://10.1.2.3/hook",
        "https://192.168.0.10/hook",
        "https://169.254.169.254/latest/meta-data",  # link-local: cloud metadata
        "https://127.0.0.1/hook",
        "https://localhost/hook",
        "https://[::1]/hook",
        "https://[::ffff:10.0.0.1]/hook",
        "https://[fe80::1]/hook",
        "http://127.0.0.1:8080/hook",  # loopback over http, but loopback is private here
        "https:///hook",
        "https://integrator.example.com:99999/hook",
        "https://[::1/hook",  # not a URL
        "https://integrator.example.com/a\x00b",  # PostgreSQL text holds no NUL
        "https://integrator.example.com/a b",
    ],
)
async def test_addresses_into_private_networks_are_refused(
    strict_api: httpx.AsyncClient, url: str, engine: AsyncEngine
) -> None:
    answer = problem(
        await strict_api.post("/webhooks", json={"url": url}, headers=PROVIDER),
        422,
        "webhook-address-refused",
    )
    assert answer["errors"][0]["pointer"] == "#/url"
    async with engine.connect() as conn:
        assert await conn.scalar(text("SELECT count(*) FROM webhooks")) == 0


async def test_a_public_https_address_is_taken_and_a_name_resolving_to_loopback_is_not_sent(
    strict_api: httpx.AsyncClient,
) -> None:
    body = {"url": "https://integrator.example.com/kmop/events"}
    ok(await strict_api.post("/webhooks", json=body, headers=PROVIDER), 201)
    assert await resolved_refusal("https://localhost:1/", private=True) is None
    refusal = await resolved_refusal("https://localhost:1/", private=False)
    assert refusal is not None
    assert "not a public address" in refusal


async def test_a_client_has_at_most_ten_webhooks_and_an_unknown_start_is_refused(
    api: httpx.AsyncClient,
) -> None:
    for n in range(10):
        body = {"url": f"http://127.0.0.1:9/{n}"}
        ok(await api.post("/webhooks", json=body, headers=OTHER_PROVIDER), 201)
    body = {"url": "http://127.0.0.1:9/11"}
    problem(
        await api.post("/webhooks", json=body, headers=OTHER_PROVIDER), 409, "webhook-limit-reached"
    )
    ok(await api.post("/webhooks", json=body, headers=PROVIDER), 201)  # per client
    unknown = {"url": "http://127.0.0.1:9/x", "after": 123456}
    problem(await api.post("/webhooks", json=unknown, headers=PROVIDER), 422, "validation-failed")


async def test_a_removed_webhook_is_gone_with_its_log_and_only_its_client_removes_it(
    api: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    body = {"url": "http://127.0.0.1:9/kmop"}
    hook = ok(await api.post("/webhooks", json=body, headers=PROVIDER), 201)["webhook_id"]
    for other in (AGENCY, OTHER_PROVIDER, BUREAU):
        problem(await api.delete(f"/webhooks/{hook}", headers=other), 404, "not-found")
    assert len(ok(await api.get("/webhooks", headers=PROVIDER))["items"]) == 1
    assert (await api.delete(f"/webhooks/{hook}", headers=PROVIDER)).status_code == 204
    assert ok(await api.get("/webhooks", headers=PROVIDER))["items"] == []
    problem(await api.get(f"/webhooks/{hook}/deliveries", headers=PROVIDER), 404, "not-found")
    problem(await api.delete(f"/webhooks/{hook}", headers=PROVIDER), 404, "not-found")
    async with engine.connect() as conn:
        assert await conn.scalar(text("SELECT count(*) FROM webhooks")) == 0
