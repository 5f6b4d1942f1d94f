"""A command whose transaction fails halfway, after its events are appended and while they are
being projected, leaves nothing behind: no event, no projection row, no remembered response;
the same command then succeeds once the fault is gone."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from app.domain.events import SwornDeclarationReceived
from app.events.projections import Projected, Projector
from app.main import create_app
from app.runtime.pg import Executes
from app.runtime.settings import Settings
from app.services.clock import FixedClock
from tests.api.support import AGENCY, PROVIDER, application_body, ok


class ProjectionFault(Exception):
    pass


class FaultyProjector(Projector):
    """Projects like the real one, then fails on the event type it is told to, after that
    event's own projection writes went through."""

    def __init__(self) -> None:
        super().__init__()
        self.fail_on: type | None = None

    async def apply(self, conn: Executes, item: Projected, unit: Any) -> None:
        await super().apply(conn, item, unit)
        if self.fail_on is not None and isinstance(item.event, self.fail_on):
            raise ProjectionFault("the projection failed halfway")


async def state(engine: AsyncEngine) -> tuple[Any, ...]:
    async with engine.connect() as conn:
        return (
            await conn.scalar(text("SELECT count(*) FROM events")),
            tuple(await conn.execute(text("SELECT * FROM applications ORDER BY 1"))),
            tuple(await conn.execute(text("SELECT * FROM registrations ORDER BY 1"))),
            await conn.scalar(text("SELECT count(*) FROM idempotency_keys")),
        )


@pytest.fixture
def projector() -> FaultyProjector:
    return FaultyProjector()


@pytest.fixture
async def faulty_api(engine: AsyncEngine, projector: FaultyProjector) -> Any:
    clock = FixedClock(datetime(2026, 1, 5, 9, 0, tzinfo=UTC))
    app = create_app(Settings(environment="test"), engine=engine, clock=clock)
    app.state.service.projector = projector
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        yield client


async def test_a_projection_failing_halfway_rolls_back_the_events_and_every_row(
    faulty_api: httpx.AsyncClient, engine: AsyncEngine, projector: FaultyProjector
) -> None:
    application = ok(
        await faulty_api.post("/applications", json=application_body(), headers=PROVIDER), 201
    )
    url = f"/applications/{application['application_id']}/sworn-declaration"
    before = await state(engine)

    projector.fail_on = SwornDeclarationReceived
    headers = {**AGENCY, "Idempotency-Key": "declaration-1"}
    failed = await faulty_api.post(url, json={}, headers=headers)
    assert failed.status_code == 500
    assert failed.json()["code"] == "internal-error"
    assert "projection failed" not in failed.text  # nothing internal reaches the client
    assert await state(engine) == before  # the event, its row update and the key: all gone

    projector.fail_on = None
    done = ok(await faulty_api.post(url, json={}, headers=headers))  # same key: not a replay
    assert done["sworn_declaration_on"] == "2026-01-05"
    events, *_ = await state(engine)
    assert events == before[0] + 1
