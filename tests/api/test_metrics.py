"""GET /metrics: what Prometheus scrapes after requests, commands and a deadline run."""

from __future__ import annotations

from datetime import UTC, date, datetime

import httpx
from fastapi import FastAPI
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from app.api.http.access import UNMATCHED
from app.main import create_app
from app.runtime.settings import Settings
from app.services.clock import FixedClock
from tests.api.support import AGENCY, PROVIDER, application_body, bureau_body, key, ok, problem
from tests.api.test_authority import build_state

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


async def scrape(client: httpx.AsyncClient) -> Samples:
    response = await client.get("/metrics")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def requests(samples: Samples, method: str, route: str, status: int) -> float:
    return value(
        samples, "kmop_http_requests_total", method=method, route=route, status=str(status)
    )


async def test_requests_are_counted_and_timed_per_route_template(
    client: httpx.AsyncClient,
) -> None:
    for _ in range(3):
        ok(await client.get("/healthz"))
    problem(await client.get("/bureaus"), 401, "unauthenticated")
    problem(await client.get("/bureaus/bureau-nobody", headers=AGENCY), 404, "not-found")
    problem(await client.get("/bureaus/bureau-nobody-else", headers=AGENCY), 404, "not-found")
    assert (await client.get("/no/such/route")).status_code == 404

    samples = await scrape(client)
    assert requests(samples, "GET", "/healthz", 200) == 3
    assert requests(samples, "GET", "/bureaus", 401) == 1
    # Two ids, one route: the template is the label, never the raw path.
    assert requests(samples, "GET", "/bureaus/{bureau_id}", 404) == 2
    assert requests(samples, "GET", UNMATCHED, 404) == 1
    routes = {dict(labels).get("route") for _, labels in samples}
    assert not {r for r in routes if r and ("nobody" in r or r.startswith("/no/"))}
    histogram = {"method": "GET", "route": "/healthz", "status": "200"}
    assert value(samples, "kmop_http_request_duration_seconds_count", **histogram) == 3
    assert value(samples, "kmop_http_request_duration_seconds_sum", **histogram) > 0
    assert value(samples, "kmop_http_request_duration_seconds_bucket", le="+Inf", **histogram) == 3

    # The scrape itself is counted by the next one.
    assert requests(await scrape(client), "GET", "/metrics", 200) == 1


async def test_committed_events_are_counted_by_type_and_refusals_are_not(
    client: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    appoint = AGENCY | key()
    ok(await client.post("/bureaus", json=bureau_body(), headers=appoint), 201)
    replay = await client.post("/bureaus", json=bureau_body(), headers=appoint)
    assert replay.headers["Idempotent-Replayed"] == "true"  # nothing appended again
    problem(
        await client.post("/bureaus", json=bureau_body(), headers=AGENCY),
        409,
        "bureau-already-appointed",
    )
    for number in range(2):
        body = application_body(service_type=("opleiding", "advies")[number])
        ok(await client.post("/applications", json=body, headers=PROVIDER), 201)

    samples = await scrape(client)
    assert value(samples, "kmop_events_appended_total", type="AuditBureauAppointed") == 1
    assert value(samples, "kmop_events_appended_total", type="ApplicationSubmitted") == 2
    assert requests(samples, "POST", "/bureaus", 201) == 2  # the first answer and its replay
    assert requests(samples, "POST", "/bureaus", 409) == 1
    async with engine.connect() as conn:
        stored = int(await conn.scalar(text("SELECT count(*) FROM events")) or 0)
    counted = sum(v for (name, _), v in samples.items() if name == "kmop_events_appended_total")
    assert counted == stored == 3


async def test_deadline_runs_and_the_events_they_write_are_counted(
    api: httpx.AsyncClient, clock: FixedClock, engine: AsyncEngine
) -> None:
    await build_state(api, clock)  # DV.O000001 granted on 2026-01-20, valid five years
    ok(await api.post("/deadlines/run", headers=AGENCY))
    samples = await scrape(api)
    assert value(samples, "kmop_deadline_runs_total") == 1
    assert value(samples, "kmop_deadline_events_total", type="RegistrationExpired") == 0

    clock.set(datetime(2031, 1, 21, 10, tzinfo=UTC))
    run = ok(await api.post("/deadlines/run", headers=AGENCY))
    assert run["events"] == {"RegistrationExpired": 1}
    samples = await scrape(api)
    assert value(samples, "kmop_deadline_runs_total") == 2
    assert value(samples, "kmop_deadline_events_total", type="RegistrationExpired") == 1
    assert value(samples, "kmop_deadline_unit_failures_total") == 0
    assert value(samples, "kmop_events_appended_total", type="RegistrationExpired") == 1
    assert value(samples, "kmop_events_appended_total", type="RegistrationGranted") == 1
    last_run = value(samples, "kmop_deadline_last_run_timestamp_seconds")
    assert abs(last_run - datetime.now(UTC).timestamp()) < 60  # wall time, not the test's clock
    assert date.fromtimestamp(last_run).year < 2031


async def test_the_pool_is_read_at_scrape_time(
    client: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    samples = await scrape(client)
    assert value(samples, "kmop_db_pool_size") == 20  # the test engine's (tests/conftest.py)
    assert value(samples, "kmop_db_pool_checked_out") == 0
    async with engine.connect() as first, engine.connect() as second:
        await first.execute(text("SELECT 1"))
        await second.execute(text("SELECT 1"))
        assert value(await scrape(client), "kmop_db_pool_checked_out") == 2
    assert value(await scrape(client), "kmop_db_pool_checked_out") == 0


async def test_each_app_counts_on_its_own(app: FastAPI, engine: AsyncEngine) -> None:
    """The factory builds many apps in one process: each has its registry, no clash."""
    other = create_app(Settings(environment="test"), engine=engine)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    other_transport = httpx.ASGITransport(app=other, raise_app_exceptions=False)
    async with (
        httpx.AsyncClient(transport=transport, base_url="http://test") as one,
        httpx.AsyncClient(transport=other_transport, base_url="http://test") as two,
    ):
        ok(await one.get("/healthz"))
        assert requests(await scrape(one), "GET", "/healthz", 200) == 1
        assert requests(await scrape(two), "GET", "/healthz", 200) == 0


async def test_metrics_need_no_token_and_name_no_client(client: httpx.AsyncClient) -> None:
    ok(await client.get("/applications", headers=PROVIDER))
    response = await client.get("/metrics")
    assert response.status_code == 200
    assert "provider-app" not in response.text
    assert "kmop_http_requests_total" in response.text
