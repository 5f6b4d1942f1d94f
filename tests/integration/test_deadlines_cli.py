"""`kmop deadlines run|due`: a run is never judged later than the real clock outside a test
environment (usage error, exit 2, nothing written); `due` previews a later day and writes
nothing."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from app.domain.policies import today
from tests.integration.test_service import unit
from tests.integration.test_verify_cli import fresh_settings, kmop, seeded

__all__ = ["fresh_settings", "seeded"]  # fixtures


async def events(engine: AsyncEngine) -> list[tuple[str, str]]:
    async with engine.connect() as conn:
        rows = await conn.execute(
            text("SELECT stream_id, event_type FROM events ORDER BY transaction_id, position")
        )
        return [(row.stream_id, row.event_type) for row in rows]


async def test_a_run_ahead_of_the_real_clock_is_a_usage_error_and_due_previews_it(
    seeded: AsyncEngine, database_url: str
) -> None:
    day = today(datetime.now(UTC) + timedelta(days=6 * 366))  # both registrations expired
    before = await events(seeded)

    refused = await kmop(
        database_url, "deadlines", "run", "--now", str(day), environment="development"
    )
    assert refused.exit_code == 2, refused.output
    assert "later than the real clock" in refused.output
    assert f"kmop deadlines due --until {day}" in refused.output
    assert await events(seeded) == before

    preview = await kmop(
        database_url, "deadlines", "due", "--until", str(day), environment="development"
    )
    assert preview.exit_code == 0, preview.output
    lines = preview.output.splitlines()
    assert lines[0] == f"A run on {day} would record 2 events (nothing is written now):"
    for n, line in enumerate(lines[1:]):
        assert f"DV.O00000{n + 1}  {unit(n).key}  expiry (last day " in line
        assert line.endswith("RegistrationExpired")
    assert await events(seeded) == before

    now = await kmop(database_url, "deadlines", "run", environment="development")
    assert now.exit_code == 0, now.output
    assert json.loads(now.output)["events"] == {}

    # a test environment runs on the clock it is given: exactly what was previewed
    ran = await kmop(database_url, "deadlines", "run", "--now", str(day), environment="test")
    assert ran.exit_code == 0, ran.output
    assert json.loads(ran.output)["events"] == {"RegistrationExpired": 2}
    assert (await events(seeded))[len(before) :] == [
        (f"unit:{unit(0).key}", "RegistrationExpired"),
        (f"unit:{unit(1).key}", "RegistrationExpired"),
    ]
