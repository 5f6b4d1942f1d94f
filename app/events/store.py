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

And one that makes tampering show: every event carries a hash over its canonical content
chained to the previous event of its stream (``app.events.hashing``), computed in the append
statement; ``app.events.checkpoints`` signs the whole log, ``app.events.verify`` checks both.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import TextClause, text
from sqlalchemy.exc import IntegrityError

from app.domain.event import DomainEvent
from app.events.audience import AGENCY, Audience
from app.events.audience import condition as audience_condition
from app.events.audience import params as audience_params
from app.events.errors import ConcurrencyConflict, StreamTypeMismatch, UnknownPosition
from app.events.hashing import GENESIS, event_digest
from app.events.metadata import EventMetadata
from app.events.registry import EventRegistry
from app.runtime.pg import Executes, Statement, statement, together

_COLUMNS = """position, event_id, stream_id, stream_type, version, event_type, schema_version,
    data, metadata, recorded_at"""

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

# A feed page: the next events below the horizon in the global order (at most :scan of them,
# the "scanned" window), the first :limit of those that pass the filters and that the reader may
# see ({audience}: ``app.events.audience``), and the last scanned event's position, all from one
# statement and so from one snapshot. A filter that is NULL lets everything pass.
_FEED_WINDOW = """
    WITH scanned AS (
        SELECT transaction_id, position, event_type, stream_id, stream_type{audience_columns}
        FROM events
        WHERE {conditions}
        ORDER BY transaction_id, position
        LIMIT :scan
    ), matched AS (
        SELECT e.transaction_id, e.position FROM scanned e
        WHERE (CAST(:event_types AS text[]) IS NULL
               OR e.event_type = ANY(CAST(:event_types AS text[])))
          AND (CAST(:stream_ids AS text[]) IS NULL
               OR e.stream_id = ANY(CAST(:stream_ids AS text[])))
          AND (CAST(:stream_types AS text[]) IS NULL
               OR e.stream_type = ANY(CAST(:stream_types AS text[])))
          AND {audience}
        ORDER BY e.transaction_id, e.position
        LIMIT :limit
    ), tail AS (
        SELECT count(*) AS scanned,
               (SELECT position FROM scanned
                ORDER BY transaction_id DESC, position DESC LIMIT 1) AS last_scanned
        FROM scanned
    )
    SELECT tail.scanned, tail.last_scanned,
           e.position, e.event_id, e.stream_id, e.stream_type, e.version, e.event_type,
           e.schema_version, e.data, e.metadata, e.recorded_at
    FROM tail
    LEFT JOIN matched ON true
    LEFT JOIN events e ON e.position = matched.position
    ORDER BY matched.transaction_id, matched.position
"""


@lru_cache(maxsize=64)
def _read_feed_sql(after: bool, audience: str) -> TextClause:
    conditions = f"{_AFTER} AND {_HORIZON}" if after else _HORIZON
    # The audience's rules read the event's version and data; the agency's ("true") does not,
    # so its window carries no data (which the page's rows fetch once, at the end).
    columns = "" if audience == "true" else ", version, data"
    return text(
        _FEED_WINDOW.format(conditions=conditions, audience=audience, audience_columns=columns)
    )


# How many events a filtered feed read looks at, at most, to fill its page: a bound on the
# cost of one read when few events match; the cursor still moves past all those looked at.
FEED_SCAN = 5000


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
class FeedPage:
    """A page of the global feed, and where to continue from."""

    events: list[RecordedEvent]
    # Pass as ``after`` to continue: past every event this read looked at, including those the
    # filters left out, so a filtered follower never rescans them. Equal to ``after`` when the
    # read found nothing new.
    next_after: int
    # The read reached the horizon: nothing more to read until writers commit again.
    caught_up: bool


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


class EventStore:
    def __init__(self, conn: Executes, registry: EventRegistry) -> None:
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
        if not events:
            if expected_version < 0:
                raise ValueError("expected_version must be >= 0")
            return AppendResult(stream_id, expected_version, ())
        append = prepare_append(
            self._registry,
            stream_id,
            stream_type,
            expected_version,
            events,
            metadata,
            recorded_at=recorded_at,
        )
        try:
            result = await self._conn.execute(_APPEND, append.params)
            rows = [row._mapping for row in result]
        except IntegrityError as exc:
            if _constraint_name(exc) == STREAM_VERSION_KEY:
                raise ConcurrencyConflict(stream_id, expected_version, None) from exc
            raise
        return append.result(rows)

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

    async def read_feed(
        self,
        *,
        after: int = 0,
        limit: int = 100,
        event_types: Sequence[str] = (),
        stream_ids: Sequence[str] = (),
        stream_types: Sequence[str] = (),
        scan: int = FEED_SCAN,
        audience: Audience = AGENCY,
    ) -> FeedPage:
        """``read_all`` with filters, for followers of the feed: the next events after the
        event at position ``after`` whose type, stream id and stream type are among those given
        (an empty filter lets every event pass), at most ``limit`` of them.

        The same global order and horizon as ``read_all``, so the same guarantee: a follower
        that passes back ``next_after`` never misses nor repeats an event. A filtered read looks
        at no more than ``max(scan, limit)`` events; ``next_after`` moves past all those it
        looked at (matching or not) unless the page filled up first, when it is the position of
        the page's last event. A page may thus be empty and still move the cursor.

        ``audience``: only the events that reader may see (``app.events.audience``), filtered in
        the same statement, so the cursor moves past the others as past filtered-out ones.
        """
        if limit < 1:
            raise ValueError("limit must be >= 1")
        filtered = bool(event_types or stream_ids or stream_types) or audience != AGENCY
        params = {
            **audience_params(audience),
            "after": after,
            "limit": limit,
            "scan": max(scan, limit) if filtered else limit,
            "event_types": list(event_types) or None,
            "stream_ids": list(stream_ids) or None,
            "stream_types": list(stream_types) or None,
        }
        statement = _read_feed_sql(after != 0, audience_condition(audience))
        rows = (await self._conn.execute(statement, params)).all()
        scanned, last_scanned = rows[0].scanned, rows[0].last_scanned
        events = [self._recorded(row) for row in rows if row.position is not None]
        if not scanned and after != 0 and not await self._conn.scalar(_POSITION_EXISTS, params):
            raise UnknownPosition(after)
        if len(events) == limit:
            return FeedPage(events, events[-1].position, caught_up=False)
        next_after = last_scanned if last_scanned is not None else after
        return FeedPage(events, next_after, caught_up=scanned < params["scan"])

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


def _utc(instant: datetime) -> datetime:
    """A naive time is taken as UTC (as asyncpg does for timestamptz)."""
    return instant if instant.tzinfo is not None else instant.replace(tzinfo=UTC)


def _json(value: Any) -> dict[str, Any]:
    return json.loads(value) if isinstance(value, str | bytes) else dict(value)


def _constraint_name(exc: IntegrityError) -> str | None:
    cause = getattr(exc.orig, "__cause__", None)
    return getattr(cause, "constraint_name", None)
