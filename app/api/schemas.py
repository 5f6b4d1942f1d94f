"""Request bodies and response documents of the HTTP API.

Identifiers are accepted in their common written forms and returned canonical: enterprise
numbers (``BE 0403.170.701`` -> ``0403170701``), IBANs (spaces, lower case), registration
numbers (``dv.o 236716`` -> ``DV.O236716``). Text is bounded and free of control characters
(PostgreSQL cannot store NUL); dates lie between 1900 and 2999. A field that breaks any of this
is a ``validation-failed`` problem with a JSON pointer to it.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any, Generic, TypeVar

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationInfo,
    field_validator,
)

from app.domain.events import (
    AuditResult,
    DisputeReason,
    FindingCode,
    FindingOutcome,
    RegistrationKind,
    Score,
    Track,
)
from app.domain.identifiers import (
    BankAccount,
    EnterpriseNumber,
    InvalidIdentifier,
    RegistrationNumber,
    ServiceType,
    written_registration_numbers,
)
from app.domain.norm import (
    CURRENT_NORM,
    AuditType,
    Certificate,
    ProfessionalBody,
    Requirement,
)
from app.domain.policies import ELIGIBLE_THEMES
from app.domain.projects import ProjectStatus
from app.domain.regions import Province, UnknownPostalCode, province_of
from app.domain.registration import ApplicationStatus, AuditStatus, DeadlineKind, Status

T = TypeVar("T")

FIRST_DAY, LAST_DAY = date(1900, 1, 1), date(2999, 12, 31)


# The C0 controls but tab, line feed and carriage return, and DEL: one search, not a loop over
# the characters in Python (every text field of every request goes through it).
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _printable(value: str) -> str:
    if _CONTROL.search(value):
        raise ValueError("must not contain control characters")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("must be valid Unicode text") from None
    return value


def _day(value: date) -> date:
    if not FIRST_DAY <= value <= LAST_DAY:
        raise ValueError(f"must lie between {FIRST_DAY} and {LAST_DAY}")
    return value


def enterprise_number(value: str) -> str:
    try:
        return str(EnterpriseNumber.parse(value))
    except InvalidIdentifier as exc:
        raise ValueError(exc.detail) from None


def canonical_registration_number(value: str) -> str:
    """A registration number in any written form, canonical (``DV.O000001``): with or without
    the dot, in any case, its digits padded (``DV.O17`` is ``DV.O000017``). The service type's
    letter is needed: see ``registration_numbers`` for the digits alone."""
    numbers = registration_numbers(value)
    if len(numbers) != 1:
        raise ValueError(f"{value.strip()!r} needs its DV.O or DV.A: DV.O{numbers[0].serial:06d}")
    return str(numbers[0])


def registration_numbers(value: str) -> tuple[RegistrationNumber, ...]:
    """What a written number may mean, for a search: ``17`` is ``DV.O000017`` or
    ``DV.A000017`` (``identifiers.written_registration_numbers``)."""
    try:
        return written_registration_numbers(value)
    except InvalidIdentifier as exc:
        raise ValueError(exc.detail) from None


def _iban(value: str) -> str:
    try:
        return str(BankAccount.parse(value))
    except InvalidIdentifier as exc:
        raise ValueError(exc.detail) from None


def _theme(value: str) -> str:
    if value not in ELIGIBLE_THEMES:
        raise ValueError(f"not an eligible theme; one of: {', '.join(sorted(ELIGIBLE_THEMES))}")
    return value


ShortText = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=200),
    AfterValidator(_printable),
]
LongText = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=5000),
    AfterValidator(_printable),
]


ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,99}$"
Identifier = Annotated[
    str,
    StringConstraints(pattern=ID_PATTERN),
    Field(description="Letters, digits and . _ : - (at most 100)", examples=["bureau-kiwa"]),
]
Day = Annotated[date, AfterValidator(_day)]
EnterpriseNumberText = Annotated[
    str,
    StringConstraints(max_length=40),
    AfterValidator(enterprise_number),
    Field(
        description="Belgian enterprise number in any common form; returned as 10 digits",
        examples=["BE 0403.170.701"],
    ),
]
IbanText = Annotated[
    str,
    StringConstraints(max_length=64),
    AfterValidator(_iban),
    Field(description="IBAN of a SEPA country", examples=["BE68 5390 0754 7034"]),
]
Theme = Annotated[str, AfterValidator(_theme)]


def _snake_case(value: object) -> object:
    """Every enumerated value of the API is snake_case; the hyphenated spellings of before
    (``conditionally-passed``) are still understood on input, and never emitted."""
    return value.replace("-", "_") if isinstance(value, str) else value


AuditTypeIn = Annotated[AuditType, BeforeValidator(_snake_case)]
AuditResultIn = Annotated[AuditResult, BeforeValidator(_snake_case)]
CertificateKind = Annotated[Certificate, BeforeValidator(_snake_case)]
ProvinceIn = Annotated[Province, BeforeValidator(_snake_case)]


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# --- requests ----------------------------------------------------------------------------

# A write takes back what the read of the same resource returns (tests/api/test_round_trip.py).
READ_ONLY = "Read-only: what a read returns may be sent back; ignored on a write"


class CertificateIn(Body):
    certificate: CertificateKind
    valid_until: Day


class SubmitApplicationRequest(Body):
    """A provider's application for one service type (its enterprise comes from its token)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "service_type": "opleiding",
                    "provider_name": "Vormingscentrum Voorbeeld",
                    "bank_account": "BE68 5390 0754 7034",
                    "activities": "Opleidingen digitale vaardigheden voor kmo's",
                    "themes": ["digitalisering", "innovatie"],
                    "track": "basic",
                }
            ]
        }
    )

    service_type: ServiceType
    department: ShortText | None = Field(
        None, description="Universities and university colleges register per department"
    )
    provider_name: ShortText
    bank_account: IbanText
    activities: LongText
    themes: list[Theme] = Field(min_length=1, max_length=8)
    track: Track = Track.BASIC
    certificates: list[CertificateIn] = Field(default_factory=list, max_length=3)
    professional_body: ProfessionalBody | None = None
    activity_started_on: Day | None = Field(None, description="Starter track: start of activity")
    dossiers: int | None = Field(
        None, ge=0, le=1_000_000, description="Starter track: kmo-portefeuille dossiers so far"
    )


