"""`kmop migrate` and `kmop serve`: the database's schema and the HTTP service (one process or
several workers)."""

from __future__ import annotations

from contextlib import suppress
from functools import partial
from typing import TYPE_CHECKING, Annotated, Any

import typer

from app.cli.base import cli, database, get_settings

if TYPE_CHECKING:
    from fastapi import FastAPI

    from app.runtime.settings import Settings


@cli.command()
def migrate(revision: str = "head") -> None:
    """Apply the database migrations (to the latest by default)."""
    from app.runtime import db

    with database(get_settings()) as url:
        db.upgrade(url, revision)
        typer.echo(f"Database at migration {revision}.")


@cli.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Address to bind (KMOP_HOST)")] = None,
    port: Annotated[int | None, typer.Option(help="Port (KMOP_PORT)")] = None,
    migrate_first: Annotated[bool, typer.Option("--migrate/--no-migrate")] = True,
    workers: Annotated[
        int | None,
        typer.Option(
            min=1,
            help="Processes serving the one port (KMOP_WORKERS; default 1): each its own app "
            "and pools; the background jobs run in the first",
        ),
    ] = None,
) -> None:
    """Serve the API. Without KMOP_DATABASE_URL it runs its own PostgreSQL in KMOP_DATA_DIR."""
    from app.runtime import db
    from app.runtime.serving import Server, serve_workers

    settings = get_settings()
    host = host or settings.host
    port = port or settings.port
    workers = workers or settings.workers
    if refusal := settings.production_refusal():
        raise typer.BadParameter(refusal, param_hint="env")
    with database(settings) as url:
        if migrate_first:
            db.upgrade(url)
        settings = settings.model_copy(update={"database_url": url})
        shown = "127.0.0.1" if host in {"0.0.0.0", "::"} else host
        typer.echo(f"API docs: http://{shown}:{port}/docs  (OpenAPI: /openapi.json)")
        # On Ctrl-C or SIGTERM uvicorn stops accepting, lets the requests in flight finish (for
        # at most the grace), shuts the app down, then re-raises the signal: a KeyboardInterrupt
        # (see `main`), after which the database stops too. Our access log replaces uvicorn's;
        # its own lines go through our renderer (log_config=None keeps our logging set-up).
        config: dict[str, Any] = {
            "log_config": None,
            "log_level": "info",
            "access_log": False,
            "timeout_graceful_shutdown": settings.shutdown_grace_seconds,
        }
        if workers > 1:
            status = serve_workers(
                partial(worker_app, settings),
                workers,
                host=host,
                port=port,
                grace_seconds=settings.shutdown_grace_seconds,
                **config,
            )
            if status:
                raise typer.Exit(status)
            return
        with suppress(KeyboardInterrupt):
            # uvicorn's, ending open event streams before it waits for them
            Server(worker_app(settings, 0), host=host, port=port, **config).run()


def worker_app(settings: Settings, worker: int) -> FastAPI:
    """The app one `kmop serve` process serves (worker 0 runs the background jobs). Module-level,
    so that a spawned worker (``--workers``) can unpickle it; such a worker, a fresh interpreter,
    sets up its logging as `kmop` does."""
    import multiprocessing

    from app.main import create_app
    from app.runtime.logs import configure_logging

    if multiprocessing.parent_process() is not None:
        configure_logging()
    return create_app(settings, worker=worker)
