"""Every event read in the global order and folded in memory (``Fold``, ``fold_events``), the
units numbered, and each table written at once by COPY (``write_tables``)."""

from __future__ import annotations

import asyncio
import gc
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import asyncpg

from app.domain.identifiers import RegistrationNumber
from app.domain.registration import UnitState, evolve
from app.events.bulk.memory import MemoryTable, _Union
from app.events.catalog import UNIT_STREAM, unit_key_from_stream
from app.events.projections import (
    Projected,
    Upsert,
    changes,
    listed_days,
    next_serial,
    registration_row,
)
from app.events.registry import EventRegistry

PAGE = 5000  # events a fetch

_READ = """
    SELECT position, stream_id, stream_type, version, event_type, schema_version,
           data::text AS data, recorded_at, transaction_id::text AS xid
    FROM {events} e {where} ORDER BY transaction_id, position
"""
_SNAPSHOT = "SELECT pg_current_snapshot()::text"


Order = tuple[int, int]  # an event's place in the global order: (transaction id, position)


@dataclass(slots=True)
class Fold:
    """Every event so far, folded: the units' states, the other tables' rows, and where in the
    global order each registered unit was first registered (its number follows from that)."""

    registry: EventRegistry
    number_base: int
    units: dict[str, UnitState] = field(default_factory=dict)
    last: dict[str, tuple[int, datetime]] = field(default_factory=dict)  # version, recorded at
    registered: dict[str, Order] = field(default_factory=dict)  # unit key -> first registered
    tables: dict[str, MemoryTable] = field(default_factory=dict)
    events: int = 0
    snapshot: str = ""  # pg_snapshot of the events folded: every event it sees, no other
    new_units: int = 0  # units whose first event came after the fold (in the catch-up)

    def unit(self, item: Projected, order: Order | None = None) -> tuple[str, UnitState]:
        """Fold a unit's event: (unit key, state after it); ``order``, the event's place in the
        global order, is noted if the event registers the unit for the first time."""
        key = unit_key_from_stream(item.stream_id)
        state = self.units[key] = evolve(self.units.get(key, _NO_STATE), item.event)
        self.last[key] = (item.version, item.recorded_at)
        if order is not None and state.first_registered_on is not None:
            self.registered.setdefault(key, order)
        return key, state

    def add(self, row: asyncpg.Record) -> None:
        """Fold one stored event into the rows in memory."""
        position, stream_id, stream_type, version, event_type, schema_version, data, at, xid = row
        event = self.registry.deserialize_json(event_type, schema_version, data)
        item = Projected(stream_id, version, event, at)
        unit = self.unit(item, (int(xid), position)) if stream_type == UNIT_STREAM else None
        for change in changes(item, unit):
            table = self.tables.get(change.table)
            if table is None:
                key = change.key if isinstance(change, Upsert) else PRIMARY_KEYS[change.table]
                table = self.tables[change.table] = MemoryTable(key)
            table.apply(change)
        self.events += 1

    def numbers(self) -> dict[str, int]:
        """Every registered unit's serial: the n-th first registration in the global order gets
        the n-th, as live (``Projector.registration``)."""
        return numbers(self.registered.items(), self.number_base)

    def registration_rows(self, serials: dict[str, int]) -> Iterator[dict[str, Any]]:
        for key, state in self.units.items():
            version, at = self.last[key]
            row = registration_row(key, state, version, at)
            serial = serials.get(key)
            assert state.unit is not None
            row["registration_serial"] = serial
            row["registration_number"] = (
                None if serial is None else str(RegistrationNumber(state.unit.service_type, serial))
            )
            yield row


def numbers(registered: Iterable[tuple[str, Order]], base: int) -> dict[str, int]:
    """Serials for units by the place of their first registration in the global order."""
    serials: dict[str, int] = {}
    highest: int | None = None
    for key, _ in sorted(registered, key=lambda unit: unit[1]):
        serials[key] = highest = next_serial(highest, base)
    return serials


