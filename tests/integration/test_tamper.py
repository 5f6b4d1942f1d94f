"""Tamper evidence: what a superuser who switches off the immutability triggers can change, and
what ``verify_log`` then shows (and, honestly, what it cannot show)."""

from __future__ import annotations

import hashlib
import json
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from app.events import EventStore
from app.events.checkpoints import key_id, record_checkpoint
from app.events.hashing import GENESIS, chain_hash, event_digest
from app.events.verify import Verification, verify_log
from app.runtime import db
from tests.conftest import PgServer
from tests.events import Noted, make_registry

REGISTRY = make_registry()
KEY = b"test-checkpoint-key"


async def append(engine: AsyncEngine, stream: str, expected: int, *texts: str) -> None:
    async with engine.begin() as conn:
        await EventStore(conn, REGISTRY).append(
            stream, "note", expected, [Noted(text=t) for t in texts]
        )


async def seed(engine: AsyncEngine) -> None:
    """Three streams of three events, in several transactions."""
    for stream in ("a", "b", "c"):
        await append(engine, stream, 0, f"{stream}1", f"{stream}2")
    for stream in ("a", "b", "c"):
        await append(engine, stream, 2, f"{stream}3")


async def as_superuser(engine: AsyncEngine, *statements: tuple[str, dict[str, Any]]) -> None:
    """Run statements with the immutability triggers off, as an attacker with the rights would."""
    async with engine.begin() as conn:
        await conn.execute(text("ALTER TABLE events DISABLE TRIGGER events_no_update_or_delete"))
        await conn.execute(
            text(
                "ALTER TABLE event_checkpoints"
                " DISABLE TRIGGER event_checkpoints_no_update_or_delete"
            )
        )
        for sql, params in statements:
            await conn.execute(text(sql), params)
        await conn.execute(
            text("ALTER TABLE events ENABLE ALWAYS TRIGGER events_no_update_or_delete")
        )
        await conn.execute(
            text(
                "ALTER TABLE event_checkpoints"
                " ENABLE ALWAYS TRIGGER event_checkpoints_no_update_or_delete"
            )
        )


async def position_of(engine: AsyncEngine, stream: str, version: int) -> int:
    async with engine.connect() as conn:
        position = await conn.scalar(
            text("SELECT position FROM events WHERE stream_id = :s AND version = :v"),
            {"s": stream, "v": version},
        )
    assert position is not None
    return int(position)


async def rows(conn: AsyncConnection, stream: str) -> list[Any]:
    result = await conn.execute(
        text("SELECT * FROM events WHERE stream_id = :s ORDER BY version"), {"s": stream}
    )
    return list(result)


def recomputed(row: Any, previous: bytes) -> bytes:
    """The hash as the attacker (or an auditor) computes it, from the row."""
    data = row.data if isinstance(row.data, dict) else json.loads(row.data)
    metadata = row.metadata if isinstance(row.metadata, dict) else json.loads(row.metadata)
    digest = event_digest(
        event_id=row.event_id,
        stream_id=row.stream_id,
        stream_type=row.stream_type,
        version=row.version,
        event_type=row.event_type,
        schema_version=row.schema_version,
        data=data,
        metadata=metadata,
        recorded_at=row.recorded_at,
    )
    return chain_hash(previous, digest)


def failed(report: Verification) -> str:
    assert not report.intact, report.summary()
    return str(report.mismatch)


async def test_an_intact_log_verifies_and_names_what_is_not_yet_checkpointed(
    engine: AsyncEngine,
) -> None:
    await seed(engine)
    first = await record_checkpoint(engine, KEY)
    assert first is not None
    assert (first.sequence, first.event_count) == (1, 9)
    assert await record_checkpoint(engine, KEY) is None  # nothing new
    await append(engine, "a", 3, "a4")
    report = await verify_log(engine, KEY)
    assert report.intact, report.mismatch
    assert (report.events, report.streams, report.checkpoints, report.uncovered) == (10, 3, 1, 1)
    assert report.summary() == (
        "10 events in 3 streams, 1 checkpoints: intact (1 events after the newest checkpoint)"
    )
    second = await record_checkpoint(engine, KEY)
    assert second is not None
    assert (second.sequence, second.event_count) == (2, 10)
    assert (await verify_log(engine, KEY)).uncovered == 0


