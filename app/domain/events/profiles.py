"""A provider's public profile (stream ``provider:<enterprise number>``)."""

from __future__ import annotations

from datetime import date
from typing import ClassVar

from app.domain.event import DomainEvent
from app.domain.events.values import Value


class ProfileLocation(Value):
    """A location (*vestiging*) of the provider: an address, never a person."""

    name: str | None = None
    street: str
    postal_code: str  # Belgian, four digits; the province follows from it
    municipality: str


class ProviderProfileUpdated(DomainEvent):
    """The provider's public profile as it is from now on (the whole profile, not a patch)."""

    event_type: ClassVar[str] = "ProviderProfileUpdated"
    enterprise_number: str
    description: str
    themes: tuple[str, ...]
    locations: tuple[ProfileLocation, ...]
    website: str | None = None
    updated_on: date
