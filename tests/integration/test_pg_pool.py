"""The hot paths' asyncpg pool (app.runtime.pg): JSON in and out, one connection reused without a
reset
query, and a transaction left open never reaches the next user of the connection."""

from __future__ import annotations

import asyncpg
import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from app.runtime.db import make_engine
from app.runtime.pg import Pool, asyncpg_dsn
from app.runtime.readers import PublicReads
from app.runtime.settings import Settings


async def test_json_goes_in_and_out_as_python_values(database_url: str) -> None:
    pool = Pool(database_url, max_size=2)
    try:
        rows = await pool.fetch("SELECT $1::jsonb AS doc, $2::json AS raw", {"a": [1, "é"]}, [])
        assert rows[0]["doc"] == {"a": [1, "é"]}
        assert rows[0]["raw"] == []
    finally:
        await pool.close()


async def test_a_released_connection_is_reused_and_never_left_in_a_transaction(
    database_url: str,
) -> None:
    pool = Pool(database_url, max_size=1)
    try:
        async with pool.connection() as conn:
            backend = await conn.fetchval("SELECT pg_backend_pid()")
            await conn.execute("BEGIN")
            await conn.execute("CREATE TEMP TABLE left_open (n int)")
        async with pool.connection() as conn:
            assert await conn.fetchval("SELECT pg_backend_pid()") == backend  # the same one
            assert not conn.is_in_transaction()
            # rolled back: the table made in the open transaction is gone
            assert await conn.fetchval("SELECT to_regclass('pg_temp.left_open')") is None
    finally:
        await pool.close()


def test_the_dsn_keeps_host_port_and_password() -> None:
    url = "postgresql+asyncpg://kmop:s%40cret@db.example:6543/registry?ssl=require"
    assert asyncpg_dsn(url) == "postgresql://kmop:s%40cret@db.example:6543/registry?ssl=require"


async def test_a_closed_pool_opens_again_on_use(database_url: str) -> None:
    pool = Pool(database_url, max_size=1)
    assert (await pool.fetch("SELECT 1 AS one"))[0]["one"] == 1
    await pool.close()
    assert (await pool.fetch("SELECT 2 AS two"))[0]["two"] == 2
    await pool.close()


async def test_custom_plans_come_from_connections_of_their_own(database_url: str) -> None:
    pool = Pool(database_url, max_size=1)
    try:
        async with pool.connection(custom_plans=True) as conn:
            assert await conn.fetchval("SHOW plan_cache_mode") == "force_custom_plan"
        async with pool.connection() as conn:
            assert await conn.fetchval("SHOW plan_cache_mode") == "auto"
    finally:
        await pool.close()


async def test_the_public_reads_pool_and_engine_refuse_writes_even_on_a_primary(
    database_url: str,
) -> None:
    """KMOP_READ_DATABASE_URL naming a primary by mistake: still nothing is written there."""
    settings = Settings(environment="test", read_database_url=database_url)
    primary = make_engine(database_url)
    reads = PublicReads.of(settings, pg=Pool(database_url), engine=primary)
    write = "INSERT INTO idempotency_keys SELECT * FROM idempotency_keys"
    try:
        assert reads.replica
        for custom_plans in (False, True):
            async with reads.pg.connection(custom_plans=custom_plans) as conn:
                assert await conn.fetchval("SHOW plan_cache_mode") == (
                    "force_custom_plan" if custom_plans else "auto"
                )
                with pytest.raises(asyncpg.ReadOnlySQLTransactionError):
                    await conn.execute(write)
        async with reads.engine.connect() as sa_conn:
            with pytest.raises(DBAPIError, match="read-only transaction"):
                await sa_conn.execute(text(write))
        async with primary.connect() as sa_conn:  # the primary's engine is not read-only
            await sa_conn.execute(text(write))
    finally:
        await reads.close()
        await primary.dispose()


async def test_without_a_read_url_the_public_reads_share_the_primary_s_pool_and_engine(
    database_url: str,
) -> None:
    pool, engine = Pool(database_url), make_engine(database_url)
    try:
        reads = PublicReads.of(Settings(environment="test"), pg=pool, engine=engine)
        assert (reads.pg, reads.engine, reads.replica) == (pool, engine, False)
        await reads.close()  # not its own: left open
        assert (await pool.fetch("SELECT 1 AS one"))[0]["one"] == 1
    finally:
        await pool.close()
        await engine.dispose()
