"""Every walk of the global order on a log whose transaction ids cross 1,000 and 10,000: the
store's read_all and feed, the signed checkpoints and their verification (in Python and through
`kmop events checkpoint|verify`), and the projection rebuild.

The history is made once per module through the service (units registered on both sides of each
boundary, a checkpoint whose range straddles each one) and copied for every test."""

from __future__ import annotations

import asyncio
import hashlib
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import date

import asyncpg
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from app.domain.bureaus import AppointAuditBureau
from app.domain.decider import StopRegistration
from app.domain.identifiers import EnterpriseNumber, RegistrationUnit, ServiceType
from app.events import EventStore
from app.events.catalog import REGISTRY
from app.events.checkpoints import read_checkpoints, record_checkpoint
from app.events.hashing import GENESIS
from app.events.projections import PROJECTION_TABLES, Projector
from app.events.rebuild import rebuild_projections
from app.events.verify import verify_log
from app.runtime import db
from app.services.clock import FixedClock
from app.services.registrations import RegistrationService
from tests.conftest import PgServer
from tests.integration.test_demo import projections
from tests.integration.test_service import AGENCY, BUREAU_ID, START, register
from tests.integration.test_verify_cli import KEY as CLI_KEY
from tests.integration.test_verify_cli import kmop
from tests.xid.conftest import burn_until

KEY = CLI_KEY.encode()  # the key `kmop` signs with in these tests
XID = "CAST(CAST(transaction_id AS text) AS bigint)"
IN_GLOBAL_ORDER = (
    f"SELECT position, {XID} AS xid, hash FROM events ORDER BY transaction_id, position"
)


@dataclass(frozen=True)
class CrossedHistory:
    template: str  # a database to copy
    covered: list[int]  # each checkpoint's events since the beginning, as recorded
    events: int


def unit(n: int) -> RegistrationUnit:
    return RegistrationUnit(EnterpriseNumber.with_check_digits(4_170_000 + n), ServiceType.TRAINING)


async def _make_history(server: PgServer) -> CrossedHistory:
    name = await server.create_database()
    engine = db.make_engine(server.url(name), pool_size=2, max_overflow=0)
    clock = FixedClock(START)
    service = RegistrationService(engine, clock=clock, projector=Projector(number_base=1))
    covered: list[int] = []

    async def checkpoint() -> None:
        async with engine.connect() as conn:
            covered.append(int(await conn.scalar(text("SELECT count(*) FROM events")) or 0))
        assert await record_checkpoint(engine, KEY) is not None

    try:
        bureau = AppointAuditBureau(
            bureau_id=BUREAU_ID,
            name="Kiwa Belgium",
            enterprise_number=EnterpriseNumber.parse("0881285481"),
            appointed_from=date(2020, 1, 1),
        )
        await service.execute_bureau(bureau, AGENCY)
        await register(service, clock, unit(0), "u0")
        await checkpoint()  # below 1,000
        serial = 1
        for boundary in (1_000, 10_000):
            assert await burn_until(server.dsn(), boundary - 8) == boundary - 8
            for _ in range(3):  # 6 transactions each: the second one crosses
                await register(service, clock, unit(serial), f"u{serial}")
                serial += 1
            await service.execute(unit(serial - 3).key, StopRegistration("Misbruik"), AGENCY)
            await checkpoint()  # straddles the boundary
        await register(service, clock, unit(serial), f"u{serial}")  # after the last checkpoint
        async with engine.connect() as conn:
            events = int(await conn.scalar(text("SELECT count(*) FROM events")) or 0)
    finally:
        await engine.dispose()
    return CrossedHistory(template=name, covered=covered, events=events)


@pytest.fixture(scope="module")
def crossed(pg_server: PgServer) -> Iterator[CrossedHistory]:
    history = asyncio.run(_make_history(pg_server))
    yield history
    asyncio.run(pg_server.drop_database(history.template))


@pytest.fixture
async def crossed_engine(
    pg_server: PgServer, crossed: CrossedHistory
) -> AsyncIterator[tuple[AsyncEngine, str]]:
    """A copy of the crossed history (a copy keeps the events' transaction ids)."""
    name = f"kmop_test_{uuid.uuid4().hex[:12]}"
    conn = await asyncpg.connect(pg_server.dsn())
    try:
        await conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{crossed.template}"')
    finally:
        await conn.close()
    url = pg_server.url(name)
    engine = db.make_engine(url, pool_size=2, max_overflow=0)
    try:
        yield engine, url
    finally:
        await engine.dispose()
        await pg_server.drop_database(name)


async def in_global_order(engine: AsyncEngine) -> list[tuple[int, int, bytes]]:
    async with engine.connect() as conn:
        rows = await conn.execute(text(IN_GLOBAL_ORDER))
        return [(row.position, row.xid, bytes(row.hash)) for row in rows]


