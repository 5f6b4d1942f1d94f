from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncEngine

from app.main import create_app
from app.runtime.settings import Settings
from tests.documented import StatusRecorder, assert_documented


@pytest.fixture
async def app(engine: AsyncEngine) -> AsyncIterator[FastAPI]:
    """The app (its asyncpg pool, which the public routes use, closed afterwards)."""
    app = create_app(Settings(environment="test"), engine=engine)
    try:
        yield app
    finally:
        await app.state.pg.close()


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    recorder = StatusRecorder(app)
    transport = httpx.ASGITransport(app=recorder, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        yield client
    assert_documented(recorder)
