"""Errors of the event store."""

from __future__ import annotations

from app.domain.errors import ErrorKind, KmopError


class EventStoreError(KmopError):
    code = "event-store-error"


class ConcurrencyConflict(EventStoreError):
    """Another writer appended to the stream first; reload and decide again."""

    code = "concurrency-conflict"
    kind = ErrorKind.CONFLICT
    title = "The resource was changed by someone else"

    def __init__(self, stream_id: str, expected_version: int, actual_version: int | None) -> None:
        actual = "unknown" if actual_version is None else str(actual_version)
        super().__init__(
            f"stream {stream_id!r} is at version {actual}, not the expected {expected_version}",
            stream_id=stream_id,
            expected_version=expected_version,
            actual_version=actual_version,
        )
        self.stream_id = stream_id
        self.expected_version = expected_version
        self.actual_version = actual_version


class StreamTypeMismatch(EventStoreError):
    code = "stream-type-mismatch"

    def __init__(self, stream_id: str, stored: str, given: str) -> None:
        super().__init__(f"stream {stream_id!r} is a {stored!r} stream, not {given!r}")


class UnknownPosition(EventStoreError):
    code = "unknown-position"
    kind = ErrorKind.NOT_FOUND

    def __init__(self, position: int) -> None:
        super().__init__(f"no event has position {position}", position=position)


class UnknownEventType(EventStoreError):
    code = "unknown-event-type"

    def __init__(self, event_type: str, schema_version: int) -> None:
        super().__init__(f"no event class or upcaster for {event_type!r} v{schema_version}")


class DuplicateRegistration(EventStoreError):
    code = "duplicate-event-type"
