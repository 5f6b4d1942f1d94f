"""Transaction ids that cross powers of ten: the class of tests the suite lacked.

The global order of the event log is (transaction_id, position). Transaction ids (xid8) are
cluster-wide: on a long-lived server they are already large and cross the next power of ten
rarely, so tests there never see 999 followed by 1000, which sorts *before* it as text. Each
module here gets a FRESH embedded PostgreSQL cluster (initdb leaves the counter near 750, see
``pg_server``), and ``burn_until`` uses up transaction ids fast, so that appends can be made on
both sides of 1,000, 10,000 and beyond.
"""

from __future__ import annotations

import asyncio
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import pytest

from app.runtime import db, embedded
from tests.conftest import PgServer, _tune_for_tests

# Made in the maintenance database by the tests, not by the migrations: transaction ids are the
# cluster's, so burning them there moves every database of the cluster on.
_BURN = """
    CREATE OR REPLACE PROCEDURE kmop_burn_xids(next_xid bigint) LANGUAGE plpgsql AS $$
    BEGIN
        WHILE CAST(CAST(pg_current_xact_id() AS text) AS bigint) < next_xid - 1 LOOP
            COMMIT;
        END LOOP;
    END $$
"""


async def next_xid(dsn: str) -> int:
    """The transaction id the cluster hands out next (reading it takes none)."""
    conn = await asyncpg.connect(dsn)
    try:
        value = await conn.fetchval(
            "SELECT CAST(CAST(pg_snapshot_xmax(pg_current_snapshot()) AS text) AS bigint)"
        )
    finally:
        await conn.close()
    return int(value)


async def burn_until(dsn: str, target: int) -> int:
    """Use up transaction ids until the next one handed out is ``target`` (nothing happens when
    the cluster is past it already); returns the next one."""
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute(_BURN)
        await conn.execute("CALL kmop_burn_xids($1)", target)  # a COMMIT per id, no round trip
    finally:
        await conn.close()
    return await next_xid(dsn)


@pytest.fixture(scope="module")
def pg_server() -> Iterator[PgServer]:
    """This module's own fresh cluster, migrated into a template (instead of the suite's shared
    server, whose transaction ids are long past 10,000): ``database_url`` and ``engine`` give
    databases on it."""
    tmp = Path(tempfile.mkdtemp(prefix="kmop-xid-"))
    server = embedded.start(tmp / "pg", delete_on_stop=True)
    try:
        _tune_for_tests(server.dsn())
        young = PgServer(admin_url=server.sqlalchemy_url("postgres"), template="kmop_template")
        asyncio.run(embedded.ensure_database(young.dsn(), young.template))
        db.upgrade(young.url(young.template))
        yield young
    finally:
        server.stop()
        shutil.rmtree(tmp, ignore_errors=True)
