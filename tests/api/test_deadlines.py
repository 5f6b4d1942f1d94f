"""The deadline job over HTTP: its preview (GET /deadlines?until=) lists exactly what a run on
that day writes, and writes nothing; outside a test environment a run is never judged later
than the real clock (its events are permanent)."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from app.demo.load import load_demo
from app.domain.policies import today
from app.main import create_app
from app.runtime.settings import Settings
from app.services.clock import FixedClock
from tests.api.support import AGENCY, PROVIDER, at, bureau_body, key, ok, problem, register

# The demo's history up to the test clock's 2026-01-05: units in every status, with expiries,
# follow-ups and reactions still to come.
FIRST_RUN, SECOND_RUN = date(2027, 3, 1), date(2032, 1, 1)


async def written_since(engine: AsyncEngine, position: int) -> list[tuple[str, str, str]]:
    async with engine.connect() as conn:
        rows = await conn.execute(
            text(
                "SELECT stream_id, event_type, data FROM events WHERE position > :p"
                " ORDER BY transaction_id, position"
            ),
            {"p": position},
        )
        return sorted((r.stream_id, r.event_type, json.dumps(r.data, sort_keys=True)) for r in rows)


async def last_position(engine: AsyncEngine) -> int:
    async with engine.connect() as conn:
        return int(await conn.scalar(text("SELECT coalesce(max(position), 0) FROM events")) or 0)


def as_written(due: list[dict[str, Any]]) -> list[tuple[str, str, str]]:
    return sorted(
        (f"unit:{d['unit_id']}", d["event_type"], json.dumps(d["data"], sort_keys=True))
        for d in due
    )


async def test_the_preview_lists_exactly_what_a_run_on_that_day_writes(
    api: httpx.AsyncClient, clocked_app: FastAPI, clock: FixedClock, engine: AsyncEngine
) -> None:
    await load_demo(clocked_app.state.service)
    kinds: set[str] = set()
    for day in (FIRST_RUN, SECOND_RUN):
        before = await last_position(engine)
        preview = ok(await api.get(f"/deadlines?until={day}", headers=AGENCY))
        assert await last_position(engine) == before, "a preview writes nothing"
        assert preview["until"] == day.isoformat()
        due = preview["due"]
        assert due, f"the demo has deadlines passed by {day}"
        assert [d["due_on"] for d in due] == sorted(d["due_on"] for d in due)
        for item in due:
            assert date.fromisoformat(item["due_on"]) <= day
            kinds.add(item["kind"])

        clock.set(at(day))  # a test environment may run on its own clock
        run = ok(await api.post("/deadlines/run", headers=AGENCY | key()))
        assert sum(run["events"].values()) == len(due)
        assert await written_since(engine, before) == as_written(due)
    assert kinds == {"follow_up", "expiry", "reaction"}
    # after the runs, nothing is left to do on the last day
    assert ok(await api.get(f"/deadlines?until={SECOND_RUN}", headers=AGENCY))["due"] == []


async def test_until_defaults_to_today_and_bad_days_are_problems(
    api: httpx.AsyncClient, clock: FixedClock
) -> None:
    preview = ok(await api.get("/deadlines", headers=AGENCY))
    assert preview == {"until": today(clock.now()).isoformat(), "due": []}
    for bad in ("2031-02-30", "tomorrow", "31/01/2031", "0001-01-01"):
        body = problem(
            await api.get("/deadlines", params={"until": bad}, headers=AGENCY),
            422,
            "validation-failed",
        )
        assert "until" in json.dumps(body["errors"])
    for bad_now in ("yesterday", "0001-01-01T00:00:00Z", "2031-02-30"):
        problem(
            await api.post("/deadlines/run", json={"now": bad_now}, headers=AGENCY),
            422,
            "validation-failed",
        )


async def test_outside_a_test_environment_a_run_ahead_of_the_real_clock_is_refused(
    api: httpx.AsyncClient, clock: FixedClock, engine: AsyncEngine
) -> None:
    ok(await api.post("/bureaus", json=bureau_body(), headers=AGENCY), 201)
    registered = await register(api, clock, PROVIDER)  # granted 2026-01-20 for five years
    unit = registered.registration_id
    real_now = datetime.now(UTC)
    ahead = real_now + timedelta(days=6 * 366)
    served = create_app(Settings(environment="development"), engine=engine)  # the real clock
    transport = httpx.ASGITransport(app=served, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        before = await last_position(engine)
        body = problem(
            await client.post(
                "/deadlines/run", json={"now": ahead.isoformat()}, headers=AGENCY | key()
            ),
            422,
            "deadlines-ahead-of-clock",
        )
        assert f"GET /deadlines?until={today(ahead)}" in body["detail"]
        assert await last_position(engine) == before, "a refused run writes nothing"
        registration = ok(await client.get(f"/registrations/{unit}", headers=AGENCY))
        assert registration["status"] == "registered"

        # what it would have done, without doing it
        preview = ok(await client.get(f"/deadlines?until={today(ahead)}", headers=AGENCY))
        assert [
            (d["unit_id"], d["event_type"], d["registration_number"]) for d in preview["due"]
        ] == [(unit, "RegistrationExpired", "DV.O000001")]
        assert await last_position(engine) == before

        # now, or a day gone by, is fine
        ok(await client.post("/deadlines/run", headers=AGENCY))
        ok(await client.post("/deadlines/run", json={"now": "2026-01-25"}, headers=AGENCY))
        assert await last_position(engine) == before  # nothing was due yet
