"""`kmop deadlines run|due`: the deadline job, and what it would do."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Annotated

import typer

from app.cli.base import cli, get_settings, run_with_service

deadlines_cli = typer.Typer(no_args_is_help=True, help="The deadline job.")
cli.add_typer(deadlines_cli, name="deadlines")


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
        result = run_with_service(
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
    found = run_with_service(get_settings(), lambda service: due_deadlines(service, day))
    typer.echo(f"A run on {day} would record {len(found)} events (nothing is written now):")
    for due in found:
        typer.echo(
            f"  {due.due_on}  {due.registration_number or '-':<10}  {due.unit_key}  "
            f"{due.kind.value} (last day {due.last_day})  {due.event.event_type}"
        )
