"""`kmop events verify|checkpoint`: the event log's tamper evidence (hash chains and signed
checkpoints)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer

from app.cli.base import cli, get_settings, run_with_service

if TYPE_CHECKING:
    from app.runtime.settings import Settings

events_cli = typer.Typer(
    no_args_is_help=True,
    help="The event log's tamper evidence: hash chains and signed checkpoints. Exit codes: "
    "0 intact or done, 1 verification failed, 2 usage error (also: no checkpoint key in "
    "production, the database not at the latest migration).",
)
cli.add_typer(events_cli, name="events")


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
    report = run_with_service(settings, lambda service: verify_log(service.engine, key))
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
    checkpoint = run_with_service(settings, lambda service: record_checkpoint(service.engine, key))
    if checkpoint is None:
        typer.echo("No events since the last checkpoint: none recorded.")
        return
    typer.echo(
        f"Checkpoint {checkpoint.sequence}: {checkpoint.event_count} events up to position "
        f"{checkpoint.last_position}, running hash {checkpoint.running_hash.hex()}, "
        f"signature {checkpoint.signature.hex()}"
    )
