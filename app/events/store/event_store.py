"""``EventStore``: appends and reads on the connection whose transaction the caller owns."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.exc import IntegrityError

from app.domain.event import DomainEvent
from app.events.audience import AGENCY, Audience
from app.events.audience import condition as audience_condition
from app.events.audience import params as audience_params
from app.events.errors import ConcurrencyConflict, UnknownPosition
from app.events.metadata import EventMetadata
from app.events.registry import EventRegistry
from app.events.store.append import _APPEND, STREAM_VERSION_KEY, AppendResult, prepare_append
from app.events.store.reads import (
    _POSITION_EXISTS,
    _READ_ALL,
    _READ_STREAM,
    _READ_STREAMS,
    FEED_SCAN,
    FeedPage,
    RecordedEvent,
    _read_feed_sql,
)
from app.runtime.pg import Executes


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


def _json(value: Any) -> dict[str, Any]:
    return json.loads(value) if isinstance(value, str | bytes) else dict(value)


def _constraint_name(exc: IntegrityError) -> str | None:
    cause = getattr(exc.orig, "__cause__", None)
    return getattr(cause, "constraint_name", None)
