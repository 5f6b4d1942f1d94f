"""Verify the event log: every stream's hash chain, then the signed checkpoints.

Both walks read one snapshot (REPEATABLE READ) and stop at the first thing that does not
match, which is named: an event by its position, stream and version; a checkpoint by its
sequence and the position up to which it covers the log.

What a verification can and cannot show, for someone who can write the database directly
(a superuser who switches off the immutability triggers):

* An event changed in place, or removed from the middle of a stream: the chain breaks there.
* A changed event whose hash, and every later hash of its stream, is recomputed; a whole stream
  removed or added; an event inserted at a point the checkpoints already cover: the covering
  checkpoint's running hash no longer matches.
* A checkpoint changed or made up without the key: its signature does not match.
* Not shown: events appended (or a stream's tail cut off) after the newest checkpoint, with the
  hashes recomputed; the next checkpoint then signs them in. Nor the newest checkpoints removed
  together with the events after the one left: only a copy of the checkpoints kept elsewhere
  (the service logs each one) shows that.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from app.events.checkpoints import Checkpoint, key_id, read_checkpoints
from app.events.hashing import GENESIS, chain_hash, event_digest

_BY_STREAM = text(
    """
    SELECT position, event_id, stream_id, stream_type, version, event_type, schema_version,
           data, metadata, recorded_at, previous_hash, hash
    FROM events ORDER BY stream_id, version
    """
)
# Not "AS transaction_id": ORDER BY would bind to the text and walk "1000" before "999".
_BY_GLOBAL_ORDER = text(
    """
    SELECT CAST(transaction_id AS text) AS xid_text, position, hash
    FROM events ORDER BY transaction_id, position
    """
)


@dataclass(frozen=True, slots=True)
class Mismatch:
    """The first event or checkpoint that does not match, and what differs."""

    detail: str
    position: int | None = None
    stream_id: str | None = None
    version: int | None = None
    checkpoint: int | None = None  # its sequence

    def __str__(self) -> str:
        if self.checkpoint is not None:
            return f"checkpoint {self.checkpoint} (up to position {self.position}): {self.detail}"
        return (
            f"event at position {self.position} (stream {self.stream_id}, "
            f"version {self.version}): {self.detail}"
        )


@dataclass(slots=True)
class Verification:
    events: int = 0
    streams: int = 0
    checkpoints: int = 0
    uncovered: int = 0  # events after the newest checkpoint: only their chains were checked
    mismatch: Mismatch | None = None
    problems: list[Mismatch] = field(default_factory=list)

    @property
    def intact(self) -> bool:
        return self.mismatch is None

    def summary(self) -> str:
        head = f"{self.events} events in {self.streams} streams, {self.checkpoints} checkpoints"
        if self.mismatch is not None:
            return f"{head}: NOT intact"
        tail = f" ({self.uncovered} events after the newest checkpoint)" if self.uncovered else ""
        return f"{head}: intact{tail}"


async def verify_log(engine: AsyncEngine, key: bytes) -> Verification:
    """Walk every stream's chain, then every checkpoint; ``key`` checks the signatures."""
    report = Verification()
    async with engine.connect() as conn:
        await conn.execution_options(isolation_level="REPEATABLE READ")
        async with conn.begin():
            chain_problem = await _verify_chains(conn, report)
            checkpoints = await read_checkpoints(conn)
            report.checkpoints = len(checkpoints)
            checkpoint_problem = await _verify_checkpoints(conn, checkpoints, key, report)
    report.problems = [p for p in (chain_problem, checkpoint_problem) if p is not None]
    report.mismatch = report.problems[0] if report.problems else None
    return report


def _json(value: Any) -> dict[str, Any]:
    return json.loads(value) if isinstance(value, str | bytes) else dict(value)