class ChooseBureauRequest(Body):
    model_config = ConfigDict(json_schema_extra={"examples": [{"bureau_id": "bureau-kiwa"}]})

    bureau_id: Identifier


class SwornDeclarationRequest(Body):
    model_config = ConfigDict(json_schema_extra={"examples": [{"received_on": "2026-11-20"}]})

    received_on: Day | None = Field(None, description="Default: today")


class PlanAuditRequest(Body):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"visit_date": "2026-12-15", "planned_hours": "6.5"}]}
    )

    visit_date: Day
    planned_hours: Decimal = Field(gt=0, le=1000, max_digits=6, decimal_places=2)


class IndicatorScoreIn(Body):
    indicator: Annotated[str, StringConstraints(pattern=r"^\d{1,2}\.\d{1,2}$")] = Field(
        examples=["1.1"]
    )
    conformity: Score = Field(description="overeenstemming: B, G, T or V")
    demonstrability: Score = Field(description="aantoonbaarheid: B, G, T or V")


class VerdictIn(Body):
    requirement: Requirement = Field(description="1 activity ... 5 integrity")
    met: bool


# A basic audit passed on every requirement: the indicators are the norm's own (never a copy).
_REPORT_EXAMPLE: dict[str, Any] = {
    "audit_type": "basic",
    "visit_date": "2026-12-15",
    "norm_version": CURRENT_NORM.version,
    "scores": [
        {"indicator": i.code, "conformity": "T", "demonstrability": "V"}
        for i in CURRENT_NORM.indicators
    ],
    "verdicts": [{"requirement": r.value, "met": True} for r in Requirement],
    "result": "passed",
}


class AuditReportRequest(Body):
    """The bureau's report: two scores per audited indicator, a verdict per audited
    requirement, the result; a conditional pass names its follow-up deadline (6-12 months)."""

    model_config = ConfigDict(json_schema_extra={"examples": [_REPORT_EXAMPLE]})

    report_id: Identifier | None = Field(None, description="The bureau's reference; default new")
    audit_type: AuditTypeIn
    visit_date: Day
    norm_version: Annotated[str, StringConstraints(pattern=r"^[0-9A-Za-z.-]{1,20}$")] = "2019"
    scores: list[IndicatorScoreIn] = Field(max_length=200)
    verdicts: list[VerdictIn] = Field(max_length=10)
    result: AuditResultIn
    follow_up_deadline: Day | None = None


class ReactionRequest(Body):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"reaction": "Klanttevredenheid wordt nu gemeten."}]}
    )

    reaction: LongText


class DecisionRequest(Body):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"granted": True, "decision_date": "2026-12-20"}]}
    )

    granted: bool
    decision_date: Day | None = Field(None, description="Default: today")
    reason: LongText | None = None


def _instant(value: datetime) -> datetime:
    if not FIRST_DAY <= value.date() <= LAST_DAY:
        raise ValueError(f"must lie between {FIRST_DAY} and {LAST_DAY}")
    return value if value.tzinfo else value.replace(tzinfo=UTC)