async def test_an_outsider_recomputes_the_hash_from_the_documented_form(
    engine: AsyncEngine,
) -> None:
    at = datetime(2026, 3, 1, 12, 30, 15, 123456, tzinfo=UTC)
    async with engine.begin() as conn:
        await EventStore(conn, REGISTRY).append(
            "s", "note", 0, [Noted(text="één"), Noted(text='"x"', writer=2)], recorded_at=at
        )
    async with engine.connect() as conn:
        first, second = await rows(conn, "s")
    # The canonical form by hand, as app/events/hashing.py documents it.
    content = (
        '{"data":{"text":"één","writer":0},"event_id":"' + str(first.event_id) + '",'
        '"event_type":"Noted","metadata":{},"recorded_at":"2026-03-01T12:30:15.123456Z",'
        '"schema_version":1,"stream_id":"s","stream_type":"note","version":1}'
    ).encode()
    expected = hashlib.sha256(bytes(32) + hashlib.sha256(content).digest()).digest()
    assert bytes(first.previous_hash) == GENESIS
    assert bytes(first.hash) == expected
    assert bytes(second.previous_hash) == expected
    assert bytes(second.hash) == recomputed(second, expected)


async def test_a_changed_event_is_named(engine: AsyncEngine) -> None:
    await seed(engine)
    await record_checkpoint(engine, KEY)
    position = await position_of(engine, "b", 2)
    await as_superuser(
        engine,
        (
            "UPDATE events SET data = jsonb_set(data, '{text}', '\"forged\"') WHERE position = :p",
            {"p": position},
        ),
    )
    assert failed(await verify_log(engine, KEY)) == (
        f"event at position {position} (stream b, version 2): hash does not match its content"
    )


async def test_an_event_removed_from_the_middle_of_a_stream_is_caught(
    engine: AsyncEngine,
) -> None:
    await seed(engine)
    await as_superuser(engine, ("DELETE FROM events WHERE stream_id = 'c' AND version = 2", {}))
    position = await position_of(engine, "c", 3)
    assert failed(await verify_log(engine, KEY)) == (
        f"event at position {position} (stream c, version 3): "
        "the stream's version 2 is missing (removed?)"
    )


async def test_a_rehashed_stream_passes_its_chain_but_not_the_checkpoint(
    engine: AsyncEngine,
) -> None:
    await seed(engine)
    checkpoint = await record_checkpoint(engine, KEY)
    assert checkpoint is not None
    # The attacker changes a@2 and recomputes a@2's and a@3's hashes: the chain is whole again.
    await as_superuser(
        engine,
        (
            'UPDATE events SET data = \'{"text": "forged", "writer": 0}\''
            " WHERE stream_id = 'a' AND version = 2",
            {},
        ),
    )
    async with engine.connect() as conn:
        stored = await rows(conn, "a")
    previous, updates = GENESIS, []
    for row in stored:
        current = recomputed(row, previous)
        updates.append(
            (
                "UPDATE events SET previous_hash = :prev, hash = :hash WHERE position = :p",
                {"prev": previous, "hash": current, "p": row.position},
            )
        )
        previous = current
    await as_superuser(engine, *updates)
    report = await verify_log(engine, KEY)
    assert [p.checkpoint for p in report.problems] == [1]  # the chains are whole
    assert failed(report) == (
        f"checkpoint 1 (up to position {checkpoint.last_position}): the hashes of the events it "
        "covers differ from those it signed: an event up to this position was replaced, "
        "re-hashed or moved"
    )


