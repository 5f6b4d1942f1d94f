"""Test databases: each test gets a fresh database built by the Alembic migrations.

``KMOP_TEST_DATABASE_URL`` names a server to use (its database is only used to create and
drop the per-test databases); without it an embedded PostgreSQL is started for the run. The
migrations run once into a template database; every test gets a copy of it
(``CREATE DATABASE ... TEMPLATE``), which is what the migrations made, fast.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from app.main import create_app
from app.runtime import db, embedded
from app.runtime.settings import Settings, normalize_database_url
from app.services.clock import FixedClock
from tests.documented import StatusRecorder, assert_documented


@dataclass(frozen=True)
class PgServer:
    admin_url: str  # postgresql+asyncpg://... of a maintenance database on the server
    template: str

    def url(self, database: str) -> str:
        return make_url(self.admin_url).set(database=database).render_as_string(False)

    def dsn(self, database: str | None = None) -> str:
        url = make_url(self.admin_url).set(drivername="postgresql")
        if database is not None:
            url = url.set(database=database)
        return url.render_as_string(False)

    async def create_database(self, *, from_template: bool = True) -> str:
        name = f"kmop_test_{uuid.uuid4().hex[:12]}"
        conn = await asyncpg.connect(self.dsn())
        try:
            template = f' TEMPLATE "{self.template}"' if from_template else ""
            await conn.execute(f'CREATE DATABASE "{name}"{template}')
        finally:
            await conn.close()
        return name

    async def drop_database(self, name: str) -> None:
        conn = await asyncpg.connect(self.dsn())
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await conn.close()


def _tune_for_tests(dsn: str) -> None:
    """Durability is pointless for a throw-away embedded server; speed is not."""

    async def tune() -> None:
        conn = await asyncpg.connect(dsn)
        try:
            for setting in ("fsync", "synchronous_commit", "full_page_writes"):
                await conn.execute(f"ALTER SYSTEM SET {setting} = off")
            await conn.execute("SELECT pg_reload_conf()")
        finally:
            await conn.close()

    asyncio.run(tune())


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer]:
    given = os.environ.get("KMOP_TEST_DATABASE_URL")
    server = None
    if given:
        admin_url = normalize_database_url(given)
    else:
        tmp = Path(tempfile.mkdtemp(prefix="kmop-test-"))
        server = embedded.start(tmp / "pg", delete_on_stop=True)
        _tune_for_tests(server.dsn())
        admin_url = server.sqlalchemy_url("postgres")
    template = f"kmop_template_{uuid.uuid4().hex[:8]}"
    test_server = PgServer(admin_url=admin_url, template=template)
    asyncio.run(embedded.ensure_database(test_server.dsn(), template))
    try:
        db.upgrade(test_server.url(template))
        yield test_server
    finally:
        asyncio.run(test_server.drop_database(template))
        if server is not None:
            server.stop()


@pytest.fixture
async def database_url(pg_server: PgServer) -> AsyncIterator[str]:
    """A fresh database at the latest migration, dropped after the test."""
    name = await pg_server.create_database()
    try:
        yield pg_server.url(name)
    finally:
        await pg_server.drop_database(name)


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = db.make_engine(database_url, pool_size=20, max_overflow=5)
    try:
        yield engine
    finally:
        await engine.dispose()


# --- the app over HTTP, on a clock the test moves (tests/api, tests/web) ---


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(datetime(2026, 1, 5, 9, 0, tzinfo=UTC))


@pytest.fixture
async def clocked_app(engine: AsyncEngine, clock: FixedClock) -> AsyncIterator[FastAPI]:
    """The app on a clock the test moves (its asyncpg pool closed afterwards)."""
    app = create_app(Settings(environment="test"), engine=engine, clock=clock)
    try:
        yield app
    finally:
        await app.state.pg.close()


@pytest.fixture
async def api(clocked_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    recorder = StatusRecorder(clocked_app)
    transport = httpx.ASGITransport(app=recorder, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        yield client
    assert_documented(recorder)
