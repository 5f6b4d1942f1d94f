"""Request bodies: applications, audits and their reports, decisions, deadlines, bureaus,
ratings and the provider's public profile."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationInfo,
    field_validator,
)

from app.api.schemas.fields import (
    FIRST_DAY,
    LAST_DAY,
    AuditResultIn,
    AuditTypeIn,
    Body,
    CertificateKind,
    Day,
    EnterpriseNumberText,
    IbanText,
    Identifier,
    LongText,
    ProvinceIn,
    ShortText,
    Theme,
    _printable,
)
from app.domain.events import Score, Track
from app.domain.identifiers import ServiceType
from app.domain.norm import CURRENT_NORM, ProfessionalBody, Requirement
from app.domain.regions import Province, UnknownPostalCode, province_of

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
