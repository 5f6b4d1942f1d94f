"""Event types by name and schema version, with upcasting of stored older versions.

A stored row carries ``event_type`` and ``schema_version``. Reading it walks the upcasters
``v1 -> v2 -> ... -> current`` on the raw JSON and then validates it into the current class,
so code only ever handles the current shape and old rows are never rewritten.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from app.domain.event import DomainEvent
from app.events.errors import DuplicateRegistration, UnknownEventType

JsonObject = dict[str, Any]
Upcaster = Callable[[JsonObject], JsonObject]


class EventRegistry:
    def __init__(self, classes: Iterable[type[DomainEvent]] = ()) -> None:
        self._classes: dict[str, type[DomainEvent]] = {}
        self._upcasters: dict[tuple[str, int], Upcaster] = {}
        for cls in classes:
            self.register(cls)

    def register(self, cls: type[DomainEvent]) -> type[DomainEvent]:
        known = self._classes.get(cls.event_type)
        if known is not None and known is not cls:
            raise DuplicateRegistration(
                f"event type {cls.event_type!r} is already {known.__qualname__}"
            )
        self._classes[cls.event_type] = cls
        return cls

    def upcaster(self, event_type: str, from_version: int) -> Callable[[Upcaster], Upcaster]:
        """Register ``fn(data_at_from_version) -> data_at_from_version_plus_one``."""

        def decorate(fn: Upcaster) -> Upcaster:
            key = (event_type, from_version)
            if key in self._upcasters:
                raise DuplicateRegistration(f"upcaster {event_type} v{from_version} exists")
            self._upcasters[key] = fn
            return fn

        return decorate

    @property
    def classes(self) -> Mapping[str, type[DomainEvent]]:
        return dict(self._classes)

    def serialize(self, event: DomainEvent) -> tuple[str, int, JsonObject]:
        cls = type(event)
        if self._classes.get(cls.event_type) is not cls:
            raise UnknownEventType(cls.event_type, cls.schema_version)
        return cls.event_type, cls.schema_version, event.model_dump(mode="json")

    def deserialize(self, event_type: str, schema_version: int, data: JsonObject) -> DomainEvent:
        cls = self._classes.get(event_type)
        if cls is None or schema_version > cls.schema_version:
            raise UnknownEventType(event_type, schema_version)
        version = schema_version
        while version < cls.schema_version:
            step = self._upcasters.get((event_type, version))
            if step is None:
                raise UnknownEventType(event_type, version)
            data = step(dict(data))
            version += 1
        return cls.model_validate(data)

    def deserialize_json(self, event_type: str, schema_version: int, raw: str) -> DomainEvent:
        """``deserialize`` from the stored JSON text: an event stored at the current schema
        version is parsed and validated in one step (a rebuild reads a million of them)."""
        cls = self._classes.get(event_type)
        if cls is not None and schema_version == cls.schema_version:
            return cls.model_validate_json(raw)
        return self.deserialize(event_type, schema_version, json.loads(raw))
