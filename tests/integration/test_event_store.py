"""The store on a real PostgreSQL: append, read, concurrency, immutability, upcasting."""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

from app.events import ConcurrencyConflict, EventMetadata, EventStore, UnknownPosition
from app.events.errors import StreamTypeMismatch
from app.events.metadata import Actor
from tests.events import Noted, Renamed, make_registry

REGISTRY = make_registry()


async def append(engine: AsyncEngine, stream: str, expected: int, *texts: str) -> None:
    async with engine.begin() as conn:
        await EventStore(conn, REGISTRY).append(
            stream, "note", expected, [Noted(text=t) for t in texts]
        )


async def read_stream(engine: AsyncEngine, stream: str, **kwargs: object) -> list[str]:
    async with engine.connect() as conn:
        events = await EventStore(conn, REGISTRY).read_stream(stream, **kwargs)  # type: ignore[arg-type]
    return [e.event.text for e in events]  # type: ignore[attr-defined]


async def test_append_then_read_stream_in_version_order(engine: AsyncEngine) -> None:
    metadata = EventMetadata(
        actor=Actor(id="client-1", role="agency"),
        correlation_id="req-1",
        causation_id="cmd-1",
        idempotency_key="key-1",
    )
    async with engine.begin() as conn:
        result = await EventStore(conn, REGISTRY).append(
            "s-1", "note", 0, [Noted(text="a"), Noted(text="b")], metadata
        )
    assert result.version == 2
    assert len(result.positions) == 2
    assert result.positions[0] < result.positions[1]
    await append(engine, "s-1", 2, "c")

    async with engine.connect() as conn:
        events = await EventStore(conn, REGISTRY).read_stream("s-1")
    assert [e.version for e in events] == [1, 2, 3]
    assert [e.event for e in events] == [Noted(text="a"), Noted(text="b"), Noted(text="c")]
    assert events[0].metadata == metadata
    assert events[0].stream_type == "note"
    assert events[0].event_type == "Noted"
    assert events[0].recorded_at.tzinfo is not None
    assert len({e.event_id for e in events}) == 3


async def test_read_stream_up_to_a_version_and_as_of_a_time(engine: AsyncEngine) -> None:
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    async with engine.begin() as conn:
        store = EventStore(conn, REGISTRY)
        await store.append("s", "note", 0, [Noted(text="a")], recorded_at=t0)
        await store.append("s", "note", 1, [Noted(text="b")], recorded_at=t0 + timedelta(days=1))
        await store.append("s", "note", 2, [Noted(text="c")], recorded_at=t0 + timedelta(days=2))
    assert await read_stream(engine, "s", up_to=2) == ["a", "b"]
    assert await read_stream(engine, "s", as_of=t0 + timedelta(hours=30)) == ["a", "b"]
    assert await read_stream(engine, "s", as_of=t0 - timedelta(seconds=1)) == []
    assert await read_stream(engine, "unknown") == []


async def test_wrong_expected_version_is_a_conflict_and_writes_nothing(
    engine: AsyncEngine,
) -> None:
    await append(engine, "s", 0, "a", "b")
    for expected in (0, 1, 3):
        with pytest.raises(ConcurrencyConflict) as info:
            await append(engine, "s", expected, "x", "y")
        assert info.value.expected_version == expected
    assert await read_stream(engine, "s") == ["a", "b"]


async def test_conflict_reports_the_actual_version(engine: AsyncEngine) -> None:
    await append(engine, "s", 0, "a", "b")
    with pytest.raises(ConcurrencyConflict) as info:
        await append(engine, "s", 5, "x")
    assert info.value.actual_version == 2


async def test_a_stream_keeps_its_type(engine: AsyncEngine) -> None:
    await append(engine, "s", 0, "a")
    async with engine.begin() as conn:
        with pytest.raises(StreamTypeMismatch):
            await EventStore(conn, REGISTRY).append("s", "other", 1, [Noted(text="b")])
        # Refused by the statement itself, not only by the check after it: nothing was written.
        assert await conn.scalar(text("SELECT count(*) FROM events")) == 1


@pytest.mark.parametrize("expected", [0, 3])
async def test_racing_writers_with_the_same_expected_version_exactly_one_wins(
    engine: AsyncEngine, expected: int
) -> None:
    if expected:
        await append(engine, "s", 0, "seed-1", "seed-2", "seed-3")
    writers = 8
    loaded = asyncio.Barrier(writers)  # every writer decides on the same state before appending

    async def writer(n: int) -> bool:
        try:
            async with engine.begin() as conn:
                store = EventStore(conn, REGISTRY)
                version = len(await store.read_stream("s"))
                await loaded.wait()
                new = [Noted(text=f"w{n}-{i}") for i in range(3)]
                await store.append("s", "note", version, new)
            return True
        except ConcurrencyConflict:
            return False

    results = await asyncio.gather(*(writer(n) for n in range(writers)))
    assert results.count(True) == 1
    winner = results.index(True)
    seeds = [f"seed-{i}" for i in range(1, expected + 1)]
    assert await read_stream(engine, "s") == seeds + [f"w{winner}-{i}" for i in range(3)]


