"""Property: any untampered history verifies intact, and every checkpoint counts exactly the
events it covers, wherever the transaction ids are.

Each example is a fresh database on this module's fresh cluster: appends to a few streams, some
in transactions that take their id before an other's and commit after it (positions then run
against the global order), transaction ids burnt in between, checkpoints anywhere. The first
examples start below 1,000 and `cross` steps burn to just below the next power of ten (up to a
million: burning is cheap), so crossings happen inside checkpoints' ranges."""

from __future__ import annotations

from dataclasses import dataclass

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from app.events import EventStore
from app.events.checkpoints import record_checkpoint
from app.events.verify import verify_log
from app.runtime import db
from tests.conftest import PgServer
from tests.events import Noted, make_registry
from tests.xid.conftest import burn_until, next_xid

REGISTRY = make_registry()
KEY = b"property-checkpoint-key"
STREAMS = ("a", "b", "c")


@dataclass(frozen=True)
class Append:
    stream: int
    events: int


@dataclass(frozen=True)
class Overtaken:
    """Two appends: the first transaction takes its id, the second commits, then the first."""

    first: int
    second: int


@dataclass(frozen=True)
class Burn:
    ids: int


@dataclass(frozen=True)
class Cross:
    below: int  # burn to this far below the next power of ten


@dataclass(frozen=True)
class Checkpoint:
    pass


STEPS = st.one_of(
    st.builds(Append, st.integers(0, len(STREAMS) - 1), st.integers(1, 3)),
    st.builds(Overtaken, st.integers(0, len(STREAMS) - 1), st.integers(0, len(STREAMS) - 1)),
    st.builds(Burn, st.integers(1, 60)),
    st.builds(Cross, st.integers(1, 4)),
    st.just(Checkpoint()),
)


class History:
    def __init__(self, engine: AsyncEngine, dsn: str) -> None:
        self.engine, self.dsn = engine, dsn
        self.versions = dict.fromkeys(STREAMS, 0)
        self.covered = 0  # events the newest checkpoint covers

    async def append(self, conn: object, stream: str, events: int) -> None:
        store = EventStore(conn, REGISTRY)  # type: ignore[arg-type]
        texts = [f"{stream}{self.versions[stream] + n}" for n in range(1, events + 1)]
        await store.append(stream, "note", self.versions[stream], [Noted(text=t) for t in texts])
        self.versions[stream] += events

    async def run(self, step: object) -> None:
        match step:
            case Append(stream, events):
                async with self.engine.begin() as conn:
                    await self.append(conn, STREAMS[stream], events)
            case Overtaken(first, second):
                async with self.engine.begin() as early:
                    await early.execute(text("SELECT pg_current_xact_id()"))
                    async with self.engine.begin() as late:
                        await self.append(late, STREAMS[second], 1)
                    if first == second:
                        first = (first + 1) % len(STREAMS)
                    await self.append(early, STREAMS[first], 1)
            case Burn(ids):
                await burn_until(self.dsn, await next_xid(self.dsn) + ids)
            case Cross(below):
                now = await next_xid(self.dsn)
                power = 10 ** len(str(now))
                if power <= 1_000_000:
                    await burn_until(self.dsn, power - below)
            case Checkpoint():
                async with self.engine.connect() as conn:
                    total = await conn.scalar(text("SELECT count(*) FROM events"))
                recorded = await record_checkpoint(self.engine, KEY)
                if total == self.covered:
                    assert recorded is None
                else:  # nothing else runs on this cluster: every event is below the horizon
                    assert recorded is not None
                    self.covered = recorded.event_count
                    assert self.covered == total


@settings(
    max_examples=15,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(steps=st.lists(STEPS, min_size=1, max_size=12))
async def test_an_untampered_history_verifies_and_checkpoints_count_what_they_cover(
    pg_server: PgServer, steps: list[object]
) -> None:
    name = await pg_server.create_database()
    engine = db.make_engine(pg_server.url(name), pool_size=3, max_overflow=0)
    try:
        history = History(engine, pg_server.dsn())
        for step in steps:
            await history.run(step)
        await history.run(Checkpoint())
        report = await verify_log(engine, KEY)
        assert report.intact, (report.mismatch, steps)
        assert report.uncovered == 0
        assert report.events == sum(history.versions.values())
    finally:
        await engine.dispose()
        await pg_server.drop_database(name)
