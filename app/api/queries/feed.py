"""The feed's documents: an event as its reader may see it (``GET /events``, the live stream
and the webhooks' deliveries alike), its metadata cut to what that reader may know."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from pydantic import Field

from app.api.http.auth import Principal, Role
from app.api.schemas import Actor, View
from app.events import RecordedEvent
from app.events.audience import Audience
from app.events.catalog import StreamType


class EventMetadataView(View):
    """Who caused the event. The agency reads all of it; a bureau or a provider the role of the
    actor alone (its id is the role's name): which client of another enterprise, bureau or
    the agency acted, and with which request, is not theirs to know."""

    actor: Actor | None = Field(description="The client (id and role) that caused the event")
    correlation_id: str | None = Field(
        description="The request (X-Request-ID) or job run that caused it"
    )
    causation_id: str | None = None
    idempotency_key: str | None = Field(description="The Idempotency-Key of that request")


class FeedEvent(View):
    position: int = Field(description="Global position: pass as ?after= or Last-Event-ID")
    event_id: UUID
    stream_id: str = Field(examples=["unit:0403170701:opleiding"])
    stream_type: StreamType
    version: int = Field(description="The event's version within its stream")
    event_type: str = Field(examples=["ApplicationSubmitted"])
    schema_version: int = Field(description="The version of the event type's fields in data")
    data: dict[str, Any] = Field(description="The event's fields: see docs/events.md")
    metadata: EventMetadataView
    recorded_at: datetime


class EventFeedPage(View):
    events: list[FeedEvent]
    next_after: int = Field(
        description="Pass as ?after= to continue. It moves past the events the filters left "
        "out, so a page may be empty and still move on; equal to after when nothing is new."
    )
    caught_up: bool = Field(
        description="Nothing more to read for now: poll again later (or use /events/stream). "
        "An event appears once every transaction older than its own has finished, so one "
        "committed a moment ago may come on a later page."
    )


def audience(principal: Principal) -> Audience:
    """The reader the feed filters for: the caller's role and what it is bound to."""
    return Audience(principal.role, principal.bureau_id, principal.enterprise_number)


def metadata_view(recorded: RecordedEvent, reader: Audience) -> EventMetadataView:
    metadata = recorded.metadata
    actor = metadata.actor
    if reader.role is not Role.AGENCY:
        return EventMetadataView(
            actor=Actor(id=actor.role, role=actor.role) if actor else None,
            correlation_id=None,
            causation_id=None,
            idempotency_key=None,
        )
    return EventMetadataView(
        actor=Actor(**actor.model_dump()) if actor else None,
        correlation_id=metadata.correlation_id,
        causation_id=metadata.causation_id,
        idempotency_key=metadata.idempotency_key,
    )


def feed_event(recorded: RecordedEvent, reader: Audience) -> FeedEvent:
    return FeedEvent(
        position=recorded.position,
        event_id=recorded.event_id,
        stream_id=recorded.stream_id,
        stream_type=StreamType.of(recorded.stream_type),
        version=recorded.version,
        event_type=recorded.event_type,
        schema_version=recorded.event.schema_version,  # data is upcast to the current version
        data=recorded.event.model_dump(mode="json"),
        metadata=metadata_view(recorded, reader),
        recorded_at=recorded.recorded_at,
    )
