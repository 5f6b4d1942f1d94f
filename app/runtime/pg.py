"""The process's asyncpg pool: the hot paths talk to PostgreSQL without an ORM in between.

SQLAlchemy earns its place in the migrations and the schema; on a path that runs a few known
statements per request it costs more client CPU than the statements cost the database (a
``text()`` execute is ~70 µs of client CPU where asyncpg's is ~15 µs), adds a pre-ping round
trip on every checkout and a BEGIN/ROLLBACK around plain reads. Here:

* one pool per process, made on first use from the database URL (so an app built around an
  injected engine, as the tests build it, gets one too), closed with the app;
* statements are prepared by asyncpg and cached per connection (a named statement per query:
  PgBouncer needs >= 1.21, as the README says);
* ``json``/``jsonb`` values are decoded to Python objects and encoded from them;
* no reset query when a connection goes back to the pool: the hot paths keep no session state
  (advisory locks are transaction-level, nothing is SET, LISTENed or left open), and asyncpg
  still rolls back a transaction left open, so the default ``RESET ALL`` round trip buys nothing;
* no pre-ping: a connection the server dropped fails its first statement, which is a
  ``database-unavailable`` problem (503, ``Retry-After``) like any other outage, and asyncpg
  does not return a broken connection to the pool;
* ``read_only=True`` (the public reads' pool, ``app.runtime.readers``): every transaction is
read-only,
  a startup parameter too;
* ``connection(custom_plans=True)`` takes a connection of a second set, opened with
  ``plan_cache_mode = force_custom_plan`` (a startup parameter: no round trip): PostgreSQL plans
  each execution for its parameters instead of settling on a generic plan after five. The
  public search needs it: one prepared statement serves a theme in a province (thousands of
  matches) and a theme at a postal code (a handful), and a generic plan fit for neither doubled
  its p99 at 100,000 providers (BENCHMARKS.md); planning costs it about 1 ms. Statements of a
  fixed shape and selectivity (lookups by key) are better served by the default.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Protocol

import asyncpg
from sqlalchemy import TextClause, event, text
from sqlalchemy.dialects.postgresql import asyncpg as asyncpg_dialect
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.pool import QueuePool

from app.runtime.db import CONNECT_TIMEOUT_SECONDS, POOL_TIMEOUT_SECONDS, READ_ONLY


def asyncpg_dsn(url: str) -> str:
    """A libpq DSN for asyncpg from a SQLAlchemy URL (``postgresql+asyncpg://…``)."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


async def _init(conn: asyncpg.Connection) -> None:
    for kind in ("json", "jsonb"):
        await conn.set_type_codec(kind, encoder=json.dumps, decoder=json.loads, schema="pg_catalog")


async def _keep(conn: asyncpg.Connection) -> None:
    """A released connection is kept as it is (see the module's docstring)."""


class Pool:
    """A lazily made asyncpg pool of at most ``max_size`` connections."""

    def __init__(
        self,
        url: str,
        *,
        max_size: int = 10,
        connect_timeout: float = CONNECT_TIMEOUT_SECONDS,
        acquire_timeout: float = POOL_TIMEOUT_SECONDS,
        read_only: bool = False,
    ) -> None:
        self.dsn = asyncpg_dsn(url)
        self.read_only = read_only
        self.max_size = max_size
        self.connect_timeout = connect_timeout
        self.acquire_timeout = acquire_timeout
        self._pools: dict[bool, asyncpg.Pool] = {}  # by custom_plans
        self._lock = asyncio.Lock()

    async def pool(self, *, custom_plans: bool = False) -> asyncpg.Pool:
        if custom_plans not in self._pools:
            async with self._lock:
                if custom_plans not in self._pools:
                    settings = {"plan_cache_mode": "force_custom_plan"} if custom_plans else {}
                    if self.read_only:
                        settings |= READ_ONLY
                    self._pools[custom_plans] = await asyncpg.create_pool(
                        self.dsn,
                        min_size=0,
                        max_size=self.max_size,
                        timeout=self.connect_timeout,
                        init=_init,
                        reset=_keep,
                        server_settings=settings,
                    )
        return self._pools[custom_plans]

    @asynccontextmanager
    async def connection(self, *, custom_plans: bool = False) -> AsyncIterator[asyncpg.Connection]:
        pool = await self.pool(custom_plans=custom_plans)
        async with pool.acquire(timeout=self.acquire_timeout) as conn:
            yield conn

    async def fetch(self, query: str, *args: Any) -> list[asyncpg.Record]:
        """One statement, autocommit: one round trip."""
        async with self.connection() as conn:
            return list(await conn.fetch(query, *args))

    async def close(self) -> None:
        pools, self._pools = list(self._pools.values()), {}
        for pool in pools:
            await pool.close()

    def terminate(self) -> None:
        """Close every connection now, without waiting (from synchronous code)."""
        pools, self._pools = list(self._pools.values()), {}
        for pool in pools:
            pool.terminate()

    @classmethod
    def for_engine(cls, engine: AsyncEngine) -> Pool:
        """A pool on the engine's database, as large as the engine's may grow, closed when the
        engine is disposed (for a service built around an engine alone: the CLI, tests)."""
        pool = engine.sync_engine.pool
        size = (
            pool.size() + max(getattr(pool, "_max_overflow", 0), 0)
            if isinstance(pool, QueuePool)
            else 10
        )
        made = cls(engine.url.render_as_string(hide_password=False), max_size=max(size, 1))
        event.listen(engine.sync_engine, "engine_disposed", lambda _engine: made.terminate())
        return made


class Executes(Protocol):
    """What the projections and the API's queries need of a connection: SQLAlchemy's
    ``AsyncConnection``, or a command's ``app.services.transaction.Transaction``."""

    async def execute(
        self, statement: TextClause, parameters: Mapping[str, Any] | None = None
    ) -> Any: ...

    async def scalar(
        self, statement: TextClause, parameters: Mapping[str, Any] | None = None
    ) -> Any: ...


# --- statements -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Statement:
    """SQL with positional parameters (``$1``, ``$2``, ...) and their values."""

    sql: str
    args: tuple[Any, ...] = ()

    def shifted(self, offset: int) -> str:
        """The SQL with its parameters renumbered from ``offset + 1``, to sit beside others in
        one statement."""
        return _shifted(self.sql, offset) if offset else self.sql


@lru_cache(maxsize=1024)
def _shifted(sql: str, offset: int) -> str:
    return _PARAMETER.sub(lambda m: f"${int(m.group(1)) + offset}", sql)


_PARAMETER = re.compile(r"\$(\d+)")
# JSON already written out as text goes to PostgreSQL as text and is cast there: the pool's
# jsonb codec would otherwise write the string itself as a JSON string.
_JSONB_CAST = re.compile(r"CAST\((\$\d+) AS jsonb(\[\])?\)", re.IGNORECASE)
_DIALECT = asyncpg_dialect.dialect()  # type: ignore[no-untyped-call]


@lru_cache(maxsize=1024)
def _compiled(named: str) -> tuple[str, tuple[str, ...]]:
    """By the SQL's text: callers often make a new ``text()`` of the same SQL on every call."""
    compiled = text(named).compile(dialect=_DIALECT)
    sql = _JSONB_CAST.sub(r"CAST(CAST(\1 AS text\2) AS jsonb\2)", compiled.string)
    return sql, tuple(compiled.positiontup or ())


def statement(clause: TextClause, params: Mapping[str, Any] | None = None) -> Statement:
    """A SQLAlchemy ``text()`` statement with named parameters (``:name``) for asyncpg."""
    sql, names = _compiled(clause.text)
    values = params or {}
    return Statement(sql, tuple(values[name] for name in names))


def together(statements: Sequence[Statement]) -> tuple[list[str], list[Any]]:
    """Several statements' SQL renumbered to share one argument list, and that list."""
    sqls: list[str] = []
    args: list[Any] = []
    for item in statements:
        sqls.append(item.shifted(len(args)))
        args.extend(item.args)
    return sqls, args
