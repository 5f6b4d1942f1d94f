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
  does not return a broken connection to the pool.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import asyncpg
from sqlalchemy.engine import make_url

from app.db import CONNECT_TIMEOUT_SECONDS, POOL_TIMEOUT_SECONDS


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
    ) -> None:
        self.dsn = asyncpg_dsn(url)
        self.max_size = max_size
        self.connect_timeout = connect_timeout
        self.acquire_timeout = acquire_timeout
        self._pool: asyncpg.Pool | None = None
        self._lock = asyncio.Lock()

    async def pool(self) -> asyncpg.Pool:
        if self._pool is None:
            async with self._lock:
                if self._pool is None:
                    self._pool = await asyncpg.create_pool(
                        self.dsn,
                        min_size=0,
                        max_size=self.max_size,
                        timeout=self.connect_timeout,
                        init=_init,
                        reset=_keep,
                    )
        return self._pool

    @asynccontextmanager
    async def connection(self) -> AsyncIterator[asyncpg.Connection]:
        pool = await self.pool()
        async with pool.acquire(timeout=self.acquire_timeout) as conn:
            yield conn

    async def fetch(self, query: str, *args: Any) -> list[asyncpg.Record]:
        """One statement, autocommit: one round trip."""
        async with self.connection() as conn:
            return list(await conn.fetch(query, *args))

    async def close(self) -> None:
        if self._pool is not None:
            pool, self._pool = self._pool, None
            await pool.close()
