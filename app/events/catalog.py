"""The service's event types, their streams, and the registry that reads and writes them."""

from __future__ import annotations

from app.domain.events import ALL_EVENTS
from app.events.registry import EventRegistry

UNIT_STREAM = "registration-unit"
BUREAU_STREAM = "audit-bureau"
RATING_STREAM = "rating"
PROVIDER_STREAM = "provider"


def unit_stream_id(unit_key: str) -> str:
    return f"unit:{unit_key}"


def unit_key_from_stream(stream_id: str) -> str:
    return stream_id.removeprefix("unit:")


def bureau_stream_id(bureau_id: str) -> str:
    return f"bureau:{bureau_id}"


def bureau_id_from_stream(stream_id: str) -> str:
    return stream_id.removeprefix("bureau:")


def rating_stream_id(reference: str) -> str:
    return f"rating:{reference}"


def provider_stream_id(enterprise_number: str) -> str:
    return f"provider:{enterprise_number}"


def make_registry() -> EventRegistry:
    """Every event class of the domain; upcasters for older schema versions go here."""
    return EventRegistry(ALL_EVENTS)


REGISTRY = make_registry()
