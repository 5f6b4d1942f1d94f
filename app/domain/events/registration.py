"""A registration unit's events (enterprise number + optional department + service type): its
applications, audits, reports, decisions, follow-ups, expiry, renewals and stops."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import ClassVar

from app.domain.event import DomainEvent
from app.domain.events.values import (
    AuditResult,
    CertificateHeld,
    IndicatorScore,
    RegistrationKind,
    Track,
    Verdict,
)
from app.domain.identifiers import ServiceType
from app.domain.norm import AuditType, ProfessionalBody


class ApplicationSubmitted(DomainEvent):
    event_type: ClassVar[str] = "ApplicationSubmitted"
    schema_version: ClassVar[int] = 2  # v1 spelt the certificate iso-9001
    application_id: str
    enterprise_number: str
    department: str | None = None
    service_type: ServiceType
    provider_name: str
    bank_account: str
    activities: str
    themes: tuple[str, ...]
    track: Track
    certificates: tuple[CertificateHeld, ...] = ()
    professional_body: ProfessionalBody | None = None
    activity_started_on: date | None = None  # starter track: when the activity began
    dossiers: int | None = None  # starter track: kmo-portefeuille dossiers so far
    submitted_on: date


class SwornDeclarationReceived(DomainEvent):
    """The agency received the signed *verklaring op eer*."""

    event_type: ClassVar[str] = "SwornDeclarationReceived"
    application_id: str
    received_on: date


class AuditBureauChosen(DomainEvent):
    """The provider asked an appointed bureau for an audit; it is assigned to that bureau."""

    event_type: ClassVar[str] = "AuditBureauChosen"
    schema_version: ClassVar[int] = 2  # v1: hyphenated audit types (starter-follow-up)
    audit_id: str
    bureau_id: str
    audit_type: AuditType
    chosen_on: date


class AuditPlanned(DomainEvent):
    """The bureau accepted the audit and planned the visit; cost = hours x the rate in force."""

    event_type: ClassVar[str] = "AuditPlanned"
    audit_id: str
    bureau_id: str
    visit_date: date
    planned_hours: Decimal
    hourly_rate: Decimal
    cost_estimate: Decimal


class AuditReportSubmitted(DomainEvent):
    event_type: ClassVar[str] = "AuditReportSubmitted"
    schema_version: ClassVar[int] = 2  # v1: hyphenated audit types and conditionally-passed
    audit_id: str
    report_id: str
    bureau_id: str
    audit_type: AuditType
    norm_version: str
    visit_date: date
    scores: tuple[IndicatorScore, ...]
    verdicts: tuple[Verdict, ...]
    result: AuditResult
    follow_up_deadline: date | None = None  # conditional pass only
    reaction_deadline: date | None = None  # failed only: the provider's last day to react
    submitted_on: date


class FailedAuditReactedTo(DomainEvent):
    """The provider reacted to a failed audit in time; the bureau may report again."""

    event_type: ClassVar[str] = "FailedAuditReactedTo"
    audit_id: str
    reacted_on: date
    reaction: str


class ApplicationRefusedForNoReaction(DomainEvent):
    event_type: ClassVar[str] = "ApplicationRefusedForNoReaction"
    application_id: str
    reaction_deadline: date
    refused_on: date


class RegistrationGranted(DomainEvent):
    """The minister's positive decision, recorded by the agency."""

    event_type: ClassVar[str] = "RegistrationGranted"
    application_id: str
    decision_date: date
    kind: RegistrationKind
    valid_from: date
    valid_until: date
    follow_up_deadline: date | None = None  # conditional and starter registrations
    renewal: bool = False


class ApplicationRefused(DomainEvent):
    """The minister's negative decision, recorded by the agency."""

    event_type: ClassVar[str] = "ApplicationRefused"
    application_id: str
    decision_date: date
    reason: str | None = None


class FollowUpPassed(DomainEvent):
    """A conditional registration becomes unconditional; a starter's is extended by 3 years."""

    event_type: ClassVar[str] = "FollowUpPassed"
    audit_id: str
    passed_on: date
    kind: RegistrationKind  # what the registration is now: always FULL
    valid_until: date


class FollowUpFailed(DomainEvent):
    """The follow-up audit failed: the registration ends."""

    event_type: ClassVar[str] = "FollowUpFailed"
    audit_id: str
    failed_on: date


class FollowUpMissed(DomainEvent):
    """No follow-up audit passed by the deadline: the registration ends."""

    event_type: ClassVar[str] = "FollowUpMissed"
    deadline: date
    missed_on: date


class RegistrationExpired(DomainEvent):
    event_type: ClassVar[str] = "RegistrationExpired"
    valid_until: date
    expired_on: date


class RegistrationStopped(DomainEvent):
    """The agency stopped the registration, e.g. after misuse was found."""

    event_type: ClassVar[str] = "RegistrationStopped"
    reason: str
    stopped_on: date
