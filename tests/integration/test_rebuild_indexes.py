"""A rebuild indexes and analyzes the new tables on several sessions at once, a table each.

``bulk.index_and_analyze`` shares the loaded copies among sessions of their own: whatever their
number, the tables after the swap carry the migrations' indexes, constraints and replica
identity (an operator's ``REPLICA IDENTITY USING INDEX`` included: the index comes first, on
the same session) and the planner's statistics; an index the server refuses fails the rebuild
with the server's error and leaves the live tables as they were.
"""

from __future__ import annotations

import asyncpg
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from app.events import rebuild
from app.events.bulk import copies
from app.events.projections import PROJECTION_TABLES
from app.events.rebuild import SCHEMA, rebuild_projections
from tests.integration.scenarios import build_plan
from tests.integration.test_rebuild import SEED, run_history, snapshot
from tests.integration.test_rebuild_online import catalog

_ANALYZED = text(
    "SELECT count(DISTINCT attname) FROM pg_stats"
    " WHERE schemaname = current_schema() AND tablename = :t"
)


@pytest.mark.parametrize("builders", [1, 3])
async def test_the_tables_come_out_indexed_and_analyzed_whatever_the_sessions(
    engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch, builders: int
) -> None:
    service, _ = await run_history(engine, build_plan(SEED + 5, size=20))
    async with engine.begin() as conn:
        await conn.execute(
            text("ALTER TABLE applications REPLICA IDENTITY USING INDEX applications_pkey")
        )
    migrated = await catalog(engine)
    live = await snapshot(engine)
    filled = [table for table in PROJECTION_TABLES if live[table]]
    assert {"registrations", "applications", "audits", "public_providers"} <= set(filled)
    monkeypatch.setattr(rebuild, "INDEX_BUILDERS", builders, raising=False)

    await rebuild_projections(engine, service.projector)

    assert await snapshot(engine) == live
    rebuilt = await catalog(engine)
    assert rebuilt == migrated, {
        k: (migrated[k], rebuilt[k]) for k in migrated if rebuilt[k] != migrated[k]
    }
    assert any(row[4] for row in rebuilt["applications indexes"])  # the replica identity's
    async with engine.connect() as conn:
        for table in filled:  # ANALYZEd: the planner has statistics for the new tables' columns
            assert await conn.scalar(_ANALYZED, {"t": table}), table


async def test_an_index_the_server_refuses_fails_the_rebuild_and_leaves_the_live_tables(
    engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    service, _ = await run_history(engine, build_plan(SEED + 6, size=10))
    live = await snapshot(engine)
    migrated = await catalog(engine)
    statements = copies.index_statements

    async def broken(conn: AsyncConnection, live: str, schema: str) -> dict[str, list[str]]:
        found = await statements(conn, live, schema)
        found["audits"].append(f"CREATE INDEX broken ON {schema}.audits (no_such_column)")
        return found

    monkeypatch.setattr(copies, "index_statements", broken)

    with pytest.raises(asyncpg.UndefinedColumnError, match="no_such_column"):
        await rebuild_projections(engine, service.projector)

    assert await snapshot(engine) == live
    assert await catalog(engine) == migrated
    async with engine.connect() as conn:
        left = await conn.scalar(
            text("SELECT count(*) FROM pg_namespace WHERE nspname = :s"), {"s": SCHEMA}
        )
    assert left == 0
