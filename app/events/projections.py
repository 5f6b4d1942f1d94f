"""Projections: tables derived from the events, updated in the transaction that appends them.

* ``registrations``: one row per registration unit, written from the unit's folded state, plus
  its DV.O / DV.A number; ``registration_status`` is the status without the open application
  (what a bureau that audited the unit before may see, ``app/api/queries/scope.py``). Numbers follow
  the global order of first registrations: the n-th unit ever registered gets serial
  ``base + n - 1``, one counter for both service types. Live, every
  transaction that records a decision takes ``NUMBERING_LOCK`` before it writes, so those
  transactions get their transaction ids, and so their place in the global order, in the order
  they number; a rebuild that replays the events in that order gives every unit its number again.
* ``applications``, ``audits``, ``bureaus``, ``provider_ratings``: written from the events.
* ``projects``: one row per subsidy project, its findings as recorded and its status after
  the provider's check and the agency's decision (``project_changes``).
* ``public_providers``: what the public search shows of an enterprise, each field from the
  event that made it true: the name of the application the latest decision granted, the themes
  of the granted applications (``RegistrationGranted``), and its profile (description, themes,
  locations) once it keeps one (``ProviderProfileUpdated``). An application in progress, or one
  refused, changes nothing public. A database trigger fills the search columns from name and
  description.

Each table's rows have one definition, used live and by a rebuild: ``registration_row`` (a
unit's row from its folded state), ``next_serial`` (its number) and ``changes`` (what an event
changes in the other tables). ``Projector`` writes them statement by statement in the command's
transaction; ``app.events.bulk`` folds them in memory and writes each table at once.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import TextClause, text

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
    FindingOutcome,
    FollowUpMissed,
    ProjectApproved,
    ProjectConfirmed,
    ProjectDisputed,
    ProjectReclaimed,
    ProjectRecorded,
    ProjectStopped,
    ProviderProfileUpdated,
    RatingRecorded,
    RegistrationExpired,
    RegistrationGranted,
    RegistrationStopped,
    SwornDeclarationReceived,
)
from app.domain.identifiers import RegistrationNumber
from app.domain.projects import ProjectStatus
from app.domain.regions import province_of, region_key
from app.domain.registration import FOLLOW_UP_AUDITS, AuditStatus, UnitState
from app.domain.values import replace
from app.events.catalog import project_id_from_stream
from app.runtime.pg import Executes

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

_HIGHEST_SERIAL = text("SELECT max(registration_serial) FROM registrations")
_SET_NUMBER = text(
    "UPDATE registrations SET registration_serial = :serial, registration_number = :number"
    " WHERE unit_key = :unit_key"
)


# ``public_providers.listed``: the days on which one of the enterprise's registrations is in
# force (status registered, conditionally or as starter; migration 0015), for the public search
# to compare with the day of the query. Written with every write of a registration, only when
# it changes: from the enterprise's other units as stored and this unit's row as written (a
# command's deferred writes share one snapshot, ``app.services.transaction``, so the
# registration's own write is not yet visible to this one). ``listed_days`` is the same in
# memory, for a rebuild.
_SET_LISTED = text(
    """
    UPDATE public_providers p SET listed = l.listed
    FROM (SELECT coalesce(range_agg(d.days), '{}'::datemultirange) AS listed FROM (
            SELECT daterange(r.valid_from, r.valid_until, '[]') AS days FROM registrations r
            WHERE r.enterprise_number = :enterprise_number AND r.unit_key <> :unit_key
              AND r.status IN ('registered', 'registered_conditionally', 'registered_starter')
              AND r.valid_from IS NOT NULL AND r.valid_until IS NOT NULL
            UNION ALL
            SELECT daterange(CAST(:valid_from AS date), CAST(:valid_until AS date), '[]')
            WHERE CAST(:in_force AS boolean)) d) l
    WHERE p.enterprise_number = :enterprise_number AND p.listed <> l.listed
    """
)
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


def _listed_params(row: dict[str, Any]) -> dict[str, Any]:
    days = in_force_days(row)
    return {
        "enterprise_number": row["enterprise_number"],
        "unit_key": row["unit_key"],
        "valid_from": days[0] if days else None,
        "valid_until": days[1] if days else None,
        "in_force": days is not None,
    }


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


# --- what an event changes in the tables other than ``registrations`` -----------------------
#
# ``changes`` is the one definition of those rows: a pure function from an event (and, for a
# unit's events, the unit's state after it) to the changes it makes. Live, ``Projector`` turns
# each change into one SQL statement in the command's transaction; a rebuild
# (``app.events.bulk``) applies the same changes to rows in memory and writes each table in bulk.


class Merge(StrEnum):
    """How an upsert combines a column with the row already there."""

    ADD = "add"  # the sum of both
    UNION = "union"  # the distinct elements of both arrays, in the database's order


@dataclass(frozen=True, slots=True)
class Insert:
    table: str
    row: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Update:
    """Set ``values`` on the rows whose ``column`` is ``value`` and, for each (column, allowed)
    of ``only``, whose column holds one of the allowed values. No such row: nothing happens."""

    table: str
    column: str
    value: Any
    values: dict[str, Any]
    only: tuple[tuple[str, tuple[str, ...]], ...] = ()


@dataclass(frozen=True, slots=True)
class Upsert:
    """Insert ``row``; if a row with its ``key`` exists, set its other columns to ``row``'s,
    except those in ``merge``, which combine with the existing values."""

    table: str
    key: str
    row: dict[str, Any]
    merge: tuple[tuple[str, Merge], ...] = ()


Change = Insert | Update | Upsert

_OPEN_FOLLOW_UP = (
    ("status", (AuditStatus.ASSIGNED.value, AuditStatus.PLANNED.value)),
    ("audit_type", tuple(sorted(audit_type.value for audit_type in FOLLOW_UP_AUDITS))),
)


def changes(item: Projected, unit: tuple[str, UnitState] | None) -> list[Change]:
    """What ``item`` changes in ``applications``, ``audits``, ``bureaus``,
    ``provider_ratings``, ``public_providers`` and ``projects``; ``unit`` is (unit key, state
    after the event) for a unit's events."""
    event = item.event
    unit_key = unit[0] if unit else None
    row: dict[str, Any]
    match event:
        case ApplicationSubmitted():
            row = {
                "application_id": event.application_id,
                "unit_key": unit_key,
                "enterprise_number": event.enterprise_number,
                "track": event.track.value,
                "status": "open",
                "submitted_on": event.submitted_on,
            }
            return [Insert("applications", row)]
        case SwornDeclarationReceived():
            on = {"sworn_declaration_on": event.received_on}
            return [Update("applications", "application_id", event.application_id, on)]
        case RegistrationGranted():
            decided = {"status": "granted", "decided_on": event.decision_date}
            return [
                _public_name(unit, item),
                Update("applications", "application_id", event.application_id, decided),
            ]
        case ApplicationRefused() | ApplicationRefusedForNoReaction():
            decided_on = (
                event.refused_on
                if isinstance(event, ApplicationRefusedForNoReaction)
                else event.decision_date
            )
            decided = {"status": "refused", "decided_on": decided_on}
            return [Update("applications", "application_id", event.application_id, decided)]
        case AuditBureauChosen():
            application = unit[1].application if unit else None
            for_application = (
                application is not None
                and application.audit is not None
                and application.audit.audit_id == event.audit_id
            )
            row = {
                "audit_id": event.audit_id,
                "unit_key": unit_key,
                "application_id": application.application_id
                if for_application and application
                else None,
                "bureau_id": event.bureau_id,
                "audit_type": event.audit_type.value,
                "status": "assigned",
                "assigned_on": event.chosen_on,
            }
            return [Insert("audits", row)]
        case AuditPlanned():
            planned = {
                "status": "planned",
                "visit_date": event.visit_date,
                "planned_hours": event.planned_hours,
                "cost_estimate": event.cost_estimate,
            }
            return [Update("audits", "audit_id", event.audit_id, planned)]
        case AuditReportSubmitted():
            reported = {
                "status": "reported",
                "report_id": event.report_id,
                "result": event.result.value,
                "reported_on": event.submitted_on,
                "visit_date": event.visit_date,
            }
            return [Update("audits", "audit_id", event.audit_id, reported)]
        case RegistrationStopped() | RegistrationExpired() | FollowUpMissed():
            # The registration ended: a follow-up audit still open for it is dropped.
            cancelled = {"status": AuditStatus.CANCELLED.value}
            return [Update("audits", "unit_key", unit_key, cancelled, _OPEN_FOLLOW_UP)]
        case FailedAuditReactedTo():
            reacted = {"status": AuditStatus.REACTED.value}
            return [Update("audits", "audit_id", event.audit_id, reacted)]
        case AuditBureauAppointed():
            row = {
                "bureau_id": event.bureau_id,
                "name": event.name,
                "enterprise_number": event.enterprise_number,
                "appointed_from": event.appointed_from,
                "appointed_until": event.appointed_until,
                "contact": event.contact,
            }
            return [Upsert("bureaus", "bureau_id", row)]
        case AuditBureauAppointmentEnded():
            ended = {"appointed_until": event.last_day}
            return [Update("bureaus", "bureau_id", event.bureau_id, ended)]
        case ProviderProfileUpdated():
            profile = profile_row(event, item.version, item.recorded_at)
            return [Upsert("public_providers", "enterprise_number", profile)]
        case RatingRecorded():
            row = {
                "enterprise_number": event.provider_enterprise_number,
                "rating_count": 1,
                "rating_sum": event.score,
            }
            merge = (("rating_count", Merge.ADD), ("rating_sum", Merge.ADD))
            counted: list[Change] = [Upsert("provider_ratings", "enterprise_number", row, merge)]
            if event.project_id is None:  # recorded before ratings came from projects
                return counted
            rated = {
                "rating_reference": event.reference,
                "rating_score": event.score,
                "rated_on": event.rated_on,
            }
            return [*counted, Update("projects", "project_id", event.project_id, rated)]
        case (
            ProjectRecorded()
            | ProjectConfirmed()
            | ProjectDisputed()
            | ProjectApproved()
            | ProjectStopped()
            | ProjectReclaimed()
        ):
            return project_changes(item)
    return []