async def _wait_until_blocked_on_a_lock(engine: AsyncEngine, pid: int) -> None:
    async with engine.connect() as conn:
        async with asyncio.timeout(10):
            while not await conn.scalar(
                text("SELECT wait_event_type = 'Lock' FROM pg_stat_activity WHERE pid = :pid"),
                {"pid": pid},
            ):
                await conn.rollback()
                await asyncio.sleep(0.01)  # polling with a deadline, not a stand-in for sync


async def test_a_writer_racing_an_uncommitted_append_fails_when_it_commits(
    engine: AsyncEngine,
) -> None:
    """The loser is already inside its insert when the winner commits: the key decides."""
    async with engine.connect() as a_conn, engine.connect() as b_conn:
        a_tx = await a_conn.begin()
        await EventStore(a_conn, REGISTRY).append("s", "note", 0, [Noted(text="a")])
        b_tx = await b_conn.begin()
        b_pid = await b_conn.scalar(text("SELECT pg_backend_pid()"))
        b_append = asyncio.ensure_future(
            EventStore(b_conn, REGISTRY).append("s", "note", 0, [Noted(text="b")])
        )
        await _wait_until_blocked_on_a_lock(engine, b_pid)
        await a_tx.commit()
        with pytest.raises(ConcurrencyConflict):
            await b_append
        await b_tx.rollback()
    assert await read_stream(engine, "s") == ["a"]


async def test_read_all_pages_through_everything_once(engine: AsyncEngine) -> None:
    for n in range(5):
        await append(engine, f"s-{n}", 0, *(f"{n}-{i}" for i in range(3)))
    seen: list[int] = []
    after = 0
    async with engine.connect() as conn:
        store = EventStore(conn, REGISTRY)
        while page := await store.read_all(after=after, limit=4):
            seen += [e.position for e in page]
            after = page[-1].position
        positions = (await conn.execute(text("SELECT position FROM events"))).scalars().all()
    assert sorted(seen) == sorted(positions)
    assert len(seen) == 15


async def test_read_all_after_an_unknown_position_is_an_error(engine: AsyncEngine) -> None:
    await append(engine, "s", 0, "a")
    async with engine.connect() as conn:
        with pytest.raises(UnknownPosition):
            await EventStore(conn, REGISTRY).read_all(after=999_999)


async def test_read_all_withholds_a_commit_that_could_still_be_preceded(
    engine: AsyncEngine,
) -> None:
    """The bug class of a plain ``position > after`` reader, forced deterministically.

    A appends first (lower position) and commits last; B appends and commits in between. A
    position-ordered reader returns B's event, moves its cursor past it and never sees A's.
    """
    async with engine.connect() as a_conn, engine.connect() as reader_conn:
        reader = EventStore(reader_conn, REGISTRY)
        a_tx = await a_conn.begin()
        await EventStore(a_conn, REGISTRY).append("a", "note", 0, [Noted(text="a")])
        await append(engine, "b", 0, "b")  # commits while A is still open

        # A naive reader sees B's event now, and would next ask for positions above it.
        naive = (
            await reader_conn.execute(text("SELECT position, stream_id FROM events ORDER BY 1"))
        ).all()
        await reader_conn.rollback()
        assert [row.stream_id for row in naive] == ["b"]
        b_position = naive[0].position

        assert await reader.read_all(after=0) == []  # ours waits for A to finish
        await reader_conn.rollback()
        await a_tx.commit()

        events = await reader.read_all(after=0)
        assert [e.stream_id for e in events] == ["a", "b"]
        a_position = events[0].position
        assert a_position < b_position  # exactly what a position > after reader would skip


async def test_global_order_follows_transactions_not_positions(engine: AsyncEngine) -> None:
    """A transaction that started writing first sorts first, even with a higher position."""
    async with engine.connect() as a_conn, engine.connect() as reader_conn:
        a_tx = await a_conn.begin()
        await a_conn.execute(text("SELECT pg_current_xact_id()"))  # A takes its xid now
        await append(engine, "b", 0, "b")  # B: later xid, lower position, commits first
        assert await EventStore(reader_conn, REGISTRY).read_all() == []
        await reader_conn.rollback()
        await EventStore(a_conn, REGISTRY).append("a", "note", 0, [Noted(text="a")])
        await a_tx.commit()
        events = await EventStore(reader_conn, REGISTRY).read_all()
    assert [e.stream_id for e in events] == ["a", "b"]
    assert events[0].position > events[1].position
    # A follower that stored B's position as its cursor gets nothing again, and nothing is lost:
    async with engine.connect() as conn:
        assert await EventStore(conn, REGISTRY).read_all(after=events[1].position) == []
        tail = await EventStore(conn, REGISTRY).read_all(after=events[0].position)
    assert [e.stream_id for e in tail] == ["b"]


