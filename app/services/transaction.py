"""A command's transaction on one asyncpg connection, in as few round trips as it can be.

A command reads once, decides in Python, then writes: the append, the projections' rows and
whatever its caller stores with it (an ``Idempotency-Key``'s response). Sent one by one, each
write is a round trip. Here writes are *deferred*: kept until the transaction next reads (so
that the read sees them) or commits, and then sent together as one statement, each write a
data-modifying common table expression beside the append's (``app.events.store.append_with``).
A command is then four round trips: BEGIN, its read, its writes, COMMIT.

All parts of one statement see the same snapshot and none sees another's changes, so two writes
of one table go in successive statements (``flush`` splits them: in the order they came).

``execute`` and ``scalar`` take SQLAlchemy ``text()`` statements with named parameters, as the
projections and the API's queries write them: ``execute`` defers a write (``INSERT``,
``UPDATE``, ``DELETE``: what it returns is not read) and runs a read after sending what is
deferred; ``scalar`` sends what is deferred, then runs its statement and returns its value.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import asyncpg
from sqlalchemy import TextClause

from app.events.errors import ConcurrencyConflict
from app.events.store import (
    STREAM_VERSION_KEY,
    AppendResult,
    PreparedAppend,
    append_with,
)
from app.runtime.pg import Statement, statement, together

BEGIN = "BEGIN ISOLATION LEVEL READ COMMITTED"
_WRITE = re.compile(r"^\s*(?:INSERT\s+INTO|UPDATE|DELETE\s+FROM)\s+([\w.]+)", re.IGNORECASE)
_RETURNING = re.compile(r"\bRETURNING\b", re.IGNORECASE)


@lru_cache(maxsize=1024)
def _returns(sql: str) -> bool:
    return _RETURNING.search(sql) is not None


@dataclass(eq=False, slots=True)
class Deferred:
    """A deferred write; once sent, ``value`` is the first value it returned (``RETURNING``)."""

    statement: Statement
    table: str
    value: Any = None
    sent: bool = False


@dataclass(slots=True)
class _Append:
    append: PreparedAppend
    result: AppendResult | None = None


class Row:
    """A row as the API's queries read SQLAlchemy rows: by attribute and by ``_mapping``."""

    __slots__ = ("_mapping",)

    def __init__(self, record: asyncpg.Record) -> None:
        self._mapping: Mapping[str, Any] = record

    def __getattr__(self, name: str) -> Any:
        try:
            return self._mapping[name]
        except KeyError:
            raise AttributeError(name) from None


@dataclass(frozen=True, slots=True)
class Result:
    rows: list[Row] = field(default_factory=list)

    def __iter__(self) -> Iterator[Row]:
        return iter(self.rows)

    def all(self) -> list[Row]:
        return self.rows

    def first(self) -> Row | None:
        return self.rows[0] if self.rows else None


class Transaction:
    def __init__(self, conn: asyncpg.Connection) -> None:
        self.conn = conn
        self._append: _Append | None = None
        self._pending: list[Deferred] = []

    @classmethod
    @asynccontextmanager
    async def begin(
        cls, conn: asyncpg.Connection, *, lock: int | None = None
    ) -> AsyncIterator[Transaction]:
        """BEGIN (and take the advisory lock ``lock``, in the same round trip); on leaving,
        send what is deferred and COMMIT, or ROLLBACK on an error."""
        await conn.execute(f"{BEGIN}; SELECT pg_advisory_xact_lock({int(lock)})" if lock else BEGIN)
        tx = cls(conn)
        try:
            yield tx
            await tx.flush()
        except BaseException:
            if not conn.is_closed():
                with suppress(Exception):  # a broken connection: the pool discards it
                    await conn.execute("ROLLBACK")
            raise
        await conn.execute("COMMIT")

    # --- writes ---------------------------------------------------------------------------

    def append(self, append: PreparedAppend) -> None:
        """Defer an append; it goes first, with the writes deferred beside it."""
        if self._append is not None:
            raise ValueError("one append per transaction")
        self._append = _Append(append)

    @property
    def appended(self) -> AppendResult | None:
        """The append's result, once sent."""
        return self._append.result if self._append else None

    def defer(self, write: Statement) -> Deferred:
        found = _WRITE.match(write.sql)
        if found is None:
            raise ValueError(f"not a write: {write.sql[:60]!r}")
        deferred = Deferred(write, found.group(1).lower())
        self._pending.append(deferred)
        return deferred

    async def flush(self) -> None:
        """Send the deferred writes: the append and every write of another table than the ones
        before it in one statement, and so on."""
        append, self._append = self._append, None
        pending, self._pending = self._pending, []
        while (append is not None and append.result is None) or pending:
            batch, tables = [], {"events"} if append is not None else set()
            while pending and pending[0].table not in tables:
                tables.add(pending[0].table)
                batch.append(pending.pop(0))
            await self._send(append if append and append.result is None else None, batch)
        if append is not None:
            self._append = append  # its result stays readable

    async def _send(self, append: _Append | None, batch: list[Deferred]) -> None:
        writes = [item.statement for item in batch]
        try:
            if append is not None:
                sent = append_with(append.append, writes)
                rows = await self.conn.fetch(sent.sql, *sent.args)
                append.result = append.append.result(rows)
                values = rows[0]
            elif len(writes) == 1:
                values = {"w1": await self.conn.fetchval(writes[0].sql, *writes[0].args)}
            else:
                values = await self.conn.fetchrow(*_together(writes))
        except asyncpg.UniqueViolationError as exc:
            if append is not None and exc.constraint_name == STREAM_VERSION_KEY:
                prepared = append.append
                raise ConcurrencyConflict(
                    prepared.stream_id, prepared.expected_version, None
                ) from exc
            raise
        for n, item in enumerate(batch, 1):
            item.sent = True
            if _returns(item.statement.sql):
                item.value = values[f"w{n}"]

    # --- as the projections and queries use a connection ----------------------------------

    async def execute(
        self, statement_: TextClause, parameters: Mapping[str, Any] | None = None
    ) -> Result:
        sent = statement(statement_, parameters)
        if _WRITE.match(sent.sql):  # what it returns is not read: ``scalar`` for that
            self.defer(sent)
            return Result()
        return Result([Row(record) for record in await self.fetch(sent)])

    async def scalar(
        self, statement_: TextClause, parameters: Mapping[str, Any] | None = None
    ) -> Any:
        sent = statement(statement_, parameters)
        await self.flush()
        return await self.conn.fetchval(sent.sql, *sent.args)

    async def fetch(self, read: Statement) -> list[asyncpg.Record]:
        await self.flush()
        return list(await self.conn.fetch(read.sql, *read.args))


def _together(writes: Sequence[Statement]) -> tuple[str, ...]:
    """Writes without an append: ``WITH w1 AS (...), ... SELECT`` their first values."""
    sqls, args = together(writes)
    ctes = ", ".join(f"w{n} AS ({sql})" for n, sql in enumerate(sqls, 1))
    values = ", ".join(
        f"(SELECT * FROM w{n} LIMIT 1) AS w{n}" if _returns(sql) else f"NULL AS w{n}"
        for n, sql in enumerate(sqls, 1)
    )
    return (f"WITH {ctes} SELECT {values}", *args)
