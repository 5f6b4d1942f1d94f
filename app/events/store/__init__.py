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

``append``: the append statement, its parameters and result (``prepare_append``,
``append_with``); ``reads``: the read statements and what they give (``RecordedEvent``,
``FeedPage``); ``event_store``: ``EventStore``, which runs them on the caller's connection.

May import: ``app.domain``, ``app.runtime`` (as ``app.events``).
"""

from app.events.store.append import (
    STREAM_VERSION_KEY,
    AppendResult,
    PreparedAppend,
    append_with,
    prepare_append,
)
from app.events.store.event_store import EventStore
from app.events.store.reads import FeedPage, RecordedEvent

__all__ = [
    "STREAM_VERSION_KEY",
    "AppendResult",
    "EventStore",
    "FeedPage",
    "PreparedAppend",
    "RecordedEvent",
    "append_with",
    "prepare_append",
]
