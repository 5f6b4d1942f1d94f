"""Projections in bulk: every event folded in memory, each table written at once by COPY.

The rows are those the live path writes, from the same definitions: ``evolve`` folds each unit,
``registration_row`` makes its row from the last state and ``next_serial`` numbers the units
in the global order (transaction id, position) of the events that first registered them, once
every event is folded (``Fold.numbers``: the events may have been folded in several processes,
``app.events.parallel``); ``changes`` gives what every event changes
in the other tables, applied here to rows in memory (``MemoryTable``) instead of by one SQL
statement each. What the database adds itself (column defaults, the generated ``themes``, the
search columns its trigger fills, the order of a merged array) it adds here too: rows are
COPYed with the columns they were given, into tables that carry the live tables' defaults and
triggers, and merged arrays are sorted by the database.

Also here: making empty copies of the live projection tables in another schema
(``create_tables``, then ``create_indexes`` after the load), for a rebuild and for
``projections verify``.
"""

from __future__ import annotations

import asyncio
import gc
import re
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import asyncpg
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from app.domain.identifiers import RegistrationNumber
from app.domain.registration import UnitState, evolve
from app.events.catalog import UNIT_STREAM, unit_key_from_stream
from app.events.projections import (
    PROJECTION_TABLES,
    Change,
    Insert,
    Merge,
    Projected,
    Update,
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


@dataclass(frozen=True, slots=True)
class _Union:
    """A merged array (``Merge.UNION``) whose order the database gives when it is written."""

    elements: frozenset[str]


class MemoryTable:
    """A projection table's rows in memory, by primary key, each with the columns written."""

    def __init__(self, key: str) -> None:
        self.key = key
        self.rows: dict[Any, dict[str, Any]] = {}
        self._indexes: dict[str, dict[Any, list[Any]]] = {}  # column -> value -> keys
        self.unions: set[tuple[Any, str]] = set()  # (key, column) of the merged arrays

    def apply(self, change: Change) -> None:
        match change:
            case Insert(table, row):
                if row[self.key] in self.rows:
                    raise ValueError(f"{table}: a second row with {self.key} {row[self.key]!r}")
                self._add(dict(row))
            case Update(_, column, value, values, only):
                for key in self._keys(column, value):
                    row = self.rows[key]
                    if row.get(column) == value and all(row.get(c) in a for c, a in only):
                        row.update(values)
                        self._reindex(key, values)
            case Upsert(_, key_column, row, merge):
                assert key_column == self.key
                existing = self.rows.get(row[key_column])
                if existing is None:
                    self._add(dict(row))
                    return
                merged = dict(merge)
                for column, value in row.items():
                    how = merged.get(column)
                    existing[column] = (
                        value if how is None else _merge(how, existing.get(column), value)
                    )
                    if how is Merge.UNION:
                        self.unions.add((row[key_column], column))
                self._reindex(row[key_column], row)

    def _add(self, row: dict[str, Any]) -> None:
        key = row[self.key]
        self.rows[key] = row
        self._reindex(key, row)

    def _keys(self, column: str, value: Any) -> list[Any]:
        if column == self.key:
            return [value] if value in self.rows else []
        index = self._indexes.get(column)
        if index is None:  # built on first use, kept up to date from then on
            index = self._indexes[column] = {}
            for key, row in self.rows.items():
                index.setdefault(row.get(column), []).append(key)
        return index.get(value, [])

    def _reindex(self, key: Any, values: dict[str, Any]) -> None:
        for column, index in self._indexes.items():
            if column in values:
                index.setdefault(values[column], []).append(key)


def _merge(how: Merge, old: Any, new: Any) -> Any:
    """As the live upsert's SQL (``projections._MERGED``) combines them."""
    if how is Merge.ADD:
        return None if old is None or new is None else old + new
    elements = set(old.elements if isinstance(old, _Union) else old or ())
    return _Union(frozenset(elements | set(new or ())))


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


# --- empty copies of the live tables --------------------------------------------------------

_LIVE_SCHEMA = text(
    "SELECT relnamespace::regnamespace::text FROM pg_class WHERE oid = CAST(:t AS regclass)"
)
_TABLE = text(
    """
    SELECT c.relpersistence, c.reloptions, c.relacl IS NOT NULL AS has_acl,
           pg_get_userbyid(c.relowner) AS owner, c.relreplident,
           quote_literal(obj_description(c.oid, 'pg_class')) AS comment
    FROM pg_class c WHERE c.oid = CAST(:t AS regclass)
    """
)
_ACL = text(
    """
    SELECT a.privilege_type, a.is_grantable,
           CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE quote_ident(pg_get_userbyid(a.grantee)) END
    FROM pg_class c, aclexplode(c.relacl) a WHERE c.oid = CAST(:t AS regclass)
    """
)
_TRIGGERS = text(
    "SELECT tgname, pg_get_triggerdef(oid), tgenabled FROM pg_trigger"
    " WHERE tgrelid = CAST(:t AS regclass) AND NOT tgisinternal ORDER BY tgname"
)
_INDEXED_CONSTRAINTS = text(
    "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint"
    " WHERE conrelid = CAST(:t AS regclass) AND contype IN ('p', 'u', 'x') ORDER BY conname"
)
_OTHER_INDEXES = text(
    """
    SELECT pg_get_indexdef(i.indexrelid) FROM pg_index i
    WHERE i.indrelid = CAST(:t AS regclass)
      AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)
    ORDER BY i.indexrelid::regclass::text
    """
)
_REPLICA_INDEX = text(
    "SELECT indexrelid::regclass::text FROM pg_index"
    " WHERE indrelid = CAST(:t AS regclass) AND indisreplident"
)
# What a copy made this way would not carry faithfully: refused rather than lost.
_UNSUPPORTED = text(
    """
    SELECT 'a view or rule uses it' FROM pg_depend d JOIN pg_rewrite r ON r.oid = d.objid
    WHERE d.refobjid = CAST(:t AS regclass) AND r.ev_class <> d.refobjid
    UNION ALL
    SELECT 'a foreign key refers to it or from it' FROM pg_constraint
    WHERE (confrelid = CAST(:t AS regclass) OR conrelid = CAST(:t AS regclass)) AND contype = 'f'
    UNION ALL
    SELECT 'a column takes its values from a sequence' FROM pg_attribute a
    LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
    WHERE a.attrelid = CAST(:t AS regclass) AND NOT a.attisdropped
      AND (a.attidentity <> '' OR pg_get_expr(d.adbin, d.adrelid) LIKE 'nextval(%')
    UNION ALL
    SELECT 'it has row-level security or column privileges' FROM pg_class c
    WHERE c.oid = CAST(:t AS regclass) AND (c.relrowsecurity OR EXISTS (
        SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attacl IS NOT NULL))
    """
)


async def live_schema(conn: AsyncConnection) -> str:
    """The schema of the live projection tables (as the connection's search path finds them)."""
    return str(await conn.scalar(_LIVE_SCHEMA, {"t": PROJECTION_TABLES[0]}))


async def create_tables(conn: AsyncConnection, live: str, schema: str) -> None:
    """Empty copies of the live projection tables in ``schema``: columns, defaults, generated
    columns, check constraints, storage, comments, triggers, owner and privileges; the indexes
    and the constraints that have one come after the load (``create_indexes``)."""
    for table in PROJECTION_TABLES:
        source = f"{live}.{table}"
        for (reason,) in await conn.execute(_UNSUPPORTED, {"t": source}):
            raise RuntimeError(f"cannot rebuild {source} beside the live one: {reason}")
        info = (await conn.execute(_TABLE, {"t": source})).one()
        unlogged = "UNLOGGED " if info.relpersistence == "u" else ""
        options = f" WITH ({', '.join(info.reloptions)})" if info.reloptions else ""
        await conn.execute(
            text(
                f"CREATE {unlogged}TABLE {schema}.{table} (LIKE {source} INCLUDING DEFAULTS"
                " INCLUDING GENERATED INCLUDING CONSTRAINTS INCLUDING STORAGE"
                f" INCLUDING COMPRESSION INCLUDING COMMENTS){options}"
            )
        )
        if info.comment is not None:  # LIKE copies the columns' comments, not the table's
            await conn.execute(text(f"COMMENT ON TABLE {schema}.{table} IS {info.comment}"))
        # LIKE copies no triggers; those that fill derived columns must run on the copy too.
        enable = {"D": "DISABLE", "R": "ENABLE REPLICA", "A": "ENABLE ALWAYS"}
        for name, definition, enabled in await conn.execute(_TRIGGERS, {"t": source}):
            await conn.execute(text(_on(definition, live, table, schema)))
            if enabled in enable:
                await conn.execute(
                    text(f"ALTER TABLE {schema}.{table} {enable[enabled]} TRIGGER {name}")
                )
        await conn.execute(text(f'ALTER TABLE {schema}.{table} OWNER TO "{info.owner}"'))
        if info.has_acl:
            await conn.execute(text(f'REVOKE ALL ON {schema}.{table} FROM PUBLIC, "{info.owner}"'))
            for privilege, grantable, grantee in await conn.execute(_ACL, {"t": source}):
                option = " WITH GRANT OPTION" if grantable else ""
                await conn.execute(
                    text(f"GRANT {privilege} ON {schema}.{table} TO {grantee}{option}")
                )


async def create_indexes(conn: AsyncConnection, live: str, schema: str) -> None:
    """The live tables' indexes, with their names, and the constraints that have one."""
    for table in PROJECTION_TABLES:
        source, target = f"{live}.{table}", f"{schema}.{table}"
        for name, definition in await conn.execute(_INDEXED_CONSTRAINTS, {"t": source}):
            await conn.execute(text(f'ALTER TABLE {target} ADD CONSTRAINT "{name}" {definition}'))
        for (definition,) in await conn.execute(_OTHER_INDEXES, {"t": source}):
            await conn.execute(text(_on(definition, live, table, schema)))
        info = (await conn.execute(_TABLE, {"t": source})).one()
        if info.relreplident == "f":
            await conn.execute(text(f"ALTER TABLE {target} REPLICA IDENTITY FULL"))
        elif info.relreplident == "n":
            await conn.execute(text(f"ALTER TABLE {target} REPLICA IDENTITY NOTHING"))
        elif info.relreplident == "i":
            index = await conn.scalar(_REPLICA_INDEX, {"t": source})
            index_name = str(index).rsplit(".", 1)[-1]
            await conn.execute(
                text(f"ALTER TABLE {target} REPLICA IDENTITY USING INDEX {index_name}")
            )


def _on(definition: str, live: str, table: str, schema: str) -> str:
    """A trigger's or index's definition, on the copy of ``table`` in ``schema``."""
    on_table = re.compile(rf" ON (ONLY )?({re.escape(live)}\.)?{re.escape(table)} ")
    return on_table.sub(rf" ON \g<1>{schema}.{table} ", definition, count=1)