async def test_a_whole_stream_removed_is_caught_by_the_checkpoint(engine: AsyncEngine) -> None:
    await seed(engine)
    checkpoint = await record_checkpoint(engine, KEY)
    assert checkpoint is not None
    await as_superuser(engine, ("DELETE FROM events WHERE stream_id = 'b'", {}))
    report = await verify_log(engine, KEY)
    assert (report.events, report.streams) == (6, 2)
    assert failed(report) == (
        f"checkpoint 1 (up to position {checkpoint.last_position}): 3 fewer events than it "
        "covered (9): events or whole streams were removed or inserted up to this position"
    )


async def test_a_forged_tail_after_the_newest_checkpoint_is_not_detectable(
    engine: AsyncEngine,
) -> None:
    """The honest limit: an attacker who writes correct hashes after the newest checkpoint
    leaves nothing to compare with; the next checkpoint then signs the forgery in."""
    await seed(engine)
    await record_checkpoint(engine, KEY)
    async with engine.begin() as conn:  # the store computes what an attacker would compute
        await EventStore(conn, REGISTRY).append("a", "note", 3, [Noted(text="forged")])
        await EventStore(conn, REGISTRY).append("z", "note", 0, [Noted(text="forged")])
    report = await verify_log(engine, KEY)
    assert report.intact
    assert report.uncovered == 2


async def test_a_forged_event_slipped_into_covered_history_is_caught(
    engine: AsyncEngine,
) -> None:
    await seed(engine)
    checkpoint = await record_checkpoint(engine, KEY)
    assert checkpoint is not None
    at = datetime(2026, 1, 1, tzinfo=UTC)
    event_id = uuid.uuid4()
    data = {"text": "forged", "writer": 0}
    digest = event_digest(
        event_id=event_id,
        stream_id="z",
        stream_type="note",
        version=1,
        event_type="Noted",
        schema_version=1,
        data=data,
        metadata={},
        recorded_at=at,
    )
    # A correct chain of its own, and a transaction id from before the checkpoint: the attacker
    # also switches off the trigger that stamps the writer's transaction.
    async with engine.begin() as conn:
        await conn.execute(text("ALTER TABLE events DISABLE TRIGGER events_stamp_transaction"))
        await conn.execute(
            text(
                "INSERT INTO events (transaction_id, event_id, stream_id, stream_type, version,"
                " event_type, schema_version, data, metadata, recorded_at, previous_hash, hash)"
                " VALUES ('3', :id, 'z', 'note', 1, 'Noted', 1, :data, '{}', :at, :prev, :hash)"
            ),
            {
                "id": event_id,
                "data": json.dumps(data),
                "at": at,
                "prev": GENESIS,
                "hash": chain_hash(GENESIS, digest),
            },
        )
        await conn.execute(
            text("ALTER TABLE events ENABLE ALWAYS TRIGGER events_stamp_transaction")
        )
    report = await verify_log(engine, KEY)
    assert report.streams == 4
    assert failed(report) == (
        f"checkpoint 1 (up to position {checkpoint.last_position}): 1 more events than it "
        "covered (9): events or whole streams were removed or inserted up to this position"
    )


async def test_a_forged_checkpoint_without_the_key_is_caught(engine: AsyncEngine) -> None:
    await seed(engine)
    await record_checkpoint(engine, KEY)
    await append(engine, "z", 0, "forged")
    # The attacker signs the forged tail in with a key of their own.
    forged = await record_checkpoint(engine, b"a guess at the key")
    assert forged is not None
    assert failed(await verify_log(engine, KEY)) == (
        f"checkpoint 2 (up to position {forged.last_position}): signed with another key "
        f"(key id {key_id(b'a guess at the key')}, this service's is {key_id(KEY)}): forged, "
        "or KMOP_CHECKPOINT_KEY is not the key that signed it"
    )
    # ... or keeps our key id and makes the signature up.
    await as_superuser(
        engine,
        (
            "UPDATE event_checkpoints SET key_id = :kid, signature = :sig WHERE sequence = 2",
            {"kid": key_id(KEY), "sig": bytes(32)},
        ),
    )
    assert failed(await verify_log(engine, KEY)) == (
        f"checkpoint 2 (up to position {forged.last_position}): "
        "its signature does not match its content: forged or altered"
    )


