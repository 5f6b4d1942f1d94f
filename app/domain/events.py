"""The events of the registration process: the vocabulary of DOMAIN.md, "The process, as events".

Four kinds of streams:

* a **registration unit** (enterprise number + optional department + service type) carries its
  applications, audits, reports, decisions, follow-ups, expiry, renewals and stops;
* an **audit bureau** carries its appointment;
* a **rating** carries one client's rating of a provider, under the rating's own reference, so
  the same rating can never be counted twice;
* a **provider** (enterprise number) carries its public profile;
* a **subsidy project** (project id, as the kmo-portefeuille application numbers it) carries
  what the agency's systems recorded of it with the findings computed then, the provider's
  check, the agency's approval, stop or reclaim, and its client's rating.

Events record the facts as decided, dates included (a registration's validity is computed once,
by the policy in force, and stored in ``RegistrationGranted``), so replaying them never depends
on today's policies.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import ClassVar

from pydantic import BaseModel, ConfigDict, Field

from app.domain.event import DomainEvent
from app.domain.identifiers import ServiceType
from app.domain.norm import AuditType, Certificate, ProfessionalBody, Requirement


class Track(StrEnum):
    """The audit track an application asks for."""

    BASIC = "basic"
    STARTER = "starter"
    RENEWAL = "renewal"


class AuditResult(StrEnum):
    PASSED = "passed"  # geslaagd
    CONDITIONALLY_PASSED = "conditionally_passed"  # voorwaardelijk geslaagd
    FAILED = "failed"  # niet geslaagd


class Score(StrEnum):
    """An indicator's score: beperkt, gedeeltelijk, toereikend, volkomen."""

    B = "B"
    G = "G"
    T = "T"
    V = "V"


SCORE_MEANINGS: dict[Score, str] = {
    Score.B: "beperkt",
    Score.G: "gedeeltelijk",
    Score.T: "toereikend",
    Score.V: "volkomen",
}


class RegistrationKind(StrEnum):
    FULL = "full"
    CONDITIONAL = "conditional"
    STARTER = "starter"


class Value(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class CertificateHeld(Value):
    certificate: Certificate
    valid_until: date


class IndicatorScore(Value):
    """Both scores of one audited indicator.

    ``conformity`` is *overeenstemming* (a described way of working exists);
    ``demonstrability`` is *aantoonbaarheid* (it is applied in practice).
    """

    indicator: str
    conformity: Score
    demonstrability: Score


class Verdict(Value):
    """The certification committee's verdict on one audited requirement."""

    requirement: Requirement
    met: bool


# --- registration unit -------------------------------------------------------------------


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


# --- audit bureau ------------------------------------------------------------------------


class AuditBureauAppointed(DomainEvent):
    event_type: ClassVar[str] = "AuditBureauAppointed"
    bureau_id: str
    name: str
    enterprise_number: str
    appointed_from: date
    appointed_until: date | None = None
    contact: str | None = None


class AuditBureauAppointmentEnded(DomainEvent):
    event_type: ClassVar[str] = "AuditBureauAppointmentEnded"
    bureau_id: str
    last_day: date


# --- rating ------------------------------------------------------------------------------


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


# --- a provider's public profile (stream provider:<enterprise number>) -------------------------


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


# --- a subsidy project (stream project:<project id>) ---------------------------------------


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


UNIT_EVENTS: tuple[type[DomainEvent], ...] = (
    ApplicationSubmitted,
    SwornDeclarationReceived,
    AuditBureauChosen,
    AuditPlanned,
    AuditReportSubmitted,
    FailedAuditReactedTo,
    ApplicationRefusedForNoReaction,
    RegistrationGranted,
    ApplicationRefused,
    FollowUpPassed,
    FollowUpFailed,
    FollowUpMissed,
    RegistrationExpired,
    RegistrationStopped,
)
BUREAU_EVENTS: tuple[type[DomainEvent], ...] = (AuditBureauAppointed, AuditBureauAppointmentEnded)
RATING_EVENTS: tuple[type[DomainEvent], ...] = (RatingRecorded,)
PROVIDER_EVENTS: tuple[type[DomainEvent], ...] = (ProviderProfileUpdated,)
PROJECT_EVENTS: tuple[type[DomainEvent], ...] = (
    ProjectRecorded,
    ProjectConfirmed,
    ProjectDisputed,
    ProjectApproved,
    ProjectStopped,
    ProjectReclaimed,
)
ALL_EVENTS = UNIT_EVENTS + BUREAU_EVENTS + RATING_EVENTS + PROVIDER_EVENTS + PROJECT_EVENTS
