"""`kmop projections rebuild|verify`: the derived tables, rebuilt from the events or checked
against such a rebuild."""

from __future__ import annotations

from typing import Any

import typer

from app.cli.base import cli, get_settings, run_with_service

projections_cli = typer.Typer(
    no_args_is_help=True,
    help="Derived tables. `verify` exits 0 when they equal a rebuild from the events, "
    "1 when not, 2 on a usage error (also: the database is not at the latest migration).",
)
cli.add_typer(projections_cli, name="projections")


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

    report = run_with_service(get_settings(), work)
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

    report = run_with_service(get_settings(), work)
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
