"""A rating's event: one client's rating of a provider, in a stream under the rating's own
reference, so the same rating can never be counted twice."""

from __future__ import annotations

from datetime import date
from typing import ClassVar

from pydantic import Field

from app.domain.event import DomainEvent


class RatingRecorded(DomainEvent):
    """A client enterprise rated the provider of one of its subsidy projects (``project_id``).
    Ratings recorded before ratings came from projects (schema version 1) name no project:
    they are read as version 2 with ``project_id`` null, and still counted."""

    event_type: ClassVar[str] = "RatingRecorded"
    schema_version: ClassVar[int] = 2  # v1: before ratings came from projects, no project_id
    reference: str
    project_id: str | None = None  # None: recorded before ratings came from projects
    provider_enterprise_number: str
    client_enterprise_number: str
    score: int = Field(ge=1, le=5)
    rated_on: date
