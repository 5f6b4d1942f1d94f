"""Check the projections against the events: rebuild them aside and compare, row by row.

In one REPEATABLE READ transaction, so that the live tables and the events are read from one
snapshot (an event and its projection commit together): make a scratch schema with an empty
copy of every projection table (columns, defaults, generated columns, triggers), fold every
event in memory and COPY the rows into it (``app.events.bulk``, what a rebuild writes), and
compare each table with its live twin by ``EXCEPT ALL`` both ways: the live tables were
written event by event, the copies in bulk, from the same definitions. The transaction is
rolled back, which drops the scratch schema. It takes no lock on the live tables: commands and
readers go on meanwhile.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from app.events.bulk import Fold, create_tables, fold_events, live_schema, write_tables
from app.events.catalog import REGISTRY
from app.events.projections import PROJECTION_TABLES, Projector

SHOWN = 5  # differing rows named per table

_PRIMARY_KEY = text(
    """
    SELECT a.attname FROM pg_index i
    JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey)
    WHERE i.indrelid = CAST(:table AS regclass) AND i.indisprimary
    ORDER BY array_position(i.indkey::int2[], a.attnum)
    """
)


@dataclass(frozen=True, slots=True)
class RowDifference:
    table: str
    key: dict[str, Any]
    detail: str  # "differs in status, valid_until", "only in the live table", ...

    def __str__(self) -> str:
        key = ", ".join(f"{column}={value}" for column, value in self.key.items())
        return f"{self.table} ({key}): {self.detail}"


@dataclass(slots=True)
class ProjectionCheck:
    events: int = 0
    rows: dict[str, int] = field(default_factory=dict)  # live rows per table
    differing: dict[str, int] = field(default_factory=dict)  # differing keys per table
    shown: list[RowDifference] = field(default_factory=list)  # the first few per table

    @property
    def equal(self) -> bool:
        return not any(self.differing.values())


async def check_projections(
    engine: AsyncEngine, projector: Projector, *, progress: Callable[[int], None] | None = None
) -> ProjectionCheck:
    report = ProjectionCheck()
    scratch = f"kmop_verify_{uuid.uuid4().hex[:12]}"
    async with engine.connect() as conn:
        await conn.execution_options(isolation_level="REPEATABLE READ")
        transaction = await conn.begin()
        try:
            await conn.execute(text(f"CREATE SCHEMA {scratch}"))
            live = await live_schema(conn)
            await create_tables(conn, live, scratch)
            pg = (await conn.get_raw_connection()).driver_connection
            assert pg is not None
            fold = Fold(REGISTRY, projector.number_base)
            await fold_events(pg, fold, progress)
            await write_tables(pg, scratch, fold)
            report.events = fold.events
            for table in PROJECTION_TABLES:
                await _compare(conn, table, live, scratch, report)
        finally:
            await transaction.rollback()  # drops the scratch schema too
    return report


async def _compare(
    conn: AsyncConnection, table: str, live: str, scratch: str, report: ProjectionCheck
) -> None:
    key = list((await conn.scalars(_PRIMARY_KEY, {"table": f"{live}.{table}"})).all())
    report.rows[table] = int(await conn.scalar(text(f"SELECT count(*) FROM {live}.{table}")) or 0)
    live_rows = await _rows(
        conn, f"SELECT * FROM {live}.{table} EXCEPT ALL SELECT * FROM {scratch}.{table}"
    )
    rebuilt = await _rows(
        conn, f"SELECT * FROM {scratch}.{table} EXCEPT ALL SELECT * FROM {live}.{table}"
    )
    by_key_live = {tuple(row[c] for c in key): row for row in live_rows}
    by_key_rebuilt = {tuple(row[c] for c in key): row for row in rebuilt}
    keys = sorted(by_key_live.keys() | by_key_rebuilt.keys(), key=repr)
    report.differing[table] = len(keys)
    for pk in keys[:SHOWN]:
        old, new = by_key_live.get(pk), by_key_rebuilt.get(pk)
        if old is not None and new is not None:
            columns = [column for column in old if old[column] != new[column]]
            detail = "differs from the events in " + ", ".join(
                f"{column} (live {old[column]!r}, from the events {new[column]!r})"
                for column in columns
            )
        elif old is not None:
            detail = "only in the live table: no event gives this row"
        else:
            detail = "missing from the live table: the events give this row"
        report.shown.append(RowDifference(table, dict(zip(key, pk, strict=True)), detail))


async def _rows(conn: AsyncConnection, sql: str) -> list[dict[str, Any]]:
    return [dict(row._mapping) for row in await conn.execute(text(sql))]
