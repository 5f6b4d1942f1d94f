"""Response documents: registrations, applications, audits, bureaus, ratings, deadlines,
history, pages, and the public profile and search."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from app.api.schemas.requests import IndicatorScoreIn, VerdictIn
from app.domain.events import AuditResult, RegistrationKind, Track
from app.domain.identifiers import ServiceType
from app.domain.norm import AuditType
from app.domain.regions import Province
from app.domain.registration import ApplicationStatus, AuditStatus, DeadlineKind, Status

# --- responses ---------------------------------------------------------------------------

T = TypeVar("T")


class View(BaseModel):
    model_config = ConfigDict(frozen=True)


class PendingDeadline(View):
    kind: DeadlineKind
    last_day: date


class Registration(View):
    """A registration unit: one provider (department) and one service type."""

    id: str = Field(description="The unit: enterprise number, service type (and department)")
    registration_number: str | None = Field(None, examples=["DV.O000001"])
    enterprise_number: str
    department: str | None
    service_type: ServiceType
    provider_name: str
    status: Status
    registration_kind: RegistrationKind | None = None
    first_registered_on: date | None
    valid_from: date | None
    valid_until: date | None
    pending_deadline: PendingDeadline | None
    open_application_id: str | None
    current_audit_id: str | None
    current_bureau_id: str | None
    version: int = Field(description="The stream version; also the ETag")
    as_of: datetime | None = Field(None, description="Set when asked as of a past instant")


class AuditSummary(View):
    audit_id: str
    bureau_id: str
    audit_type: AuditType
    status: AuditStatus
    visit_date: date | None
    result: AuditResult | None


class Application(View):
    application_id: str
    registration_id: str
    enterprise_number: str
    service_type: ServiceType
    track: Track
    status: ApplicationStatus
    submitted_on: date
    sworn_declaration_on: date | None
    decided_on: date | None
    audit: AuditSummary | None
    registration_number: str | None
    version: int


class Report(View):
    report_id: str
    audit_type: AuditType
    norm_version: str
    visit_date: date
    scores: list[IndicatorScoreIn]
    verdicts: list[VerdictIn]
    result: AuditResult
    follow_up_deadline: date | None
    reaction_deadline: date | None
    submitted_on: date


class Reaction(View):
    reacted_on: date
    reaction: str


class AuditListItem(View):
    audit_id: str
    registration_id: str
    application_id: str | None = Field(description="None for a follow-up audit")
    enterprise_number: str
    provider_name: str
    service_type: ServiceType
    bureau_id: str
    audit_type: AuditType
    status: AuditStatus
    assigned_on: date
    visit_date: date | None
    planned_hours: Decimal | None
    cost_estimate: Decimal | None = Field(description="planned hours x the hourly rate, EUR")
    version: int = Field(description="The registration unit's stream version; also the ETag")


class Audit(AuditListItem):
    """An audit with every report on it (scores and verdicts) and the provider's reactions."""

    reports: list[Report]
    reactions: list[Reaction]


class Bureau(View):
    bureau_id: str
    name: str
    enterprise_number: str
    appointed_from: date
    appointed_until: date | None
    contact: str | None
    version: int


class Rating(View):
    reference: str
    project_id: str | None = Field(
        description="The project rated; null for a rating recorded before ratings came from "
        "projects (still counted)"
    )
    provider_enterprise_number: str
    client_enterprise_number: str
    score: int
    rated_on: date


class DeadlineRun(View):
    now: datetime
    units_checked: int
    events: dict[str, int]
    failed: list[str]


class ActorRole(StrEnum):
    AGENCY = "agency"
    BUREAU = "bureau"
    PROVIDER = "provider"
    SYSTEM = "system"  # the deadline job, the demo loader


class DueDeadline(View):
    unit_id: str = Field(description="The registration unit", examples=["0403170701:opleiding"])
    registration_number: str | None = Field(None, examples=["DV.O000001"])
    kind: DeadlineKind = Field(description="The deadline that passed", examples=["expiry"])
    last_day: date = Field(description="The deadline's last day", examples=["2029-03-01"])
    due_on: date = Field(
        description="The first day a run records the event: the day after the last day",
        examples=["2029-03-02"],
    )
    event_type: str = Field(examples=["RegistrationExpired"])
    data: dict[str, Any] = Field(
        description="The event as a run on `until` would record it",
        examples=[{"valid_until": "2029-03-01", "expired_on": "2031-01-16"}],
    )


class DeadlinePreview(View):
    """What a run of the deadline job on ``until`` would record, ordered by ``due_on``;
    asking writes nothing."""

    until: date
    due: list[DueDeadline]


class Actor(View):
    id: str
    role: ActorRole


class HistoryEvent(View):
    position: int
    version: int
    event_type: str
    schema_version: int
    data: dict[str, Any]
    actor: Actor | None
    correlation_id: str | None
    idempotency_key: str | None
    recorded_at: datetime


class Page(View, Generic[T]):
    items: list[T]
    next_cursor: str | None = Field(
        None, description="Pass as ?cursor= for the next page; null on the last page"
    )


class Location(View):
    name: str | None = None
    street: str
    postal_code: str
    municipality: str
    province: Province = Field(description="Follows from the postal code (Brussels counts as one)")


class Profile(View):
    """A provider's profile as it keeps it (the public sees it on /public/providers/...)."""

    enterprise_number: str
    description: str
    themes: list[str]
    locations: list[Location]
    website: str | None = None
    version: int = Field(description="The profile's version, also its ETag; 0 before any")


class PublicRating(View):
    average: float = Field(description="1 to 5, rounded to one decimal")
    count: int


class PublicRegistration(View):
    number: str = Field(examples=["DV.O236716"])
    service_type: ServiceType
    status: Status = Field(description="registered, registered_conditionally or registered_starter")
    status_label: str = Field(description="The status in the public's words (Dutch)")
    valid_from: date
    valid_until: date


class PublicProvider(View):
    """What anyone may know of a registered provider: nothing more."""

    enterprise_number: str
    name: str
    description: str | None = None
    website: str | None = None
    themes: list[str]
    locations: list[Location]
    registrations: list[PublicRegistration]
    rating: PublicRating | None = None


class PublicSearchResult(View):
    items: list[PublicProvider]
    total: int = Field(description="How many providers match (counted up to total_limit)")
    total_is_exact: bool = Field(description="false when more match than were counted")
    page: int
    limit: int
    next_page: int | None = Field(None, description="Pass as ?page= for more; null at the end")


class PublicOptions(View):
    """What the search form offers: the themes, service types and provinces."""

    themes: list[str]
    service_types: list[ServiceType]
    provinces: dict[Province, str] = Field(description="slug -> name")