def project_changes(item: Projected) -> list[Change]:
    """A project's row: inserted when it is recorded, then its status and the dates and words
    of the provider's check and the agency's decision; its version and time on every event."""
    event = item.event
    row: dict[str, Any] = {"stream_version": item.version, "updated_at": item.recorded_at}
    match event:
        case ProjectRecorded():
            row |= {
                "project_id": event.project_id,
                "client_enterprise_number": event.client_enterprise_number,
                "registration_number": event.registration_number,
                "provider_enterprise_number": event.provider_enterprise_number,
                "service_type": event.service_type.value,
                "theme": event.theme,
                "start_date": event.start_date,
                "end_date": event.end_date,
                "price_excluding_vat": event.price_excluding_vat,
                "vat": event.vat,
                "participants": event.participants,
                "training_days": event.training_days,
                "catering_cost": event.catering_cost,
                "eligible_amount": event.eligible_amount,
                "findings": json.dumps(
                    [finding.model_dump(mode="json") for finding in event.findings],
                    ensure_ascii=False,
                ),
                "unmet_findings": [
                    finding.code.value
                    for finding in event.findings
                    if finding.outcome is FindingOutcome.NOT_MET
                ],
                "filed_on": event.filed_on,
                "status": ProjectStatus.TO_CHECK.value,
            }
            return [Insert("projects", row)]
        case ProjectConfirmed():
            row |= {"status": ProjectStatus.CONFIRMED.value, "checked_on": event.confirmed_on}
        case ProjectDisputed():
            row |= {
                "status": ProjectStatus.DISPUTED.value,
                "checked_on": event.disputed_on,
                "dispute_reason": event.reason.value,
                "dispute_comment": event.comment,
            }
        case ProjectApproved():
            row |= {"status": ProjectStatus.APPROVED.value, "decided_on": event.approved_on}
        case ProjectStopped():
            row |= {"status": ProjectStatus.STOPPED.value, "decided_on": event.stopped_on}
            row["decision_reason"] = event.reason
        case ProjectReclaimed():
            row |= {"status": ProjectStatus.RECLAIMED.value, "decided_on": event.reclaimed_on}
            row["decision_reason"] = event.reason
    return [Update("projects", "project_id", project_id_from_stream(item.stream_id), row)]


