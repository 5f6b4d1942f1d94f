"""What an event changes in the tables other than ``registrations`` (``changes``): the one
definition of those rows, applied live (``app.events.projections.live``) and by a rebuild
(``app.events.bulk``)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

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
from app.domain.projects import ProjectStatus
from app.domain.registration import FOLLOW_UP_AUDITS, AuditStatus, UnitState
from app.events.catalog import project_id_from_stream
from app.events.projections.rows import Projected, profile_row

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