class DeadlineRunRequest(Body):
    """Optional: without a body the job runs at the current time."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"now": "2026-12-01T06:00:00Z"}]})

    now: Annotated[datetime, AfterValidator(_instant)] | None = Field(
        None,
        description="The instant to judge deadlines at (default: now; a time without a zone is "
        "UTC). Never later than the real clock (422 deadlines-ahead-of-clock), except in a test "
        "environment: the events written are permanent. Preview a later day with "
        "GET /deadlines?until=.",
    )


class StopRequest(Body):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"reason": "Misbruik vastgesteld bij controle"}]}
    )

    reason: LongText


class AppointBureauRequest(Body):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "bureau_id": "bureau-kiwa",
                    "name": "Kiwa Belgium",
                    "enterprise_number": "0417.497.106",
                    "appointed_from": "2024-01-01",
                    "contact": "kmop@kiwa.example",
                }
            ]
        }
    )

    bureau_id: Identifier
    name: ShortText
    enterprise_number: EnterpriseNumberText
    appointed_from: Day
    appointed_until: Day | None = None
    contact: ShortText | None = None
    version: int | None = Field(None, description=READ_ONLY)


class RetireBureauRequest(Body):
    model_config = ConfigDict(json_schema_extra={"examples": [{"last_day": "2027-12-31"}]})

    last_day: Day


class RatingRequest(Body):
    """A client's rating of the provider of one of its projects, as the agency's systems
    record it: once per project, by the project's client, from the service's last day on, of a
    project the agency approved."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "reference": "rating-2026-000123",
                    "project_id": "kmop-2027-000123",
                    "client_enterprise_number": "BE0202239951",
                    "score": 4,
                }
            ]
        }
    )

    reference: Identifier
    project_id: Identifier = Field(description="The project rated; its provider is the one rated")
    client_enterprise_number: EnterpriseNumberText
    provider_enterprise_number: EnterpriseNumberText | None = Field(
        None, description="Optional: if sent, it must be the project's provider"
    )
    score: int = Field(ge=1, le=5)
    rated_on: Day | None = None


class LocationIn(Body):
    name: ShortText | None = Field(None, description="The location's own name, if any")
    street: ShortText = Field(description="Street and number", examples=["Kortrijksesteenweg 1"])
    postal_code: Annotated[str, StringConstraints(max_length=10)] = Field(
        description="Belgian, four digits (the province follows from it)", examples=["9000"]
    )
    municipality: ShortText = Field(examples=["Gent"])
    province: ProvinceIn | None = Field(
        None,
        description="Read-only: it follows from the postal code. Sent back, it must be the "
        "postal code's province (else 422); it is never stored.",
    )

    @field_validator("province")
    @classmethod
    def _province_of_the_postal_code(
        cls, province: Province | None, info: ValidationInfo
    ) -> Province | None:
        code = info.data.get("postal_code")
        if province is None or code is None:
            return province
        try:
            expected = province_of(code)
        except UnknownPostalCode:
            return province  # the postal code itself is refused, with its own reason
        if province is not expected:
            raise ValueError(f"postal code {code} lies in {expected.value}, not {province.value}")
        return province


