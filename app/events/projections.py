"""Projections: tables derived from the events, updated in the transaction that appends them.

* ``registrations``: one row per registration unit, written from the unit's folded state, plus
  its DV.O / DV.A number; ``registration_status`` is the status without the open application
  (what a bureau that audited the unit before may see, ``app/api/scope.py``). Numbers follow
  the global order of first registrations: the n-th unit ever registered gets serial
  ``base + n - 1``, one counter for both service types. Live, every
  transaction that records a decision takes ``NUMBERING_LOCK`` before it writes, so those
  transactions get their transaction ids, and so their place in the global order, in the order
  they number; a rebuild that replays the events in that order gives every unit its number again.
* ``applications``, ``audits``, ``bureaus``, ``provider_ratings``: written from the events.
* ``public_providers``: what the public search shows of an enterprise, each field from the
  event that made it true: the name of the application the latest decision granted, the themes
  of the granted applications (``RegistrationGranted``), and its profile (description, themes,
  locations) once it keeps one (``ProviderProfileUpdated``). An application in progress, or one
  refused, changes nothing public. A database trigger fills the search columns from name and
  description.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import text

from app.domain.event import DomainEvent
from app.domain.events import (
    ApplicationRefused,
    ApplicationRefusedForNoReaction,
    ApplicationSubmitted,
    AuditBureauAppointed,
    AuditBureauAppointmentEnded,
    AuditBureauChosen,
    AuditPlanned,
    AuditReportSubmitted,
    FailedAuditReactedTo,
    FollowUpMissed,
    ProviderProfileUpdated,
    RatingRecorded,
    RegistrationExpired,
    RegistrationGranted,
    RegistrationStopped,
    SwornDeclarationReceived,
)
from app.domain.identifiers import RegistrationNumber
from app.domain.regions import province_of, region_key
from app.domain.registration import UnitState
from app.pg import Executes

NUMBERING_LOCK = 7_316_001  # pg_advisory_xact_lock key: transactions that may number units
PROJECTION_TABLES = (
    "registrations",
    "applications",
    "audits",
    "bureaus",
    "provider_ratings",
    "public_providers",
)


@dataclass(frozen=True, slots=True)
class Projected:
    """An event as the projections see it: where it belongs and when it was recorded."""

    stream_id: str
    version: int
    event: DomainEvent
    recorded_at: datetime


_UPSERT_REGISTRATION = text(
    """
    INSERT INTO registrations AS r (
        unit_key, enterprise_number, department, service_type, provider_name, status,
        registration_status, registration_kind, first_registered_on, valid_from, valid_until,
        pending_deadline, deadline_kind, application_id, application_track, current_audit_id,
        current_bureau_id, stream_version, updated_at)
    VALUES (:unit_key, :enterprise_number, :department, :service_type, :provider_name, :status,
        :registration_status, :registration_kind, :first_registered_on, :valid_from,
        :valid_until, :pending_deadline, :deadline_kind, :application_id, :application_track,
        :current_audit_id, :current_bureau_id, :stream_version, :updated_at)
    ON CONFLICT (unit_key) DO UPDATE SET
        provider_name = EXCLUDED.provider_name, status = EXCLUDED.status,
        registration_status = EXCLUDED.registration_status,
        registration_kind = EXCLUDED.registration_kind,
        first_registered_on = EXCLUDED.first_registered_on,
        valid_from = EXCLUDED.valid_from, valid_until = EXCLUDED.valid_until,
        pending_deadline = EXCLUDED.pending_deadline, deadline_kind = EXCLUDED.deadline_kind,
        application_id = EXCLUDED.application_id,
        application_track = EXCLUDED.application_track,
        current_audit_id = EXCLUDED.current_audit_id,
        current_bureau_id = EXCLUDED.current_bureau_id,
        stream_version = EXCLUDED.stream_version, updated_at = EXCLUDED.updated_at
    RETURNING registration_serial
    """
)

_NEXT_SERIAL = text("SELECT coalesce(max(registration_serial) + 1, :base) FROM registrations")
_SET_NUMBER = text(
    "UPDATE registrations SET registration_serial = :serial, registration_number = :number"
    " WHERE unit_key = :unit_key"
)


_PUBLIC_NAME = text(
    """
    INSERT INTO public_providers AS p (enterprise_number, name, application_themes, updated_at)
    VALUES (:kbo, :name, :themes, :at)
    ON CONFLICT (enterprise_number) DO UPDATE SET
        name = EXCLUDED.name,
        application_themes = ARRAY(
            SELECT DISTINCT t FROM unnest(p.application_themes || EXCLUDED.application_themes) t
            ORDER BY t),
        updated_at = EXCLUDED.updated_at
    """
)

_PUBLIC_PROFILE = text(
    """
    INSERT INTO public_providers AS p (enterprise_number, description, website, profile_themes,
        locations, regions, profile_version, updated_at)
    VALUES (:kbo, :description, :website, :themes, CAST(:locations AS jsonb), :regions,
        :version, :at)
    ON CONFLICT (enterprise_number) DO UPDATE SET
        description = EXCLUDED.description, website = EXCLUDED.website,
        profile_themes = EXCLUDED.profile_themes, locations = EXCLUDED.locations,
        regions = EXCLUDED.regions, profile_version = EXCLUDED.profile_version,
        updated_at = EXCLUDED.updated_at
    """
)


def profile_row(event: ProviderProfileUpdated, version: int, at: datetime) -> dict[str, Any]:
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
        "kbo": event.enterprise_number,
        "description": event.description or None,
        "website": event.website,
        "themes": list(event.themes),
        "locations": json.dumps(locations, ensure_ascii=False),
        "regions": regions,
        "version": version,
        "at": at,
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


class Projector:
    def __init__(self, number_base: int = 1) -> None:
        self.number_base = number_base

    async def apply(
        self, conn: Executes, item: Projected, unit: tuple[str, UnitState] | None
    ) -> None:
        """Project one event; ``unit`` is (unit key, state after the event) for unit streams."""
        await self.event_tables(conn, item, unit)
        if unit is not None:
            await self.registration(conn, unit[0], unit[1], item)

    async def registration(
        self, conn: Executes, unit_key: str, state: UnitState, item: Projected
    ) -> None:
        row = registration_row(unit_key, state, item.version, item.recorded_at)
        if state.first_registered_on is None:  # never registered: no number to give, and a
            await conn.execute(_UPSERT_REGISTRATION, row)  # command's write can wait (deferred)
            return
        serial = await conn.scalar(_UPSERT_REGISTRATION, row)
        if serial is None:
            serial = await conn.scalar(_NEXT_SERIAL, {"base": self.number_base})
            assert state.unit is not None
            number = RegistrationNumber(state.unit.service_type, serial)
            await conn.execute(
                _SET_NUMBER, {"serial": serial, "number": str(number), "unit_key": unit_key}
            )

    async def _public_name(
        self, conn: Executes, unit: tuple[str, UnitState] | None, item: Projected
    ) -> None:
        """The name and themes a decision granted are the public's from then on."""
        assert unit is not None
        registration_unit, registered = unit[1].unit, unit[1].registered
        assert registration_unit is not None
        assert registered is not None
        await conn.execute(
            _PUBLIC_NAME,
            {
                "kbo": str(registration_unit.enterprise_number),
                "name": registered.provider_name,
                "themes": list(registered.themes),
                "at": item.recorded_at,
            },
        )

    async def event_tables(
        self, conn: Executes, item: Projected, unit: tuple[str, UnitState] | None
    ) -> None:
        event = item.event
        unit_key = unit[0] if unit else None
        match event:
            case ApplicationSubmitted():
                await conn.execute(
                    text(
                        "INSERT INTO applications (application_id, unit_key, enterprise_number,"
                        " track, status, submitted_on) VALUES (:id, :unit, :kbo, :track, 'open',"
                        " :on)"
                    ),
                    {
                        "id": event.application_id,
                        "unit": unit_key,
                        "kbo": event.enterprise_number,
                        "track": event.track.value,
                        "on": event.submitted_on,
                    },
                )
            case SwornDeclarationReceived():
                await conn.execute(
                    text(
                        "UPDATE applications SET sworn_declaration_on = :on"
                        " WHERE application_id = :id"
                    ),
                    {"id": event.application_id, "on": event.received_on},
                )
            case RegistrationGranted() | ApplicationRefused() | ApplicationRefusedForNoReaction():
                granted = isinstance(event, RegistrationGranted)
                if granted:
                    await self._public_name(conn, unit, item)
                decided_on = (
                    event.refused_on
                    if isinstance(event, ApplicationRefusedForNoReaction)
                    else event.decision_date
                )
                await conn.execute(
                    text(
                        "UPDATE applications SET status = :status, decided_on = :on"
                        " WHERE application_id = :id"
                    ),
                    {
                        "id": event.application_id,
                        "status": "granted" if granted else "refused",
                        "on": decided_on,
                    },
                )
            case AuditBureauChosen():
                application = unit[1].application if unit else None
                for_application = (
                    application is not None
                    and application.audit is not None
                    and application.audit.audit_id == event.audit_id
                )
                await conn.execute(
                    text(
                        "INSERT INTO audits (audit_id, unit_key, application_id, bureau_id,"
                        " audit_type, status, assigned_on) VALUES (:id, :unit, :application,"
                        " :bureau, :type, 'assigned', :on)"
                    ),
                    {
                        "id": event.audit_id,
                        "unit": unit_key,
                        "application": application.application_id
                        if for_application and application
                        else None,
                        "bureau": event.bureau_id,
                        "type": event.audit_type.value,
                        "on": event.chosen_on,
                    },
                )
            case AuditPlanned():
                await conn.execute(
                    text(
                        "UPDATE audits SET status = 'planned', visit_date = :visit,"
                        " planned_hours = :hours, cost_estimate = :cost WHERE audit_id = :id"
                    ),
                    {
                        "id": event.audit_id,
                        "visit": event.visit_date,
                        "hours": event.planned_hours,
                        "cost": event.cost_estimate,
                    },
                )
            case AuditReportSubmitted():
                await conn.execute(
                    text(
                        "UPDATE audits SET status = 'reported', report_id = :report,"
                        " result = :result, reported_on = :on, visit_date = :visit"
                        " WHERE audit_id = :id"
                    ),
                    {
                        "id": event.audit_id,
                        "report": event.report_id,
                        "result": event.result.value,
                        "on": event.submitted_on,
                        "visit": event.visit_date,
                    },
                )
            case RegistrationStopped() | RegistrationExpired() | FollowUpMissed():
                # The registration ended: a follow-up audit still open for it is dropped.
                await conn.execute(
                    text(
                        "UPDATE audits SET status = 'cancelled' WHERE unit_key = :unit"
                        " AND status IN ('assigned', 'planned') AND audit_type IN"
                        " ('starter_follow_up', 'conditional_follow_up')"
                    ),
                    {"unit": unit_key},
                )
            case FailedAuditReactedTo():
                await conn.execute(
                    text("UPDATE audits SET status = 'reacted' WHERE audit_id = :id"),
                    {"id": event.audit_id},
                )
            case AuditBureauAppointed():
                await conn.execute(
                    text(
                        "INSERT INTO bureaus (bureau_id, name, enterprise_number, appointed_from,"
                        " appointed_until, contact) VALUES (:id, :name, :kbo, :start, :until,"
                        " :contact) ON CONFLICT (bureau_id) DO UPDATE SET name = EXCLUDED.name,"
                        " enterprise_number = EXCLUDED.enterprise_number,"
                        " appointed_from = EXCLUDED.appointed_from,"
                        " appointed_until = EXCLUDED.appointed_until, contact = EXCLUDED.contact"
                    ),
                    {
                        "id": event.bureau_id,
                        "name": event.name,
                        "kbo": event.enterprise_number,
                        "start": event.appointed_from,
                        "until": event.appointed_until,
                        "contact": event.contact,
                    },
                )
            case AuditBureauAppointmentEnded():
                await conn.execute(
                    text("UPDATE bureaus SET appointed_until = :until WHERE bureau_id = :id"),
                    {"id": event.bureau_id, "until": event.last_day},
                )
            case ProviderProfileUpdated():
                await conn.execute(
                    _PUBLIC_PROFILE, profile_row(event, item.version, item.recorded_at)
                )
            case RatingRecorded():
                await conn.execute(
                    text(
                        "INSERT INTO provider_ratings AS p (enterprise_number, rating_count,"
                        " rating_sum) VALUES (:kbo, 1, :score) ON CONFLICT (enterprise_number)"
                        " DO UPDATE SET rating_count = p.rating_count + 1,"
                        " rating_sum = p.rating_sum + EXCLUDED.rating_sum"
                    ),
                    {"kbo": event.provider_enterprise_number, "score": event.score},
                )
