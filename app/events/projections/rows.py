"""The rows of the ``registrations`` table (a unit's row from its folded state, its number, the
days it is listed in the public search) and of a profile, each with one definition used live
and by a rebuild; ``Projected``: an event as it is projected."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from app.domain.event import DomainEvent
from app.domain.events import ProviderProfileUpdated
from app.domain.regions import province_of, region_key
from app.domain.registration import UnitState
from app.domain.values import replace

NUMBERING_LOCK = 7_316_001  # pg_advisory_xact_lock key: transactions that may number units
PROJECTION_TABLES = (
    "registrations",
    "applications",
    "audits",
    "bureaus",
    "provider_ratings",
    "public_providers",
    "projects",
)


@dataclass(frozen=True, slots=True)
class Projected:
    """An event as the projections see it: where it belongs and when it was recorded."""

    stream_id: str
    version: int
    event: DomainEvent
    recorded_at: datetime
    # A later event of the same command follows on the same unit: the unit's row is written
    # from the state after that one, so this one's would be overwritten in the same
    # transaction (a first grant still numbers the unit).
    superseded: bool = False


IN_FORCE_STATUSES = frozenset({"registered", "registered_conditionally", "registered_starter"})


def in_force_days(row: dict[str, Any]) -> tuple[date, date] | None:
    """A registration row's validity (first day, last day) if its status is in force."""
    first, last = row["valid_from"], row["valid_until"]
    if row["status"] in IN_FORCE_STATUSES and first is not None and last is not None:
        return first, last
    return None


def listed_days(rows: Iterable[dict[str, Any]]) -> dict[str, list[tuple[date, date]]]:
    """Each enterprise's validities in force, for ``public_providers.listed`` (the database
    merges them into its ``datemultirange``)."""
    listed: dict[str, list[tuple[date, date]]] = {}
    for row in rows:
        if (days := in_force_days(row)) is not None:
            listed.setdefault(row["enterprise_number"], []).append(days)
    return listed


def next_serial(highest: int | None, base: int) -> int:
    """The serial of the next unit registered for the first time: one counter for both service
    types, from ``base`` (``KMOP_REGISTRATION_NUMBER_BASE``)."""
    return base if highest is None else highest + 1


def profile_row(event: ProviderProfileUpdated, version: int, at: datetime) -> dict[str, Any]:
    """The ``public_providers`` columns a profile sets (the whole profile, not a patch)."""
    locations = [
        {**location.model_dump(), "province": province_of(location.postal_code).value}
        for location in event.locations
    ]
    regions = sorted(
        {location["province"] for location in locations}
        | {region_key(location["municipality"]) for location in locations}
        | {location["postal_code"] for location in locations}
    )
    return {
        "enterprise_number": event.enterprise_number,
        "description": event.description or None,
        "website": event.website,
        "profile_themes": list(event.themes),
        "locations": json.dumps(locations, ensure_ascii=False),
        "regions": regions,
        "profile_version": version,
        "updated_at": at,
    }


def registration_row(
    unit_key: str, state: UnitState, version: int, recorded_at: datetime
) -> dict[str, Any]:
    assert state.unit is not None
    registration = state.registration
    application = state.application
    audit = (application.audit if application else None) or (
        registration.follow_up_audit if registration and registration.in_force else None
    )
    deadlines = state.deadlines()
    return {
        "unit_key": unit_key,
        "enterprise_number": str(state.unit.enterprise_number),
        "department": state.unit.department,
        "service_type": state.unit.service_type.value,
        "provider_name": state.provider_name or "",
        "status": state.status.value,
        "registration_status": replace(state, application=None).status.value,
        "registration_kind": registration.kind.value if registration else None,
        "first_registered_on": state.first_registered_on,
        "valid_from": registration.valid_from if registration else None,
        "valid_until": registration.valid_until if registration else None,
        "pending_deadline": deadlines[0].last_day if deadlines else None,
        "deadline_kind": deadlines[0].kind.value if deadlines else None,
        "application_id": application.application_id if application else None,
        "application_track": application.track.value if application else None,
        "current_audit_id": audit.audit_id if audit else None,
        "current_bureau_id": audit.bureau_id if audit else None,
        "stream_version": version,
        "updated_at": recorded_at,
    }
