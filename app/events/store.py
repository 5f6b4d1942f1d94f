"""The PostgreSQL event store: ``append``, ``read_stream`` and ``read_all``.

The store works inside a connection whose transaction the caller owns (one unit of work per
command), so loading, deciding, appending and projecting commit or fail together.

Two guarantees, both enforced by PostgreSQL rather than by convention:

* **Optimistic concurrency.** ``append`` writes versions ``expected+1 ..`` only if the stream's
  last version is ``expected``; the unique key (stream_id, version) makes the loser of a race
  fail when the winner commits. Either all events of an append are written or none.
* **Readers of all events never skip one.** Positions come from an identity column and are handed
  out in insert order, but transactions commit in any order. ``read_all`` therefore orders by
  (transaction_id, position) and returns only events of transactions older than the reader's
  snapshot xmin: every transaction below xmin has finished, so nothing can later appear before
  the reader's cursor. Writers take no shared lock. (The technique of Emmett and Marten.)
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import TextClause, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from app.domain.event import DomainEvent
from app.events.errors import ConcurrencyConflict, StreamTypeMismatch, UnknownPosition
from app.events.metadata import EventMetadata
from app.events.registry import EventRegistry

_COLUMNS = """position, event_id, stream_id, stream_type, version, event_type, schema_version,
    data, metadata, recorded_at"""

_APPEND = text(
    """
    WITH head AS (
        SELECT coalesce(max(version), 0) AS version,
               (array_agg(stream_type))[1] AS stream_type
        FROM (SELECT version, stream_type FROM events WHERE stream_id = :stream_id
              ORDER BY version DESC LIMIT 1) AS last
    ), inserted AS (
        INSERT INTO events (event_id, stream_id, stream_type, version, event_type,
                            schema_version, data, metadata, recorded_at)
        SELECT e.event_id, :stream_id, :stream_type, CAST(:expected AS integer) + e.n,
               e.event_type, e.schema_version, e.data, CAST(:metadata AS jsonb),
               coalesce(CAST(:recorded_at AS timestamptz), now())
        FROM unnest(CAST(:event_ids AS uuid[]), CAST(:event_types AS text[]),
                    CAST(:schema_versions AS integer[]), CAST(:datas AS jsonb[]))
             WITH ORDINALITY AS e(event_id, event_type, schema_version, data, n),
             head
        WHERE head.version = CAST(:expected AS integer)
          AND (head.stream_type IS NULL OR head.stream_type = :stream_type)
        RETURNING position, version, recorded_at
    )
    SELECT head.version AS head_version, head.stream_type AS head_type,
           inserted.position, inserted.version, inserted.recorded_at
    FROM head LEFT JOIN inserted ON true
    ORDER BY inserted.version
    """
)

_READ_STREAM = text(
    f"""
    SELECT {_COLUMNS} FROM events
    WHERE stream_id = :stream_id
      AND version <= coalesce(CAST(:up_to AS integer), 2147483647)
      -- as of an instant: the prefix of the stream before its first event recorded later
      -- (writers' clocks may disagree, so a later version can carry an earlier time)
      AND version < coalesce(
            (SELECT min(version) FROM events
             WHERE stream_id = :stream_id AND recorded_at > CAST(:as_of AS timestamptz)),
            2147483647)
    ORDER BY version
    """
)

_READ_STREAMS = text(
    f"""
    SELECT {_COLUMNS} FROM events
    WHERE stream_id = ANY(CAST(:stream_ids AS text[]))
    ORDER BY stream_id, version
    """
)

_HORIZON = "transaction_id < pg_snapshot_xmin(pg_current_snapshot())"
_AFTER = """(transaction_id, position) > (SELECT transaction_id, position FROM events
                                       WHERE position = :after)"""


def _read_all_sql(*conditions: str) -> TextClause:
    where = f"WHERE {' AND '.join(conditions)}" if conditions else ""
    return text(
        f"SELECT {_COLUMNS} FROM events {where} ORDER BY transaction_id, position LIMIT :limit"
    )


_READ_ALL = {
    (False, True): _read_all_sql(_HORIZON),
    (True, True): _read_all_sql(_AFTER, _HORIZON),
    (False, False): _read_all_sql(),
    (True, False): _read_all_sql(_AFTER),
}

_POSITION_EXISTS = text("SELECT 1 FROM events WHERE position = :after")


@dataclass(frozen=True, slots=True)
class RecordedEvent:
    position: int
    event_id: uuid.UUID
    stream_id: str
    stream_type: str
    version: int
    event_type: str
    stored_schema_version: int  # as written; ``event`` is always the current schema version
    event: DomainEvent
    metadata: EventMetadata
    recorded_at: datetime


@dataclass(frozen=True, slots=True)
class AppendResult:
    stream_id: str
    version: int  # the stream's version after the append
    positions: tuple[int, ...]


class EventStore:
    def __init__(self, conn: AsyncConnection, registry: EventRegistry) -> None:
        self._conn = conn
        self._registry = registry

    async def append(
        self,
        stream_id: str,
        stream_type: str,
        expected_version: int,
        events: Sequence[DomainEvent],
        metadata: EventMetadata | None = None,
        *,
        recorded_at: datetime | None = None,
    ) -> AppendResult:
        """Append ``events`` at versions ``expected_version + 1 ...``, all or none.

        ``expected_version`` 0 means the stream must not exist yet. Raises
        ``ConcurrencyConflict`` when the stream is elsewhere; the caller's transaction is then
        unusable and must be rolled back (the unit of work does that).
        """
        if expected_version < 0:
            raise ValueError("expected_version must be >= 0")
        if not events:
            return AppendResult(stream_id, expected_version, ())
        serialized = [self._registry.serialize(event) for event in events]
        params = {
            "stream_id": stream_id,
            "stream_type": stream_type,
            "expected": expected_version,
            "metadata": (metadata or EventMetadata()).model_dump_json(exclude_none=True),
            "recorded_at": recorded_at,
            "event_ids": [uuid.uuid4() for _ in events],
            "event_types": [event_type for event_type, _, _ in serialized],
            "schema_versions": [version for _, version, _ in serialized],
            "datas": [json.dumps(data, separators=(",", ":")) for _, _, data in serialized],
        }
        try:
            rows = (await self._conn.execute(_APPEND, params)).all()
        except IntegrityError as exc:
            if _constraint_name(exc) == "events_stream_version_key":
                raise ConcurrencyConflict(stream_id, expected_version, None) from exc
            raise
        head = rows[0]
        if head.head_type is not None and head.head_type != stream_type:
            raise StreamTypeMismatch(stream_id, head.head_type, stream_type)
        if head.position is None:
            raise ConcurrencyConflict(stream_id, expected_version, head.head_version)
        return AppendResult(
            stream_id, expected_version + len(events), tuple(row.position for row in rows)
        )

    async def read_stream(
        self, stream_id: str, *, up_to: int | None = None, as_of: datetime | None = None
    ) -> list[RecordedEvent]:
        """The stream's events in version order, up to a version and/or as of an instant
        (the events before the first one recorded after it)."""
        result = await self._conn.execute(
            _READ_STREAM, {"stream_id": stream_id, "up_to": up_to, "as_of": as_of}
        )
        return [self._recorded(row) for row in result]

    async def read_streams(self, stream_ids: Sequence[str]) -> list[RecordedEvent]:
        """Several whole streams in one round trip, each in version order."""
        result = await self._conn.execute(_READ_STREAMS, {"stream_ids": list(stream_ids)})
        return [self._recorded(row) for row in result]

    async def read_all(
        self, *, after: int = 0, limit: int = 1000, horizon: bool = True
    ) -> list[RecordedEvent]:
        """Up to ``limit`` events that follow the event at position ``after`` in the global order.

        The global order is (transaction_id, position): the same for every reader, and only
        events whose transaction finished before any still running one are returned. A reader
        that passes the position of the last event it received never misses nor repeats one.
        ``after=0`` starts at the beginning. Call it outside a transaction that has written.

        ``horizon=False`` also returns committed events above the horizon: only for a caller
        that has stopped every writer first (a projection rebuild), else it may skip events.
        """
        if limit < 1:
            raise ValueError("limit must be >= 1")
        statement = _READ_ALL[(after != 0, horizon)]
        result = await self._conn.execute(statement, {"after": after, "limit": limit})
        rows = result.all()
        if (
            not rows
            and after != 0
            and not await self._conn.scalar(_POSITION_EXISTS, {"after": after})
        ):
            raise UnknownPosition(after)
        return [self._recorded(row) for row in rows]

    def _recorded(self, row: Any) -> RecordedEvent:
        return RecordedEvent(
            position=row.position,
            event_id=row.event_id,
            stream_id=row.stream_id,
            stream_type=row.stream_type,
            version=row.version,
            event_type=row.event_type,
            stored_schema_version=row.schema_version,
            event=self._registry.deserialize(row.event_type, row.schema_version, _json(row.data)),
            metadata=EventMetadata.model_validate(_json(row.metadata)),
            recorded_at=row.recorded_at,
        )


def _json(value: Any) -> dict[str, Any]:
    return json.loads(value) if isinstance(value, str | bytes) else dict(value)


def _constraint_name(exc: IntegrityError) -> str | None:
    cause = getattr(exc.orig, "__cause__", None)
    return getattr(cause, "constraint_name", None)
