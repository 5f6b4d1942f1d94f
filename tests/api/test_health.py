from __future__ import annotations

import socket

import httpx

from app.main import create_app
from app.runtime.db import make_engine, migration_head
from app.runtime.settings import Settings
from tests.conftest import PgServer

PROBLEM = "application/problem+json"


async def get_readyz(database_url: str, read_database_url: str | None = None) -> httpx.Response:
    engine = make_engine(database_url)
    settings = Settings(environment="test", read_database_url=read_database_url)
    app = create_app(settings, engine=engine)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            return await client.get("/readyz")
    finally:
        await app.state.public.close()
        await engine.dispose()


def nobody_listens() -> str:
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"postgresql+asyncpg://nobody@127.0.0.1:{port}/none"


async def test_healthz_says_alive(client: httpx.AsyncClient) -> None:
    response = await client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


async def test_readyz_is_ready_at_the_latest_migration(client: httpx.AsyncClient) -> None:
    response = await client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {"status": "ready", "migration": migration_head()}


async def test_readyz_refuses_when_migrations_are_pending(pg_server: PgServer) -> None:
    name = await pg_server.create_database(from_template=False)  # nothing migrated
    try:
        response = await get_readyz(pg_server.url(name))
    finally:
        await pg_server.drop_database(name)
    assert response.status_code == 503
    assert response.headers["content-type"] == PROBLEM
    body = response.json()
    assert body["code"] == "migrations-pending"
    assert body["head"] == migration_head()
    assert "current" not in body  # no revision at all


async def test_readyz_refuses_when_the_database_does_not_answer() -> None:
    response = await get_readyz(nobody_listens())
    assert response.status_code == 503
    assert response.headers["content-type"] == PROBLEM
    assert response.json()["code"] == "database-unavailable"
    assert response.json()["unavailable"] == ["primary"]


async def test_readyz_names_the_read_replica_when_it_does_not_answer(database_url: str) -> None:
    response = await get_readyz(database_url, read_database_url=nobody_listens())
    assert response.status_code == 503
    assert response.headers["content-type"] == PROBLEM
    body = response.json()
    assert body["code"] == "database-unavailable"
    assert body["unavailable"] == ["replica"]
    assert "KMOP_READ_DATABASE_URL" in body["detail"]


async def test_readyz_names_both_when_neither_answers() -> None:
    response = await get_readyz(nobody_listens(), read_database_url=nobody_listens())
    assert response.status_code == 503
    assert response.json()["unavailable"] == ["primary", "replica"]


async def test_readyz_is_ready_when_the_read_replica_answers_at_the_head(database_url: str) -> None:
    response = await get_readyz(database_url, read_database_url=database_url)
    assert response.status_code == 200
    assert response.json() == {"status": "ready", "migration": migration_head()}


async def test_readyz_refuses_while_the_read_replica_is_behind_the_migrations(
    database_url: str, pg_server: PgServer
) -> None:
    name = await pg_server.create_database(from_template=False)  # nothing migrated
    try:
        response = await get_readyz(database_url, read_database_url=pg_server.url(name))
    finally:
        await pg_server.drop_database(name)
    assert response.status_code == 503
    body = response.json()
    assert (body["code"], body["database"]) == ("migrations-pending", "replica")


async def test_api_docs_need_no_internet(client: httpx.AsyncClient) -> None:
    for page in ("/docs", "/redoc"):
        response = await client.get(page)
        assert response.status_code == 200
        assert "cdn." not in response.text
        assert "fonts.googleapis" not in response.text
    asset = await client.get("/static-offline-docs/swagger-ui-bundle.js")
    assert asset.status_code == 200
    assert len(asset.content) > 100_000
