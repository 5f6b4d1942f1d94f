"""Signed checkpoints of the whole event log: what the per-stream chains cannot show.

A stream's hash chain (``app.events.hashing``) shows a changed, removed or inserted event
inside the stream, but not a whole stream removed or added, nor a stream's tail cut off. A
checkpoint covers every event up to a point in the global order (transaction_id, position),
below the horizon (``app.events.store``), so that nothing can later appear before that point:

* ``running_hash`` = SHA-256(previous checkpoint's running_hash || hash of each event after
  the previous checkpoint's last event, in the global order, up to and including this one's
  ``last_transaction_id, last_position``); 32 zero bytes before the first checkpoint.
* ``signature`` = HMAC-SHA256(key, canonical JSON of ``{"event_count", "key_id",
  "last_position", "last_transaction_id", "recorded_at", "running_hash" (lowercase hex),
  "sequence"}``) in the canonical JSON form of ``app.events.hashing``. The key
  (``KMOP_CHECKPOINT_KEY``) lives with the service, not in the database: whoever can write
  the database but lacks the key cannot make a checkpoint that verifies.

Checkpoints are numbered 1, 2, 3 … without gaps, and each is logged when recorded (a copy
outside the database: cutting off the newest checkpoints and the events after the one left
shows only against such a copy).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from app.events.hashing import GENESIS, canonical_json, utc_text

log = logging.getLogger(__name__)

CHECKPOINT_LOCK = 7_316_002  # pg_advisory_xact_lock key: one checkpoint writer at a time

_COLUMNS = """sequence, CAST(last_transaction_id AS text) AS last_xid_text, last_position,
    event_count, running_hash, key_id, signature, recorded_at"""
_LATEST = text(f"SELECT {_COLUMNS} FROM event_checkpoints ORDER BY sequence DESC LIMIT 1")
_ALL = text(f"SELECT {_COLUMNS} FROM event_checkpoints ORDER BY sequence")
# One statement, so one snapshot: the events after the last checkpoint, below the horizon.
# The text copy of the xid8 (asyncpg has no codec for it) must not be named transaction_id:
# ORDER BY would bind to that output column and walk "1000" before "999".
_EVENTS_AFTER = text(
    """
    SELECT CAST(transaction_id AS text) AS xid_text, position, hash FROM events
    WHERE (transaction_id, position) > (CAST(CAST(:xid AS text) AS xid8), :position)
      AND transaction_id < pg_snapshot_xmin(pg_current_snapshot())
    ORDER BY transaction_id, position
    """
)
_INSERT = text(
    """
    INSERT INTO event_checkpoints (sequence, last_transaction_id, last_position, event_count,
                                   running_hash, key_id, signature, recorded_at)
    VALUES (:sequence, CAST(CAST(:last_transaction_id AS text) AS xid8), :last_position,
            :event_count, :running_hash, :key_id, :signature, :recorded_at)
    """
)


@dataclass(frozen=True, slots=True)
class Checkpoint:
    sequence: int
    last_transaction_id: int
    last_position: int
    event_count: int  # events covered since the beginning of the log
    running_hash: bytes
    key_id: str
    signature: bytes
    recorded_at: datetime

    @property
    def last(self) -> tuple[int, int]:
        """The last event covered, as a key in the global order."""
        return (self.last_transaction_id, self.last_position)

    def statement(self) -> bytes:
        """What the signature signs."""
        return canonical_json(
            {
                "event_count": self.event_count,
                "key_id": self.key_id,
                "last_position": self.last_position,
                "last_transaction_id": self.last_transaction_id,
                "recorded_at": utc_text(self.recorded_at),
                "running_hash": self.running_hash.hex(),
                "sequence": self.sequence,
            }
        )

    def signed_by(self, key: bytes) -> bool:
        return hmac.compare_digest(self.signature, _sign(key, self.statement()))


def key_id(key: bytes) -> str:
    """Names a key without revealing it: tells "another key" from "forged"."""
    return hmac.new(key, b"kmop-checkpoint-key-id", hashlib.sha256).hexdigest()[:16]


def _sign(key: bytes, statement: bytes) -> bytes:
    return hmac.new(key, statement, hashlib.sha256).digest()


def checkpoint_from_row(row: Any) -> Checkpoint:
    return Checkpoint(
        sequence=row.sequence,
        last_transaction_id=int(row.last_xid_text),
        last_position=row.last_position,
        event_count=row.event_count,
        running_hash=bytes(row.running_hash),
        key_id=row.key_id,
        signature=bytes(row.signature),
        recorded_at=row.recorded_at,
    )


async def read_checkpoints(conn: AsyncConnection) -> list[Checkpoint]:
    return [checkpoint_from_row(row) for row in await conn.execute(_ALL)]


async def record_checkpoint(
    engine: AsyncEngine, key: bytes, *, now: datetime | None = None
) -> Checkpoint | None:
    """Sign the events committed since the last checkpoint; None when there are none."""
    async with engine.connect() as conn, conn.begin():
        await conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": CHECKPOINT_LOCK})
        row = (await conn.execute(_LATEST)).first()
        previous = checkpoint_from_row(row) if row is not None else None
        xid, position = previous.last if previous else (0, 0)
        digest = hashlib.sha256(previous.running_hash if previous else GENESIS)
        count, last = 0, None
        result = await conn.stream(_EVENTS_AFTER, {"xid": str(xid), "position": position})
        async for event in result:
            digest.update(event.hash or b"")  # no hash: verify names the event
            count += 1
            last = (int(event.xid_text), event.position)
        if last is None:
            return None
        unsigned = Checkpoint(
            sequence=(previous.sequence if previous else 0) + 1,
            last_transaction_id=last[0],
            last_position=last[1],
            event_count=(previous.event_count if previous else 0) + count,
            running_hash=digest.digest(),
            key_id=key_id(key),
            signature=b"",
            recorded_at=now or datetime.now(UTC),
        )
        checkpoint = replace(unsigned, signature=_sign(key, unsigned.statement()))
        await conn.execute(
            _INSERT,
            {
                "sequence": checkpoint.sequence,
                "last_transaction_id": str(checkpoint.last_transaction_id),
                "last_position": checkpoint.last_position,
                "event_count": checkpoint.event_count,
                "running_hash": checkpoint.running_hash,
                "key_id": checkpoint.key_id,
                "signature": checkpoint.signature,
                "recorded_at": checkpoint.recorded_at,
            },
        )
    # The copy outside the database: ship these lines somewhere the database's admins can't.
    log.info(
        "event log checkpoint %d: %d events up to position %d, running hash %s, signature %s",
        checkpoint.sequence,
        checkpoint.event_count,
        checkpoint.last_position,
        checkpoint.running_hash.hex(),
        checkpoint.signature.hex(),
    )
    return checkpoint


async def record_checkpoints_periodically(
    engine: AsyncEngine, key: bytes, interval_seconds: float
) -> None:
    """The service's checkpoint job: one now, then one every interval."""
    while True:
        try:
            await record_checkpoint(engine, key)
        except Exception:
            log.exception("could not record an event log checkpoint; trying again later")
        await asyncio.sleep(interval_seconds)
