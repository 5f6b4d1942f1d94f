"""The append: one statement that checks the stream's version, chains each new event's hash and
inserts the events (``prepare_append``), alone or with the other writes of a command
(``append_with``)."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import text

from app.domain.event import DomainEvent
from app.events.errors import ConcurrencyConflict, StreamTypeMismatch
from app.events.hashing import GENESIS, event_digest
from app.events.metadata import EventMetadata
from app.events.registry import EventRegistry
from app.runtime.pg import Statement, statement, together

# The previous event's hash is read with the stream's head, in the statement whose version check
# serialises appends to the stream; each new event's hash chains to it (``app.events.hashing``):
# the digests come from Python, the chaining is SQL's sha256 over 64 bytes. In three parts, so
# that a command can send the other writes of its transaction in the same statement
# (``append_with``): the common table expressions, the result's columns, and its rows.
_APPEND_WITH = """
    head AS (
        SELECT coalesce(max(version), 0) AS version,
               (array_agg(stream_type))[1] AS stream_type,
               (array_agg(hash))[1] AS hash
        FROM (SELECT version, stream_type, hash FROM events WHERE stream_id = :stream_id
              ORDER BY version DESC LIMIT 1) AS last
    ), chain AS (
        SELECT 0::bigint AS n, NULL::bytea AS previous_hash,
               coalesce(head.hash, CAST(:genesis AS bytea)) AS hash
        FROM head
        UNION ALL
        SELECT chain.n + 1, chain.hash,
               sha256(chain.hash || (CAST(:digests AS bytea[]))[chain.n + 1])
        FROM chain WHERE chain.n < cardinality(CAST(:digests AS bytea[]))
    ), inserted AS (
        INSERT INTO events (event_id, stream_id, stream_type, version, event_type,
                            schema_version, data, metadata, recorded_at, previous_hash, hash)
        SELECT e.event_id, :stream_id, :stream_type, CAST(:expected AS integer) + e.n,
               e.event_type, e.schema_version, e.data, CAST(:metadata AS jsonb),
               CAST(:recorded_at AS timestamptz), chain.previous_hash, chain.hash
        FROM unnest(CAST(:event_ids AS uuid[]), CAST(:event_types AS text[]),
                    CAST(:schema_versions AS integer[]), CAST(:datas AS jsonb[]))
             WITH ORDINALITY AS e(event_id, event_type, schema_version, data, n)
             JOIN chain ON chain.n = e.n,
             head
        WHERE head.version = CAST(:expected AS integer)
          AND (head.stream_type IS NULL OR head.stream_type = :stream_type)
        RETURNING position, version, recorded_at
    )"""
_APPEND_COLUMNS = """head.version AS head_version, head.stream_type AS head_type,
           inserted.position, inserted.version, inserted.recorded_at"""
_APPEND_ROWS = "FROM head LEFT JOIN inserted ON true ORDER BY inserted.version"
_APPEND = text(f"WITH RECURSIVE {_APPEND_WITH} SELECT {_APPEND_COLUMNS} {_APPEND_ROWS}")
_APPEND_CTES = text(_APPEND_WITH)


@dataclass(frozen=True, slots=True)
class AppendResult:
    stream_id: str
    version: int  # the stream's version after the append
    positions: tuple[int, ...]


STREAM_VERSION_KEY = "events_stream_version_key"  # the unique (stream_id, version)


@dataclass(frozen=True, slots=True)
class PreparedAppend:
    """An append ready to send: its parameters, computed once (ids, digests), and how to read
    what the statement answers."""

    stream_id: str
    stream_type: str
    expected_version: int
    count: int
    params: dict[str, Any]

    def result(self, rows: Sequence[Any]) -> AppendResult:
        """The append's rows (``head_version``, ``head_type``, ``position``, ...) as its
        result, or the conflict they show."""
        head = rows[0]
        if head["head_type"] is not None and head["head_type"] != self.stream_type:
            raise StreamTypeMismatch(self.stream_id, head["head_type"], self.stream_type)
        if head["position"] is None:
            raise ConcurrencyConflict(self.stream_id, self.expected_version, head["head_version"])
        return AppendResult(
            self.stream_id,
            self.expected_version + self.count,
            tuple(row["position"] for row in rows),
        )


def prepare_append(
    registry: EventRegistry,
    stream_id: str,
    stream_type: str,
    expected_version: int,
    events: Sequence[DomainEvent],
    metadata: EventMetadata | None = None,
    *,
    recorded_at: datetime | None = None,
) -> PreparedAppend:
    """The parameters of the append of ``events`` (at least one) at ``expected_version + 1 ...``
    with their hash chain's digests."""
    if expected_version < 0:
        raise ValueError("expected_version must be >= 0")
    if not events:
        raise ValueError("nothing to append")
    serialized = [registry.serialize(event) for event in events]
    # The time is fixed here, not by the database, because the hash covers it.
    at = _utc(recorded_at or datetime.now(UTC))
    meta = (metadata or EventMetadata()).model_dump_json(exclude_none=True)
    meta_object = json.loads(meta)
    event_ids = [uuid.uuid4() for _ in events]
    digests = [
        event_digest(
            event_id=event_id,
            stream_id=stream_id,
            stream_type=stream_type,
            version=expected_version + n,
            event_type=event_type,
            schema_version=schema_version,
            data=data,
            metadata=meta_object,
            recorded_at=at,
        )
        for n, (event_id, (event_type, schema_version, data)) in enumerate(
            zip(event_ids, serialized, strict=True), start=1
        )
    ]
    params = {
        "stream_id": stream_id,
        "stream_type": stream_type,
        "expected": expected_version,
        "metadata": meta,
        "recorded_at": at,
        "event_ids": event_ids,
        "event_types": [event_type for event_type, _, _ in serialized],
        "schema_versions": [version for _, version, _ in serialized],
        "datas": [json.dumps(data, separators=(",", ":")) for _, _, data in serialized],
        "digests": digests,
        "genesis": GENESIS,
    }
    return PreparedAppend(stream_id, stream_type, expected_version, len(events), params)


def append_with(append: PreparedAppend, others: Sequence[Statement]) -> Statement:
    """One statement that appends and makes the other writes of the same transaction, each a
    data-modifying common table expression (``w1``, ``w2``, ...) beside the append's: one round
    trip for all the writes of a command. Its rows are the append's (``PreparedAppend.result``)
    with, as column ``wN``, the first value the N-th other statement returns (``RETURNING``).

    The others must not touch one row twice, nor rows the append touches: all parts of one
    statement see the same snapshot and none sees another's changes."""
    sqls, args = together([statement(_APPEND_CTES, append.params), *others])
    return Statement(_append_with(tuple(sqls)), tuple(args))


@lru_cache(maxsize=256)
def _append_with(sqls: tuple[str, ...]) -> str:
    ctes = ", ".join([sqls[0], *(f"w{n} AS ({sql})" for n, sql in enumerate(sqls[1:], 1))])
    values = "".join(
        f", (SELECT * FROM w{n} LIMIT 1) AS w{n}"
        for n, sql in enumerate(sqls[1:], 1)
        if _RETURNING.search(sql)
    )
    return f"WITH RECURSIVE {ctes} SELECT {_APPEND_COLUMNS}{values} {_APPEND_ROWS}"


_RETURNING = re.compile(r"\bRETURNING\b", re.IGNORECASE)


def _utc(instant: datetime) -> datetime:
    """A naive time is taken as UTC (as asyncpg does for timestamptz)."""
    return instant if instant.tzinfo is not None else instant.replace(tzinfo=UTC)
