"""What is recorded with every event besides its data: who, in answer to what, and why."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class Actor(BaseModel):
    """The authenticated client that caused the event (or ``system`` for the deadline job)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str
    role: str


class EventMetadata(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    actor: Actor | None = None
    correlation_id: str | None = None  # the request (X-Request-ID) or job run that caused it
    causation_id: str | None = None  # the command or event that caused it
    idempotency_key: str | None = None
