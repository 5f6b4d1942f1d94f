"""Small event classes for testing the store (the domain's own events come with the domain)."""

from __future__ import annotations

from typing import Any, ClassVar

from app.domain.event import DomainEvent
from app.events import EventRegistry


class Noted(DomainEvent):
    event_type: ClassVar[str] = "Noted"
    text: str
    writer: int = 0


class Renamed(DomainEvent):
    """Schema v2: v1 stored a single ``name``; v2 splits it into first and last name."""

    event_type: ClassVar[str] = "Renamed"
    schema_version: ClassVar[int] = 2
    first_name: str
    last_name: str


def make_registry() -> EventRegistry:
    registry = EventRegistry([Noted, Renamed])

    @registry.upcaster("Renamed", from_version=1)
    def _split_name(data: dict[str, Any]) -> dict[str, Any]:
        first, _, last = data.pop("name").partition(" ")
        return {**data, "first_name": first, "last_name": last}

    return registry
