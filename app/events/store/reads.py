"""The reads: a stream (as of an instant), several streams, the global order below the horizon,
and a page of the feed; what they give (``RecordedEvent``, ``FeedPage``)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache

from sqlalchemy import TextClause, text

from app.domain.event import DomainEvent
from app.events.metadata import EventMetadata

_COLUMNS = """position, event_id, stream_id, stream_type, version, event_type, schema_version,
    data, metadata, recorded_at"""


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
