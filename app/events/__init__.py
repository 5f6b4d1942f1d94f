"""The event store on PostgreSQL: append, read, serialization and upcasting."""

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