def _public_name(unit: tuple[str, UnitState] | None, item: Projected) -> Upsert:
    """The name and themes a decision granted are the public's from then on."""
    assert unit is not None
    registration_unit, registered = unit[1].unit, unit[1].registered
    assert registration_unit is not None
    assert registered is not None
    row = {
        "enterprise_number": str(registration_unit.enterprise_number),
        "name": registered.provider_name,
        "application_themes": list(registered.themes),
        "updated_at": item.recorded_at,
    }
    return Upsert(
        "public_providers", "enterprise_number", row, (("application_themes", Merge.UNION),)
    )


# --- live: each change as one statement in the command's transaction ------------------------

# Columns whose values are JSON text (``profile_row``): cast in the SQL, so that a driver that
# encodes jsonb parameters itself (the commands' asyncpg connection, ``app.runtime.pg``) takes the
# text
# as it is rather than as a JSON string, and SQLAlchemy's as before.
_JSON_COLUMNS = frozenset({"locations", "findings"})


def _value(column: str) -> str:
    return f"CAST(:{column} AS jsonb)" if column in _JSON_COLUMNS else f":{column}"


@functools.cache
def _insert_sql(table: str, columns: tuple[str, ...]) -> TextClause:
    return text(
        f"INSERT INTO {table} ({', '.join(columns)})"
        f" VALUES ({', '.join(_value(column) for column in columns)})"
    )


