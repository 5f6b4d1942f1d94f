"""Subsidy projects (app/api/routers/projects.py): their requests and response documents."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated

from pydantic import AfterValidator, ConfigDict, Field, StringConstraints

from app.api.schemas.fields import (
    Body,
    Day,
    EnterpriseNumberText,
    Identifier,
    LongText,
    ShortText,
    canonical_registration_number,
)
from app.api.schemas.requests import READ_ONLY
from app.api.schemas.responses import View
from app.domain.events import DisputeReason, FindingCode, FindingOutcome
from app.domain.identifiers import ServiceType
from app.domain.projects import ProjectStatus

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
