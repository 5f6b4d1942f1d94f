"""The base of every domain event: a small immutable value with a type name and a schema version.

Events are facts in the past tense (``ApplicationSubmitted``). When an event's shape changes, its
class bumps ``schema_version`` and an upcaster (``app/events/registry.py``) turns stored older
versions into the current shape, so the domain only ever sees the current class.
"""

from __future__ import annotations

from typing import ClassVar

from pydantic import BaseModel, ConfigDict


class DomainEvent(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    event_type: ClassVar[str]
    schema_version: ClassVar[int] = 1
