"""Engine and migrations: the one way the schema is made is Alembic, in tests too."""

from __future__ import annotations

import asyncio
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

MIGRATIONS_DIR = Path(__file__).resolve().parents[2] / "migrations"


CONNECT_TIMEOUT_SECONDS = 5  # a server that does not answer: give up, the caller gets a 503
POOL_TIMEOUT_SECONDS = 10  # every pooled connection busy for this long: the same
# The public reads' connections (``app.runtime.readers``): the server refuses a write even when
# KMOP_READ_DATABASE_URL names a primary by mistake (a standby refuses it anyway).
READ_ONLY = {"default_transaction_read_only": "on"}


def make_engine(
    url: str,
    *,
    pool_size: int = 10,
    max_overflow: int = 10,
    connect_timeout: float = CONNECT_TIMEOUT_SECONDS,
    pool_timeout: float = POOL_TIMEOUT_SECONDS,
    read_only: bool = False,
) -> AsyncEngine:
    """``read_only``: every transaction of its connections is read-only (the public reads'
    engine, ``app.runtime.readers``), set at connect time: no round trip."""
    connect_args: dict[str, object] = {"timeout": connect_timeout}
    if read_only:
        connect_args["server_settings"] = dict(READ_ONLY)
    return create_async_engine(
        url,
        pool_size=pool_size,
        max_overflow=max_overflow,
        pool_timeout=pool_timeout,
        connect_args=connect_args,
        # A connection the server dropped (a restart) is noticed and replaced on checkout.
        pool_pre_ping=True,
        # Every statement names its isolation needs; READ COMMITTED is what the store relies on.
        isolation_level="READ COMMITTED",
    )


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def migration_head() -> str:
    head = ScriptDirectory.from_config(alembic_config("postgresql+asyncpg://")).get_current_head()
    assert head is not None, "no migrations found"
    return head


def upgrade(url: str, revision: str = "head") -> None:
    """Apply migrations (blocking). Safe to call from sync code only."""
    command.upgrade(alembic_config(url), revision)


async def upgrade_async(url: str, revision: str = "head") -> None:
    await asyncio.to_thread(upgrade, url, revision)


async def downgrade_async(url: str, revision: str) -> None:
    await asyncio.to_thread(command.downgrade, alembic_config(url), revision)


async def current_revision(conn: AsyncConnection) -> str | None:
    exists = await conn.scalar(text("SELECT to_regclass('alembic_version') IS NOT NULL"))
    if not exists:
        return None
    revision: str | None = await conn.scalar(text("SELECT version_num FROM alembic_version"))
    return revision
