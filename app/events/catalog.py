"""The service's event types, their streams, and the registry that reads and writes them."""

from __future__ import annotations

from enum import StrEnum

from app.domain.events import ALL_EVENTS
from app.events.registry import EventRegistry, JsonObject

# The stream types as the events table stores them (and hashes them): never respelt.
UNIT_STREAM = "registration-unit"
BUREAU_STREAM = "audit-bureau"
RATING_STREAM = "rating"
PROVIDER_STREAM = "provider"
PROJECT_STREAM = "project"


class StreamType(StrEnum):
    """A stream type in the API's words (snake_case); ``stored`` is the events table's."""

    REGISTRATION_UNIT = "registration_unit"
    AUDIT_BUREAU = "audit_bureau"
    RATING = "rating"
    PROVIDER = "provider"
    PROJECT = "project"

    @property
    def stored(self) -> str:
        return self.value.replace("_", "-")

    @classmethod
    def of(cls, text: str) -> StreamType:
        """From the stored spelling or the API's (``registration-unit``, ``registration_unit``)."""
        return cls(text.replace("-", "_"))


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


def project_stream_id(project_id: str) -> str:
    return f"project:{project_id}"


def project_id_from_stream(stream_id: str) -> str:
    return stream_id.removeprefix("project:")


def snake_case(value: str) -> str:
    """A value of the API's vocabulary before it was snake_case (``conditionally-passed``)."""
    return value.replace("-", "_")


def make_registry() -> EventRegistry:
    """Every event class of the domain; upcasters for older schema versions go here."""
    registry = EventRegistry(ALL_EVENTS)

    # v2: enumerated values are snake_case (``conditionally_passed``, ``starter_follow_up``,
    # ``iso_9001``); v1 rows keep their hyphens as stored (and hashed) and read as v2.
    @registry.upcaster("ApplicationSubmitted", 1)
    def _certificates(data: JsonObject) -> JsonObject:
        certificates = data.get("certificates") or []
        data["certificates"] = [
            {**held, "certificate": snake_case(held["certificate"])} for held in certificates
        ]
        return data

    @registry.upcaster("AuditBureauChosen", 1)
    def _audit_type(data: JsonObject) -> JsonObject:
        data["audit_type"] = snake_case(data["audit_type"])
        return data

    @registry.upcaster("AuditReportSubmitted", 1)
    def _report(data: JsonObject) -> JsonObject:
        data["audit_type"] = snake_case(data["audit_type"])
        data["result"] = snake_case(data["result"])
        return data

    # v2: a rating names the project it is about; one recorded before (v1) named none.
    @registry.upcaster("RatingRecorded", 1)
    def _rating(data: JsonObject) -> JsonObject:
        data["project_id"] = None
        return data

    return registry


REGISTRY = make_registry()