_NO_STATE = UnitState()
# The primary keys of the tables whose first change may be an Insert or an Update (an Upsert
# names its key); the schema test checks them against the database.
PRIMARY_KEYS = {
    "registrations": "unit_key",
    "applications": "application_id",
    "audits": "audit_id",
    "bureaus": "bureau_id",
    "provider_ratings": "enterprise_number",
    "public_providers": "enterprise_number",
    "projects": "project_id",
}


@contextmanager
def _no_garbage_collection() -> Iterator[None]:
    """The fold keeps every row alive until it is written: the collector's passes over the
    growing heap would cost more than the fold itself, and find nothing to free."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


async def fold_events(
    pg: asyncpg.Connection,
    fold: Fold,
    progress: Callable[[int], None] | None = None,
    *,
    events: str = "events",
    where: str = "",
    args: tuple[Any, ...] = (),
) -> None:
    """Fold every event the REPEATABLE READ transaction ``pg`` is in sees (of those ``where``
    keeps, with ``args``), in the global order (transaction id, position), and note its
    snapshot in ``fold.snapshot``."""
    fold.snapshot = await pg.fetchval(_SNAPSHOT)  # the transaction's, from its first statement
    cursor = await pg.cursor(_READ.format(events=events, where=where), *args)
    with _no_garbage_collection():
        fetching = asyncio.ensure_future(cursor.fetch(PAGE))
        while page := await fetching:
            # the next page is on its way while this one is folded
            fetching = asyncio.ensure_future(cursor.fetch(PAGE))
            await asyncio.sleep(0)
            for row in page:
                fold.add(row)
            if progress is not None:
                progress(len(page))
        await fetching


async def write_tables(
    pg: asyncpg.Connection, schema: str, fold: Fold, serials: dict[str, int] | None = None
) -> None:
    """COPY the folded rows into the projection tables of ``schema``, the units numbered by
    ``serials`` (by default ``fold.numbers()``)."""
    with _no_garbage_collection():  # every row stays alive until it is written, as in the fold
        rows: dict[str, list[dict[str, Any]]] = {
            table: list(memory.rows.values()) for table, memory in fold.tables.items()
        }
        rows["registrations"] = list(
            fold.registration_rows(fold.numbers() if serials is None else serials)
        )
        _add_listed(rows.get("public_providers", ()), rows["registrations"])
        await _order_merged(pg, fold.tables.values())
        for table, table_rows in rows.items():
            # Rows are written with the columns they were given, so that the others take the
            # table's defaults, as the live INSERT leaves them to; grouped by those columns in
            # the order the row has them (a few orders a table: no sort a row).
            by_columns: dict[tuple[str, ...], list[tuple[Any, ...]]] = {}
            for row in table_rows:
                by_columns.setdefault(tuple(row), []).append(tuple(row.values()))
            for columns, records in by_columns.items():
                await pg.copy_records_to_table(
                    table, records=records, columns=columns, schema_name=schema
                )


def _add_listed(providers: Iterable[dict[str, Any]], registrations: list[dict[str, Any]]) -> None:
    """``public_providers.listed`` from the registrations, as the live path writes it with
    each of them (``projections._SET_LISTED``); a provider with none in force keeps the
    column's default (none)."""
    listed = listed_days(registrations)
    for row in providers:
        days = listed.get(row["enterprise_number"])
        if days:
            row["listed"] = [asyncpg.Range(first, last, upper_inc=True) for first, last in days]


async def _order_merged(pg: asyncpg.Connection, tables: Iterable[MemoryTable]) -> None:
    """Merged arrays in the database's order (``ORDER BY`` in the live merge's SQL)."""
    merged = [
        (row, column, value)
        for table in tables
        for key, column in table.unions
        if isinstance(value := (row := table.rows[key]).get(column), _Union)
    ]
    elements = {element for _, _, value in merged for element in value.elements}
    ordered = await pg.fetch("SELECT e FROM unnest($1::text[]) e ORDER BY e", sorted(elements))
    rank = {record[0]: n for n, record in enumerate(ordered)}
    for row, column, value in merged:
        row[column] = sorted(value.elements, key=rank.__getitem__)
