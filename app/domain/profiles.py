"""A provider's public profile: what it tells the public search about itself.

The profile belongs to the enterprise (not to one registration unit) and lives on its own
stream, ``provider:<enterprise number>``. The provider keeps it through its own API; every
change is an event like any other. What the public sees of a provider is this profile plus its
registrations in force and its rating (``app/api/routers/public.py``); nothing else.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from app.domain.errors import InvalidCommand
from app.domain.event import DomainEvent
from app.domain.events import ProfileLocation, ProviderProfileUpdated
from app.domain.identifiers import EnterpriseNumber
from app.domain.policies import ELIGIBLE_THEMES, today
from app.domain.regions import UnknownPostalCode, postal_code

MAX_DESCRIPTION = 4000
MAX_LOCATIONS = 50
_WEBSITE = re.compile(r"^https?://[^\s/$.?#][^\s]*$", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class ProfileState:
    profile: ProviderProfileUpdated | None = None


def evolve_profile(state: ProfileState, event: DomainEvent) -> ProfileState:
    return ProfileState(event) if isinstance(event, ProviderProfileUpdated) else state


@dataclass(frozen=True, slots=True)
class UpdateProfile:
    enterprise: EnterpriseNumber
    description: str
    themes: tuple[str, ...]
    locations: tuple[ProfileLocation, ...]
    website: str | None = None


def decide_profile(
    command: UpdateProfile, state: ProfileState, now: datetime
) -> Sequence[DomainEvent]:
    description = command.description.strip()
    if len(description) > MAX_DESCRIPTION:
        raise InvalidCommand(f"the description is at most {MAX_DESCRIPTION} characters")
    unknown = sorted(set(command.themes) - ELIGIBLE_THEMES)
    if unknown:
        raise InvalidCommand(f"themes not eligible: {', '.join(unknown)}")
    if len(command.locations) > MAX_LOCATIONS:
        raise InvalidCommand(f"at most {MAX_LOCATIONS} locations")
    locations = tuple(_location(location) for location in command.locations)
    website = (command.website or "").strip() or None
    if website is not None and not _WEBSITE.match(website):
        raise InvalidCommand(f"the website {website!r} is not an http(s) address")
    themes = tuple(sorted(set(command.themes)))
    current = state.profile
    if current is not None and (
        current.description,
        current.themes,
        current.locations,
        current.website,
    ) == (description, themes, locations, website):
        return []  # nothing changed: nothing to record
    return [
        ProviderProfileUpdated(
            enterprise_number=str(command.enterprise),
            description=description,
            themes=themes,
            locations=locations,
            website=website,
            updated_on=today(now),
        )
    ]


def _location(location: ProfileLocation) -> ProfileLocation:
    municipality = " ".join(location.municipality.split())
    street = " ".join(location.street.split())
    if not municipality or not street:
        raise InvalidCommand("a location has a street and a municipality")
    try:
        code = postal_code(location.postal_code)
    except UnknownPostalCode as exc:
        raise InvalidCommand(str(exc)) from None
    name = " ".join((location.name or "").split()) or None
    return ProfileLocation(name=name, street=street, postal_code=code, municipality=municipality)
