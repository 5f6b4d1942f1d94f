"""A subsidy project's events (stream ``project:<project id>``): what the agency's systems
recorded of it with the findings computed then, the provider's check, the agency's approval,
stop or reclaim."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import ClassVar

from app.domain.event import DomainEvent
from app.domain.events.values import Value
from app.domain.identifiers import ServiceType


class FindingOutcome(StrEnum):
    MET = "met"
    NOT_MET = "not_met"
    NOT_APPLICABLE = "not_applicable"


class FindingCode(StrEnum):
    """The checks the service computes on a project (DOMAIN.md, the provider as co-guardian)."""

    REGISTERED_ON_START_DATE = "registered_on_start_date"
    FILED_IN_TIME = "filed_in_time"
    ELIGIBLE_THEME = "eligible_theme"
    VAT_NOT_ELIGIBLE = "vat_not_eligible"
    CATERING_WITHIN_CAP = "catering_within_cap"


class Finding(Value):
    """One named check on a project, its outcome and why, in words a provider reads."""

    code: FindingCode
    outcome: FindingOutcome
    explanation: str


class DisputeReason(StrEnum):
    """The brochure's reasons (seeds/000, Fase III) for a provider to dispute a project."""

    CLIENT_DID_NOT_ENROL = "client_did_not_enrol"  # did not enrol nor sign the advice contract
    WRONG_AMOUNT = "wrong_amount"
    FILED_TOO_LATE = "filed_too_late"
    SERVICE_NOT_ELIGIBLE = "service_not_eligible"


class ProjectRecorded(DomainEvent):
    """The agency's systems recorded a project filed in the kmo-portefeuille application, with
    the findings computed when it was recorded (``app/domain/projects.py``): frozen here, so a
    later stop or expiry of the registration, or a later policy, never rewrites them."""

    event_type: ClassVar[str] = "ProjectRecorded"
    project_id: str
    client_enterprise_number: str
    registration_number: str
    provider_enterprise_number: str | None  # the unit's that holds the number; None: unknown
    service_type: ServiceType
    theme: str
    start_date: date
    end_date: date
    price_excluding_vat: Decimal  # EUR, in cents
    vat: Decimal
    participants: int | None = None  # training only
    training_days: Decimal | None = None
    catering_cost: Decimal | None = None
    filed_on: date  # the day the agency's systems recorded it (Belgium)
    findings: tuple[Finding, ...]
    eligible_amount: Decimal


class ProjectConfirmed(DomainEvent):
    """The provider confirms: this client really enrolled or signed, and the data is right."""

    event_type: ClassVar[str] = "ProjectConfirmed"
    confirmed_on: date


class ProjectDisputed(DomainEvent):
    event_type: ClassVar[str] = "ProjectDisputed"
    reason: DisputeReason
    comment: str
    disputed_on: date


class ProjectApproved(DomainEvent):
    event_type: ClassVar[str] = "ProjectApproved"
    approved_on: date


class ProjectStopped(DomainEvent):
    """The agency stops the project (*stopzetting indien niet ok*), with a reason."""

    event_type: ClassVar[str] = "ProjectStopped"
    reason: str
    stopped_on: date


class ProjectReclaimed(DomainEvent):
    """Found wrongly granted after payment: the subsidy is reclaimed (*teruggevorderd*)."""

    event_type: ClassVar[str] = "ProjectReclaimed"
    reason: str
    reclaimed_on: date
