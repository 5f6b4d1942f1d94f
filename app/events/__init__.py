"""The event store on PostgreSQL: append, read, serialization and upcasting (``store``,
``registry``, ``catalog``), tamper evidence (``hashing``, ``checkpoints``, ``verify``), the
projections and their rebuild (``projections``, ``bulk``, ``parallel``, ``rebuild``,
``projection_check``), and who may see which event (``audience``).

May import: ``app.domain``, ``app.runtime``. Knows nothing of HTTP.
"""

from app.events.errors import (
    ConcurrencyConflict,
    EventStoreError,
    UnknownEventType,
    UnknownPosition,
)
from app.events.metadata import Actor, EventMetadata
from app.events.registry import EventRegistry
from app.events.store import AppendResult, EventStore, RecordedEvent

__all__ = [
    "Actor",
    "AppendResult",
    "ConcurrencyConflict",
    "EventMetadata",
    "EventRegistry",
    "EventStore",
    "EventStoreError",
    "RecordedEvent",
    "UnknownEventType",
    "UnknownPosition",
]