@functools.cache
def _update_sql(
    table: str, column: str, columns: tuple[str, ...], only: tuple[str, ...]
) -> TextClause:
    assignments = ", ".join(f"{name} = {_value(name)}" for name in columns)
    conditions = [f"{column} = :where_", *(f"{name} = ANY(:only_{name})" for name in only)]
    return text(f"UPDATE {table} SET {assignments} WHERE {' AND '.join(conditions)}")


_MERGED = {
    Merge.ADD: "t.{c} + EXCLUDED.{c}",
    Merge.UNION: "ARRAY(SELECT DISTINCT e FROM unnest(t.{c} || EXCLUDED.{c}) e ORDER BY e)",
}


@functools.cache
def _upsert_sql(
    table: str, key: str, columns: tuple[str, ...], merge: tuple[tuple[str, Merge], ...]
) -> TextClause:
    merged = dict(merge)
    assignments = ", ".join(
        f"{name} = "
        + (_MERGED[merged[name]].format(c=name) if name in merged else f"EXCLUDED.{name}")
        for name in columns
        if name != key
    )
    return text(
        f"INSERT INTO {table} AS t ({', '.join(columns)})"
        f" VALUES ({', '.join(_value(column) for column in columns)})"
        f" ON CONFLICT ({key}) DO UPDATE SET {assignments}"
    )


def statement(change: Change) -> tuple[TextClause, dict[str, Any]]:
    """The SQL statement that makes ``change``, and its parameters."""
    match change:
        case Insert(table, row):
            return _insert_sql(table, tuple(row)), row
        case Update(table, column, value, values, only):
            sql = _update_sql(table, column, tuple(values), tuple(name for name, _ in only))
            params = {**values, "where_": value}
            params.update({f"only_{name}": list(allowed) for name, allowed in only})
            return sql, params
        case Upsert(table, key, row, merge):
            return _upsert_sql(table, key, tuple(row), merge), row
    raise AssertionError(change)


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
        # Only a grant registers a unit (``first_registered_on`` is set by nothing else), and
        # the grant that first registered it numbered it: after any other event there is no
        # number to give, and the write can wait with the command's others (deferred, no
        # round trip of its own).
        listed = _listed_params(row)
        if state.first_registered_on is None or not isinstance(item.event, RegistrationGranted):
            if not item.superseded:
                await conn.execute(_UPSERT_REGISTRATION, row)
                await conn.execute(_SET_LISTED, listed)
            return
        serial = await conn.scalar(_UPSERT_REGISTRATION, row)
        await conn.execute(_SET_LISTED, listed)
        if serial is None:
            serial = next_serial(await conn.scalar(_HIGHEST_SERIAL), self.number_base)
            assert state.unit is not None
            number = RegistrationNumber(state.unit.service_type, serial)
            await conn.execute(
                _SET_NUMBER, {"serial": serial, "number": str(number), "unit_key": unit_key}
            )

    async def event_tables(
        self, conn: Executes, item: Projected, unit: tuple[str, UnitState] | None
    ) -> None:
        for change in changes(item, unit):
            await conn.execute(*statement(change))