def _check_event(row: Any, expected_version: int, expected_previous: bytes) -> str | None:
    if row.version != expected_version:
        missing = (
            f"version {expected_version}"
            if row.version == expected_version + 1
            else f"versions {expected_version} to {row.version - 1}"
        )
        return f"the stream's {missing} is missing (removed?)"
    if row.hash is None:
        return "it has no hash: written past the event store"
    if bytes(row.previous_hash) != expected_previous:
        if expected_version == 1:
            return "the first event of its stream does not start the chain (previous_hash)"
        return (
            f"its previous_hash is not the hash of version {expected_version - 1}: "
            "that event was changed or replaced"
        )
    digest = event_digest(
        event_id=row.event_id,
        stream_id=row.stream_id,
        stream_type=row.stream_type,
        version=row.version,
        event_type=row.event_type,
        schema_version=row.schema_version,
        data=_json(row.data),
        metadata=_json(row.metadata),
        recorded_at=row.recorded_at,
    )
    if chain_hash(expected_previous, digest) != bytes(row.hash):
        return "hash does not match its content"
    return None


async def _verify_chains(conn: AsyncConnection, report: Verification) -> Mismatch | None:
    stream, version, previous = None, 0, GENESIS
    found: Mismatch | None = None
    async for row in await conn.stream(_BY_STREAM):
        report.events += 1
        if row.stream_id != stream:
            stream, version, previous = row.stream_id, 0, GENESIS
            report.streams += 1
        if found is None:
            problem = _check_event(row, version + 1, previous)
            if problem is not None:
                found = Mismatch(problem, row.position, row.stream_id, row.version)
        version, previous = row.version, bytes(row.hash or b"")
    return found


def _check_signature(checkpoint: Checkpoint, key: bytes) -> str | None:
    if checkpoint.key_id != key_id(key):
        return (
            f"signed with another key (key id {checkpoint.key_id}, this service's is "
            f"{key_id(key)}): forged, or KMOP_CHECKPOINT_KEY is not the key that signed it"
        )
    if not checkpoint.signed_by(key):
        return "its signature does not match its content: forged or altered"
    return None


def _check_cover(checkpoint: Checkpoint, count: int, running: bytes) -> str | None:
    if count != checkpoint.event_count:
        difference = checkpoint.event_count - count
        change = f"{difference} fewer" if difference > 0 else f"{-difference} more"
        return (
            f"{change} events than it covered ({checkpoint.event_count}): "
            "events or whole streams were removed or inserted up to this position"
        )
    if running != checkpoint.running_hash:
        return (
            "the hashes of the events it covers differ from those it signed: an event up to "
            "this position was replaced, re-hashed or moved"
        )
    return None


async def _verify_checkpoints(
    conn: AsyncConnection, checkpoints: list[Checkpoint], key: bytes, report: Verification
) -> Mismatch | None:
    for expected, checkpoint in enumerate(checkpoints, start=1):
        if checkpoint.sequence != expected:
            return Mismatch(
                f"checkpoint {expected} is missing (removed?)",
                checkpoint.last_position,
                checkpoint=checkpoint.sequence,
            )
        problem = _check_signature(checkpoint, key)
        if problem is not None:
            return Mismatch(problem, checkpoint.last_position, checkpoint=checkpoint.sequence)
    # One walk in the global order, closing each checkpoint once past its last event.
    pending = iter(checkpoints)
    current = next(pending, None)
    digest, count = hashlib.sha256(GENESIS), 0
    async for row in await conn.stream(_BY_GLOBAL_ORDER):
        while current is not None and (int(row.xid_text), row.position) > current.last:
            problem = _check_cover(current, count, digest.digest())
            if problem is not None:
                return Mismatch(problem, current.last_position, checkpoint=current.sequence)
            digest = hashlib.sha256(current.running_hash)
            current = next(pending, None)
        digest.update(row.hash or b"")
        count += 1
        if current is None:
            report.uncovered += 1
    while current is not None:  # checkpoints past the end of what is left of the log
        problem = _check_cover(current, count, digest.digest())
        if problem is not None:
            return Mismatch(problem, current.last_position, checkpoint=current.sequence)
        digest = hashlib.sha256(current.running_hash)
        current = next(pending, None)
    return None