@pytest.mark.parametrize(
    "statement",
    [
        'UPDATE events SET data = \'{"text": "forged"}\'',
        "DELETE FROM events",
        "TRUNCATE events",
        "TRUNCATE events CASCADE",
    ],
)
async def test_events_cannot_be_changed_or_removed(engine: AsyncEngine, statement: str) -> None:
    await append(engine, "s", 0, "original")
    with pytest.raises(DBAPIError, match="events are immutable"):
        async with engine.begin() as conn:
            await conn.execute(text(statement))
    assert await read_stream(engine, "s") == ["original"]


async def test_immutability_holds_in_replica_mode_too(engine: AsyncEngine) -> None:
    await append(engine, "s", 0, "original")
    async with engine.connect() as conn:
        await conn.execute(text("SET session_replication_role = replica"))
        with pytest.raises(DBAPIError, match="events are immutable"):
            await conn.execute(text("DELETE FROM events"))
        await conn.rollback()
        await conn.execute(text("RESET session_replication_role"))
    assert await read_stream(engine, "s") == ["original"]


async def test_an_insert_cannot_choose_its_transaction_id(engine: AsyncEngine) -> None:
    """A forged low transaction id would sort an event behind every follower's cursor."""
    await append(engine, "s", 0, "a")
    async with engine.begin() as conn:
        await conn.execute(
            text(
                "INSERT INTO events (transaction_id, event_id, stream_id, stream_type, version,"
                " event_type, schema_version, data) VALUES ('5', :id, 't', 'note', 1, 'Noted', 1,"
                ' \'{"text": "forged"}\')'
            ),
            {"id": uuid.uuid4()},
        )
    async with engine.connect() as conn:
        ids = (
            await conn.execute(text("SELECT transaction_id::text FROM events ORDER BY position"))
        ).scalars()
        assert all(int(xid) > 5 for xid in ids)
        events = await EventStore(conn, REGISTRY).read_all()
    assert [e.stream_id for e in events] == ["s", "t"]


async def test_events_appended_in_a_savepoint_follow_their_transaction(
    engine: AsyncEngine,
) -> None:
    async with engine.connect() as a_conn, engine.connect() as reader_conn:
        a_tx = await a_conn.begin()
        await EventStore(a_conn, REGISTRY).append("a", "note", 0, [Noted(text="a1")])
        await append(engine, "b", 0, "b")  # a later transaction commits first
        async with a_conn.begin_nested():  # a savepoint gets its own subtransaction id
            await EventStore(a_conn, REGISTRY).append("a", "note", 1, [Noted(text="a2")])
        assert await EventStore(reader_conn, REGISTRY).read_all() == []
        await reader_conn.rollback()
        await a_tx.commit()
        events = await EventStore(reader_conn, REGISTRY).read_all()
    assert [e.event.text for e in events] == ["a1", "a2", "b"]  # type: ignore[attr-defined]


async def test_a_hand_written_old_row_is_read_as_the_current_class(engine: AsyncEngine) -> None:
    async with engine.begin() as conn:
        await conn.execute(
            text(
                "INSERT INTO events (event_id, stream_id, stream_type, version, event_type,"
                " schema_version, data) VALUES (:id, 'p', 'person', 1, 'Renamed', 1, :data)"
            ),
            {"id": uuid.uuid4(), "data": json.dumps({"name": "Jan Janssens"})},
        )
    async with engine.connect() as conn:
        [event] = await EventStore(conn, REGISTRY).read_stream("p")
    assert event.event == Renamed(first_name="Jan", last_name="Janssens")
    assert event.stored_schema_version == 1


async def test_as_of_is_a_prefix_of_the_stream_even_when_clocks_disagree(
    engine: AsyncEngine,
) -> None:
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    async with engine.begin() as conn:
        store = EventStore(conn, REGISTRY)
        await store.append("s", "note", 0, [Noted(text="a")], recorded_at=t0)
        await store.append("s", "note", 1, [Noted(text="b")], recorded_at=t0 + timedelta(hours=2))
        # a writer whose clock lags: a later version with an earlier time
        await store.append("s", "note", 2, [Noted(text="c")], recorded_at=t0 + timedelta(hours=1))
    assert await read_stream(engine, "s", as_of=t0 + timedelta(hours=1)) == ["a"]
    assert await read_stream(engine, "s", as_of=t0 + timedelta(hours=2)) == ["a", "b", "c"]