async def test_a_checkpoint_changed_to_cover_a_removal_is_caught(engine: AsyncEngine) -> None:
    await seed(engine)
    checkpoint = await record_checkpoint(engine, KEY)
    assert checkpoint is not None
    await as_superuser(
        engine,
        ("DELETE FROM events WHERE stream_id = 'b'", {}),
        ("UPDATE event_checkpoints SET event_count = 6 WHERE sequence = 1", {}),
    )
    assert "its signature does not match" in failed(await verify_log(engine, KEY))


async def test_a_removed_checkpoint_in_the_middle_is_caught(engine: AsyncEngine) -> None:
    await seed(engine)
    await record_checkpoint(engine, KEY)
    await append(engine, "a", 3, "a4")
    second = await record_checkpoint(engine, KEY)
    assert second is not None
    await as_superuser(engine, ("DELETE FROM event_checkpoints WHERE sequence = 1", {}))
    assert failed(await verify_log(engine, KEY)) == (
        f"checkpoint 2 (up to position {second.last_position}): checkpoint 1 is missing (removed?)"
    )


async def test_an_event_written_past_the_store_is_named(engine: AsyncEngine) -> None:
    await seed(engine)
    async with engine.begin() as conn:
        position = await conn.scalar(
            text(
                "INSERT INTO events (event_id, stream_id, stream_type, version, event_type,"
                " schema_version, data) VALUES (:id, 'a', 'note', 4, 'Noted', 1,"
                ' \'{"text": "by hand"}\') RETURNING position'
            ),
            {"id": uuid.uuid4()},
        )
    assert failed(await verify_log(engine, KEY)) == (
        f"event at position {position} (stream a, version 4): "
        "it has no hash: written past the event store"
    )


async def test_the_checkpoint_and_event_tables_refuse_changes(engine: AsyncEngine) -> None:
    await seed(engine)
    await record_checkpoint(engine, KEY)
    for sql in ("UPDATE event_checkpoints SET event_count = 1", "DELETE FROM event_checkpoints"):
        async with engine.begin() as conn:
            with pytest.raises(Exception, match="checkpoints are immutable"):
                await conn.execute(text(sql))


async def test_the_migration_hashes_existing_events_in_stream_order(pg_server: PgServer) -> None:
    name = await pg_server.create_database(from_template=False)
    url = pg_server.url(name)
    engine = db.make_engine(url)
    try:
        await db.upgrade_async(url, "0004")
        async with engine.begin() as conn:  # rows as the store wrote them before hashes
            for stream, version, body in [("b", 1, "b1"), ("a", 1, "a1"), ("a", 2, "a2")]:
                await conn.execute(
                    text(
                        "INSERT INTO events (event_id, stream_id, stream_type, version,"
                        " event_type, schema_version, data, metadata)"
                        " VALUES (:id, :s, 'note', :v, 'Noted', 1, :data, :meta)"
                    ),
                    {
                        "id": uuid.uuid4(),
                        "s": stream,
                        "v": version,
                        "data": json.dumps({"text": body, "writer": 0}),
                        "meta": json.dumps({"correlation_id": "r-1"}),
                    },
                )
        await db.upgrade_async(url)
        await append(engine, "a", 2, "a3")  # chains on to the backfilled hashes
        report = await verify_log(engine, KEY)
        assert report.intact, report.mismatch
        assert (report.events, report.streams) == (4, 2)
        await db.downgrade_async(url, "0004")
        async with engine.connect() as conn:
            assert await conn.scalar(text("SELECT to_regclass('event_checkpoints')")) is None
            assert await conn.scalar(text("SELECT count(*) FROM events")) == 4
    finally:
        await engine.dispose()
        await pg_server.drop_database(name)
