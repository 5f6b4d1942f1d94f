"""What the commands share: the Typer app they hang on, the database they work on (the
configured one or an embedded server), the settings, and running work with the service."""

# Each command imports what it needs when it runs: `kmop token` and `kmop --help` must not pay
# for FastAPI, SQLAlchemy, uvicorn and the whole app (seconds of CPU per call).
# tests/unit/test_cli.py checks what `kmop token` imports.

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, TypeVar

import typer

if TYPE_CHECKING:
    from app.runtime.settings import Settings


cli = typer.Typer(
    no_args_is_help=True,
    add_completion=False,
    help="The operator's command line for kmop-registry.",
)
log = logging.getLogger("kmop")

EMBEDDED_DATABASE = "kmop"
T = TypeVar("T")


@contextmanager
def database(settings: Settings) -> Iterator[str]:
    """The configured database URL, or an embedded server's for as long as the block runs."""
    if settings.database_url:
        yield settings.database_url
        return
    if settings.environment == "production":
        raise typer.BadParameter("KMOP_DATABASE_URL is required in production", param_hint="env")
    from app.runtime import embedded

    server = embedded.start(settings.data_dir / "postgres")
    try:
        embedded.ensure_database_sync(server.dsn(), EMBEDDED_DATABASE)
        typer.echo(f"Embedded PostgreSQL: data in {server.data_dir}")
        yield server.sqlalchemy_url(EMBEDDED_DATABASE)
    finally:
        server.stop()
        typer.echo("Embedded PostgreSQL stopped.")


def run_with_service(settings: Settings, work: Callable[[Any], Awaitable[T]]) -> T:
    from app.runtime import db
    from app.services.factory import make_service

    async def go(url: str) -> T:
        engine = db.make_engine(url, pool_size=2, max_overflow=0)
        try:
            async with engine.connect() as conn:
                revision = await db.current_revision(conn)
            if revision != db.migration_head():
                typer.echo(
                    f"The database is at migration {revision}, not {db.migration_head()}: "
                    "run `kmop migrate` first.",
                    err=True,
                )
                raise typer.Exit(2)
            return await work(make_service(engine, settings))
        finally:
            await engine.dispose()

    with database(settings) as url:
        import asyncio

        return asyncio.run(go(url))


def get_settings() -> Settings:
    from app.runtime.settings import get_settings

    return get_settings()