async def test_the_history_crosses_1000_and_10000_under_its_checkpoints(
    crossed_engine: tuple[AsyncEngine, str], crossed: CrossedHistory
) -> None:
    engine, _ = crossed_engine
    xids = [xid for _, xid, _ in await in_global_order(engine)]
    assert xids == sorted(xids)
    async with engine.connect() as conn:
        checkpoints = await read_checkpoints(conn)
    assert [c.event_count for c in checkpoints] == crossed.covered
    first, second, third = (c.last_transaction_id for c in checkpoints)
    assert xids[0] < first < 1_000 <= second < 10_000 <= third < xids[-1]
    assert any(first < x < 1_000 for x in xids), "checkpoint 2 covers 3-digit ids too"
    assert any(second < x < 10_000 for x in xids), "checkpoint 3 covers 4-digit ids too"


async def test_read_all_and_the_feed_walk_in_transaction_id_order(
    crossed_engine: tuple[AsyncEngine, str],
) -> None:
    engine, _ = crossed_engine
    expected = [position for position, _, _ in await in_global_order(engine)]
    async with engine.connect() as conn:
        store = EventStore(conn, REGISTRY)
        walked: list[int] = []
        while page := await store.read_all(after=walked[-1] if walked else 0, limit=7):
            walked += [event.position for event in page]
        followed: list[int] = []
        after = 0
        while not (feed := await store.read_feed(after=after, limit=7)).caught_up or feed.events:
            followed += [event.position for event in feed.events]
            after = feed.next_after
    assert walked == expected
    assert followed == expected


async def test_each_checkpoint_covers_exactly_the_events_up_to_its_last(
    crossed_engine: tuple[AsyncEngine, str], crossed: CrossedHistory
) -> None:
    engine, _ = crossed_engine
    log = await in_global_order(engine)
    async with engine.connect() as conn:
        checkpoints = await read_checkpoints(conn)
    running, done = GENESIS, 0
    for checkpoint in checkpoints:  # recomputed from the log in xid8 order, as documented
        covered = [(p, h) for p, x, h in log if (x, p) <= checkpoint.last]
        assert checkpoint.event_count == len(covered)
        assert checkpoint.last_position == covered[-1][0]
        digest = hashlib.sha256(running)
        for _, event_hash in covered[done:]:
            digest.update(event_hash)
        assert checkpoint.running_hash == digest.digest()
        running, done = checkpoint.running_hash, len(covered)

    report = await verify_log(engine, KEY)
    assert report.intact, report.mismatch
    assert report.uncovered == crossed.events - crossed.covered[-1] > 0
    newest = await record_checkpoint(engine, KEY)
    assert newest is not None
    assert newest.event_count == crossed.events
    assert newest.last_position == log[-1][0]
    assert (await verify_log(engine, KEY)).summary().endswith("4 checkpoints: intact")


async def test_verify_still_names_the_checkpoint_of_a_stream_removed_across_1000(
    crossed_engine: tuple[AsyncEngine, str],
) -> None:
    engine, _ = crossed_engine
    async with engine.begin() as conn:
        await conn.execute(text("ALTER TABLE events DISABLE TRIGGER events_no_update_or_delete"))
        await conn.execute(
            text("DELETE FROM events WHERE stream_id = :s"), {"s": f"unit:{unit(2).key}"}
        )
        await conn.execute(
            text("ALTER TABLE events ENABLE ALWAYS TRIGGER events_no_update_or_delete")
        )
    report = await verify_log(engine, KEY)
    assert report.mismatch is not None
    assert report.mismatch.checkpoint == 2
    assert "fewer events than it covered" in report.mismatch.detail


async def test_rebuild_replays_in_transaction_id_order(
    crossed_engine: tuple[AsyncEngine, str],
) -> None:
    engine, _ = crossed_engine
    before = await projections(engine)
    async with engine.connect() as conn:
        numbers = (
            (
                await conn.execute(
                    text(
                        "SELECT registration_number FROM registrations"
                        " WHERE registration_number IS NOT NULL ORDER BY registration_serial"
                    )
                )
            )
            .scalars()
            .all()
        )
    assert len(numbers) == 8
    report = await rebuild_projections(engine, Projector(number_base=1))
    assert report.events == len(await in_global_order(engine))
    assert await projections(engine) == before
    assert set(before) == set(PROJECTION_TABLES)


async def test_kmop_events_checkpoint_and_verify(
    crossed_engine: tuple[AsyncEngine, str], crossed: CrossedHistory
) -> None:
    engine, url = crossed_engine
    last = (await in_global_order(engine))[-1][0]
    result = await kmop(url, "events", "checkpoint")
    assert result.exit_code == 0, result.output
    assert result.output.startswith(f"Checkpoint 4: {crossed.events} events up to position {last},")
    result = await kmop(url, "events", "verify")
    assert result.exit_code == 0, result.output
    assert result.output.endswith(" 4 checkpoints: intact\n"), result.output