class ProfileRequest(Body):
    """The provider's public profile as it is from now on (the whole profile, not a patch)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "description": "Opleidingen en advies rond digitalisering voor kmo's.",
                    "themes": ["digitalisering", "innovatie"],
                    "locations": [
                        {
                            "street": "Kortrijksesteenweg 1",
                            "postal_code": "9000",
                            "municipality": "Gent",
                        }
                    ],
                    "website": "https://www.voorbeeld.be",
                }
            ]
        }
    )

    description: Annotated[
        str, StringConstraints(strip_whitespace=True, max_length=4000), AfterValidator(_printable)
    ] = ""
    themes: list[Theme] = Field(default_factory=list, max_length=8)
    locations: list[LocationIn] = Field(default_factory=list, max_length=50)
    website: (
        Annotated[
            str,
            StringConstraints(strip_whitespace=True, max_length=300),
            AfterValidator(_printable),
        ]
        | None
    ) = Field(None, examples=["https://www.voorbeeld.be"])
    enterprise_number: EnterpriseNumberText | None = Field(
        None, description="Read-only: if sent, it must be the path's enterprise (else 422)"
    )
    version: int | None = Field(None, description=READ_ONLY + " (use If-Match to guard a race)")


# --- responses ---------------------------------------------------------------------------


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


# --- subsidy projects (app/api/routers/projects.py) -----------------------------------------------

Money = Annotated[
    Decimal,
    Field(ge=0, le=Decimal("9999999999.99"), max_digits=12, decimal_places=2),
]
RegistrationNumberText = Annotated[
    str,
    StringConstraints(max_length=40),
    AfterValidator(canonical_registration_number),
    Field(description="In any written form; returned as DV.O236716", examples=["DV.O000001"]),
]


class FindingView(View):
    code: FindingCode
    outcome: FindingOutcome
    explanation: str


class ProjectRating(View):
    reference: str
    score: int
    rated_on: date


class ProjectReadOnly(Body):
    """What a project's read returns beyond what recording it takes: it may be sent back, and
    is ignored (the service computes it, or later commands make it)."""

    provider_enterprise_number: str | None = Field(None, description=READ_ONLY)
    eligible_amount: Decimal | None = Field(None, description=READ_ONLY)
    findings: list[FindingView] | None = Field(None, description=READ_ONLY)
    filed_on: date | None = Field(None, description=READ_ONLY)
    status: ProjectStatus | None = Field(None, description=READ_ONLY)
    checked_on: date | None = Field(None, description=READ_ONLY)
    dispute_reason: DisputeReason | None = Field(None, description=READ_ONLY)
    dispute_comment: str | None = Field(None, description=READ_ONLY)
    decided_on: date | None = Field(None, description=READ_ONLY)
    decision_reason: str | None = Field(None, description=READ_ONLY)
    rating: ProjectRating | None = Field(None, description=READ_ONLY)
    waiting_days: int | None = Field(None, description=READ_ONLY)
    version: int | None = Field(None, description=READ_ONLY)


class RecordProjectRequest(ProjectReadOnly):
    """A project filed in the kmo-portefeuille application, as the agency's systems record it.
    Amounts in euro, at most to the cent (a JSON string or number: "1200.00")."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "project_id": "kmop-2027-000123",
                    "client_enterprise_number": "BE0202239951",
                    "registration_number": "DV.O000001",
                    "service_type": "opleiding",
                    "theme": "digitalisering",
                    "start_date": "2027-01-04",
                    "end_date": "2027-01-06",
                    "price_excluding_vat": "1200.00",
                    "vat": "252.00",
                    "participants": 4,
                    "training_days": "3",
                    "catering_cost": "360.00",
                }
            ]
        }
    )

    project_id: Identifier = Field(description="The kmo-portefeuille application's project id")
    client_enterprise_number: EnterpriseNumberText
    registration_number: RegistrationNumberText
    service_type: ServiceType
    theme: ShortText = Field(description="As filed; the findings say whether it is eligible")
    start_date: Day
    end_date: Day
    price_excluding_vat: Money
    vat: Money
    participants: int | None = Field(None, ge=1, le=100_000, description="Training only")
    training_days: Decimal | None = Field(
        None, gt=0, le=1000, max_digits=6, decimal_places=2, description="Training only"
    )
    catering_cost: Money | None = Field(None, description="Training only (default 0)")


class DisputeProjectRequest(Body):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "reason": "client_did_not_enrol",
                    "comment": "Deze klant schreef zich nooit in voor de opleiding.",
                }
            ]
        }
    )

    reason: DisputeReason = Field(description="One of the brochure's reasons (Fase III)")
    comment: LongText


class ReclaimRequest(Body):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"reason": "Na betaling vastgesteld: de opleiding vond nooit plaats"}]
        }
    )

    reason: LongText


class Project(View):
    project_id: str
    client_enterprise_number: str
    registration_number: str
    provider_enterprise_number: str | None = Field(
        description="The enterprise whose unit holds the number; null: no unit does"
    )
    service_type: ServiceType
    theme: str
    start_date: date
    end_date: date
    price_excluding_vat: Decimal
    vat: Decimal
    participants: int | None
    training_days: Decimal | None
    catering_cost: Decimal | None
    eligible_amount: Decimal = Field(
        description="Price excluding VAT plus catering up to its cap; 0.00 when a finding makes "
        "the whole service ineligible (not registered, filed late, theme not eligible)"
    )
    findings: list[FindingView] = Field(description="Computed when the project was recorded")
    filed_on: date = Field(description="The day the agency's systems recorded it (Belgium)")
    status: ProjectStatus
    checked_on: date | None = Field(description="When the provider confirmed or disputed it")
    dispute_reason: DisputeReason | None
    dispute_comment: str | None
    decided_on: date | None = Field(description="When the agency approved, stopped, reclaimed")
    decision_reason: str | None = Field(
        description="The agency's reason to stop or reclaim (the agency only; null for others)"
    )
    rating: ProjectRating | None = Field(
        description="Its client's rating (the agency only; null for others, and until rated)"
    )
    waiting_days: int = Field(
        description="Days the project waited for the provider's check: from filing to the "
        "check (or to the agency's decision, or today while it is still to check)"
    )
    version: int = Field(description="The project's stream version; also the ETag")
