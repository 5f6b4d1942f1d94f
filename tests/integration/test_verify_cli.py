"""`kmop events verify|checkpoint` and `kmop projections verify` against a real database: exit
codes a script can rely on (0 ok, 1 verification failed, 2 usage error) and the culprit named."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import date

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine
from typer.testing import CliRunner, Result

from app.cli import cli
from app.domain.bureaus import AppointAuditBureau
from app.domain.identifiers import EnterpriseNumber
from app.events.projections import Projector
from app.runtime.settings import get_settings
from app.services.clock import FixedClock
from app.services.registrations import RegistrationService
from tests.integration.test_service import AGENCY, BUREAU_ID, START, register, unit

KEY = "cli-test-checkpoint-key"


@pytest.fixture(autouse=True)
def fresh_settings() -> Iterator[None]:
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


@pytest.fixture
async def seeded(engine: AsyncEngine) -> AsyncEngine:
    """A bureau and two registered units, through the service."""
    clock = FixedClock(START)
    service = RegistrationService(engine, clock=clock, projector=Projector(number_base=1))
    await service.execute_bureau(
        AppointAuditBureau(
            bureau_id=BUREAU_ID,
            name="Kiwa Belgium",
            enterprise_number=EnterpriseNumber.parse("0881285481"),
            appointed_from=date(2020, 1, 1),
        ),
        AGENCY,
    )
    await register(service, clock, unit(0), "a")
    await register(service, clock, unit(1), "b")
    return engine


async def kmop(database_url: str, *args: str, environment: str = "test") -> Result:
    """Run the CLI as an operator would, in a thread (it runs its own event loop)."""
    env = {
        "KMOP_DATABASE_URL": database_url,
        "KMOP_ENVIRONMENT": environment,
        "KMOP_CHECKPOINT_KEY": KEY if environment != "production" else "",
    }
    runner = CliRunner()
    result = await asyncio.to_thread(runner.invoke, cli, list(args), env=env)
    get_settings.cache_clear()
    return result


async def superuser(engine: AsyncEngine, sql: str) -> None:
    async with engine.begin() as conn:
        await conn.execute(text("ALTER TABLE events DISABLE TRIGGER events_no_update_or_delete"))
        await conn.execute(text(sql))
        await conn.execute(
            text("ALTER TABLE events ENABLE ALWAYS TRIGGER events_no_update_or_delete")
        )


async def test_events_verify_and_checkpoint_on_an_intact_log(
    seeded: AsyncEngine, database_url: str
) -> None:
    async with seeded.connect() as conn:
        events = await conn.scalar(text("SELECT count(*) FROM events"))
        streams = await conn.scalar(text("SELECT count(DISTINCT stream_id) FROM events"))
    result = await kmop(database_url, "events", "checkpoint")
    assert result.exit_code == 0, result.output
    assert result.output.startswith(f"Checkpoint 1: {events} events up to position ")
    result = await kmop(database_url, "events", "checkpoint")
    assert result.exit_code == 0, result.output
    assert "none recorded" in result.output
    result = await kmop(database_url, "events", "verify")
    assert result.exit_code == 0, result.output
    assert result.output == f"{events} events in {streams} streams, 1 checkpoints: intact\n"


async def test_events_verify_names_the_changed_event(
    seeded: AsyncEngine, database_url: str
) -> None:
    stream = f"unit:{unit(1).key}"
    async with seeded.connect() as conn:
        position = await conn.scalar(
            text("SELECT position FROM events WHERE stream_id = :s AND version = 2"),
            {"s": stream},
        )
    await superuser(
        seeded,
        f"UPDATE events SET metadata = '{{}}' WHERE position = {position}",
    )
    result = await kmop(database_url, "events", "verify")
    assert result.exit_code == 1, result.output
    assert "NOT intact" in result.output
    assert (
        f"event at position {position} (stream {stream}, version 2): "
        "hash does not match its content"
    ) in result.output


async def test_events_verify_catches_a_removed_stream_by_its_checkpoint(
    seeded: AsyncEngine, database_url: str
) -> None:
    assert (await kmop(database_url, "events", "checkpoint")).exit_code == 0
    await superuser(seeded, f"DELETE FROM events WHERE stream_id = 'unit:{unit(0).key}'")
    result = await kmop(database_url, "events", "verify")
    assert result.exit_code == 1, result.output
    assert "checkpoint 1 (up to position" in result.output
    assert "fewer events than it covered" in result.output


async def test_events_commands_refuse_to_run_without_a_key_in_production(
    database_url: str,
) -> None:
    for command in ("verify", "checkpoint"):
        result = await kmop(database_url, "events", command, environment="production")
        assert result.exit_code == 2, result.output
        assert "KMOP_CHECKPOINT_KEY is required in production" in result.output


async def test_projections_verify_on_intact_projections(
    seeded: AsyncEngine, database_url: str
) -> None:
    result = await kmop(database_url, "projections", "verify")
    assert result.exit_code == 0, result.output
    assert "tables equal a rebuild from" in result.output
    async with seeded.connect() as conn:  # the scratch schema is gone
        schemas = await conn.scalar(
            text("SELECT count(*) FROM pg_namespace WHERE nspname LIKE 'kmop_verify_%'")
        )
    assert schemas == 0


async def test_projections_verify_names_table_and_key_of_a_changed_row(
    seeded: AsyncEngine, database_url: str
) -> None:
    key = unit(1).key
    async with seeded.begin() as conn:
        await conn.execute(
            text("UPDATE registrations SET provider_name = 'Forged' WHERE unit_key = :k"),
            {"k": key},
        )
        await conn.execute(text("DELETE FROM bureaus"))
    result = await kmop(database_url, "projections", "verify")
    assert result.exit_code == 1, result.output
    assert "registrations: 1 rows differ" in result.output
    assert (
        f"registrations (unit_key={key}): differs from the events in provider_name "
        "(live 'Forged', from the events 'Provider b')"
    ) in result.output
    assert (
        f"bureaus (bureau_id={BUREAU_ID}): missing from the live table: the events give this row"
    ) in result.output


async def test_help_explains_the_commands() -> None:
    runner = CliRunner()
    result = await asyncio.to_thread(runner.invoke, cli, ["events", "--help"])
    assert result.exit_code == 0
    assert "verify" in result.output
    assert "checkpoint" in result.output
    assert "1 verification failed" in result.output
    result = await asyncio.to_thread(runner.invoke, cli, ["projections", "verify", "--help"])
    assert result.exit_code == 0
    assert "scratch schema" in result.output
