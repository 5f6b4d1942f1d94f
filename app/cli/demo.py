"""`kmop demo`: load the demo data set (``app.demo``) and say what it holds."""

from __future__ import annotations

from typing import Annotated

import typer

from app.cli.base import cli, database, get_settings, run_with_service


@cli.command()
def demo(
    database_url: Annotated[
        str | None,
        typer.Option(
            help="postgresql://… to load into (default: KMOP_DATABASE_URL, else the embedded "
            "PostgreSQL in KMOP_DATA_DIR)"
        ),
    ] = None,
    migrate_first: Annotated[
        bool, typer.Option("--migrate/--no-migrate", help="Apply the migrations first")
    ] = True,
) -> None:
    """Load the demo data set: the brochure's eight audit bureaus and some forty providers with
    public profiles, ratings and registrations in every status, six years of history up to now,
    written through the service as the real steps would be. Running it again changes nothing."""
    from app.demo.load import DemoPartiallyLoaded, load_demo
    from app.runtime import db
    from app.runtime.settings import normalize_database_url

    settings = get_settings()
    if database_url:
        try:
            url = normalize_database_url(database_url)
        except ValueError as exc:
            raise typer.BadParameter(str(exc), param_hint="--database-url") from None
        settings = settings.model_copy(update={"database_url": url})
    with database(settings) as url:
        if migrate_first:
            db.upgrade(url)
        try:
            summary = run_with_service(settings.model_copy(update={"database_url": url}), load_demo)
        except DemoPartiallyLoaded as exc:
            typer.echo(str(exc), err=True)
            raise typer.Exit(1) from None
    host = "127.0.0.1" if settings.host in {"0.0.0.0", "::"} else settings.host
    for line in summary.lines(f"http://{host}:{settings.port}"):
        typer.echo(line)
