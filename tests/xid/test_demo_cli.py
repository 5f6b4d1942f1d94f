"""The issue's done criterion, through the command line as an operator types it:
`kmop demo; kmop events checkpoint; kmop events verify` exits 0 on a fresh data folder (the
demo's transaction ids cross 1,000) and on one whose ids cross 10,000 during the demo."""

from __future__ import annotations

import asyncio
from pathlib import Path

import asyncpg
import pytest
from typer.testing import CliRunner, Result

from app.cli import EMBEDDED_DATABASE, cli
from app.runtime import embedded
from app.runtime.settings import get_settings
from tests.xid.conftest import burn_until


async def kmop(data_dir: Path, *args: str) -> Result:
    """The CLI with no database URL: the embedded PostgreSQL whose data is in ``data_dir``."""
    env = {
        "KMOP_DATA_DIR": str(data_dir),
        "KMOP_DATABASE_URL": None,
        "KMOP_ENVIRONMENT": "development",
        "KMOP_CHECKPOINT_KEY": None,
    }
    get_settings.cache_clear()
    try:
        return await asyncio.to_thread(CliRunner().invoke, cli, list(args), env=env)
    finally:
        get_settings.cache_clear()


async def xid_range(data_dir: Path) -> tuple[int, int]:
    server = embedded.start(data_dir / "postgres")
    try:
        conn = await asyncpg.connect(server.dsn(EMBEDDED_DATABASE))
        try:
            row = await conn.fetchrow(
                "SELECT min(CAST(CAST(transaction_id AS text) AS bigint)) AS first,"
                " max(CAST(CAST(transaction_id AS text) AS bigint)) AS last FROM events"
            )
        finally:
            await conn.close()
    finally:
        server.stop()
    return int(row["first"]), int(row["last"])


@pytest.mark.parametrize("boundary", [1_000, 10_000])
async def test_demo_checkpoint_verify_exits_0(tmp_path: Path, boundary: int) -> None:
    data_dir = tmp_path / "kmop"
    if boundary > 1_000:  # a data folder that has lived: burn ids so that the demo crosses
        server = embedded.start(data_dir / "postgres")
        try:
            await burn_until(server.dsn(), boundary - 150)
        finally:
            server.stop()

    demo = await kmop(data_dir, "demo")
    assert demo.exit_code == 0, demo.output
    checkpoint = await kmop(data_dir, "events", "checkpoint")
    assert checkpoint.exit_code == 0, checkpoint.output
    assert "Checkpoint 1: " in checkpoint.output
    verify = await kmop(data_dir, "events", "verify")
    assert verify.exit_code == 0, verify.output
    assert "1 checkpoints: intact" in verify.output

    first, last = await xid_range(data_dir)
    assert first < boundary <= last, "the demo's transaction ids cross the boundary"
