"""Where the public reads go: the primary, or a streaming replica (``KMOP_READ_DATABASE_URL``).

The public search and provider page, the public check (``/public/registrations/…``,
``/controle``) and the web page promise nobody that they read their own writes: nobody writes
through them. They may therefore read a standby that replays the primary's WAL, a replication
lag behind it (a stopped registration stays listed that much longer; README "Scaling out"). Every
other route stays on the primary: commands, the feed (its horizon, ``pg_snapshot_xmin``, is the
primary's) and the authenticated reads (a caller reads what it just wrote).

Every public read takes its connection from ``app.state.public`` (``public_pool`` and
``public_engine`` in ``app.api.http.deps``), and nothing else does: a route added later follows it
by
taking those dependencies. Unset, the public reads share the primary's pool and engine. Set,
they get a pool and an engine of their own whose transactions are read-only
(``default_transaction_read_only``): no migration and no write runs there, even when the URL
names a primary by mistake.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncEngine

from app.runtime.db import make_engine
from app.runtime.pg import Pool
from app.runtime.settings import Settings


@dataclass(frozen=True, slots=True)
class PublicReads:
    """The public reads' asyncpg pool and SQLAlchemy engine, and whether they are a replica's."""

    pg: Pool
    engine: AsyncEngine
    replica: bool

    @classmethod
    def of(cls, settings: Settings, *, pg: Pool, engine: AsyncEngine) -> PublicReads:
        """On ``KMOP_READ_DATABASE_URL`` when set, else the primary's ``pg`` and ``engine``."""
        url = settings.read_database_url
        if not url:
            return cls(pg=pg, engine=engine, replica=False)
        size = settings.db_pool_size + settings.db_max_overflow
        return cls(
            pg=Pool(url, max_size=size, read_only=True),
            engine=make_engine(
                url,
                pool_size=settings.db_pool_size,
                max_overflow=settings.db_max_overflow,
                read_only=True,
            ),
            replica=True,
        )

    async def close(self) -> None:
        """Close what is the replica's own (the primary's pool and engine have their owner)."""
        if self.replica:
            await self.pg.close()
            await self.engine.dispose()
