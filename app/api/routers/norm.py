"""``GET /norm``: the kmop-norm as bureau software needs it to build a valid audit report.

Everything comes from ``app/domain/norm.py`` and ``app/domain/policies.py`` as it is read: the
versions with their requirements and indicators, what each audit type audits and what the
exemptions take out, the scores, the results and the follow-up window of a conditional pass,
and the hourly audit rate with the day from which each holds. Public, no login; it changes only
with a release, so it may be cached (``ETag``, ``Cache-Control: max-age``; ``If-None-Match``
gets 304).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from fastapi import APIRouter, Request
from fastapi.responses import Response
from pydantic import ConfigDict, Field

from app.api.routers.public import cacheable
from app.api.schemas import View
from app.domain.events import SCORE_MEANINGS, AuditResult, Score
from app.domain.identifiers import ServiceType
from app.domain.norm import (
    AUDITED_BY_TYPE,
    CERTIFICATE_EXEMPTS,
    CURRENT_NORM,
    NORM_VERSIONS,
    PROFESSIONAL_BODY_EXEMPTS,
    REQUIREMENT_NAMES,
    AuditType,
    Certificate,
    NormVersion,
    ProfessionalBody,
    Requirement,
)
from app.domain.policies import (
    CONDITIONAL_FOLLOW_UP_MAX_MONTHS,
    CONDITIONAL_FOLLOW_UP_MIN_MONTHS,
    HOURLY_RATES,
)

router = APIRouter(tags=["public"])
NORM_MAX_AGE_SECONDS = 86_400  # the norm changes with a release, not during a day


class NormRequirement(View):
    requirement: Requirement = Field(description="1 activity ... 5 integrity")
    key: str = Field(examples=["client_satisfaction"])
    name: str = Field(description="The brochure's name (Dutch)", examples=["Klanttevredenheid"])


class NormIndicator(View):
    indicator: str = Field(examples=["3.2"])
    requirement: Requirement
    description: str


class NormEdition(View):
    version: str = Field(description="A report's norm_version", examples=["2019"])
    valid_from: date
    requirements: list[NormRequirement]
    indicators: list[NormIndicator] = Field(description="Each scored twice in a report")


class NormAuditType(View):
    audit_type: AuditType
    audits: list[Requirement] | None = Field(
        description="The requirements it scores and judges before exemptions; null for a "
        "conditional follow-up, which audits those its registration's report found lacking"
    )
    exemptions_apply: bool = Field(description="Whether the exemptions below reduce it")


class NormExemptions(View):
    """What an application's claims take out of an audit (they combine)."""

    certificates: list[Certificate] = Field(description="Valid on the audit date")
    certificate_exempts: list[Requirement]
    professional_bodies: list[ProfessionalBody]
    professional_body_exempts: dict[ServiceType, list[Requirement]]


class NormScore(View):
    score: Score
    meaning: str = Field(description="Dutch", examples=["toereikend"])


class NormConditionalPass(View):
    follow_up_min_months: int = Field(description="After the audit visit")
    follow_up_max_months: int


class NormHourlyRate(View):
    valid_from: date = Field(description="Holds for audits from this day until the next rate")
    euros: Decimal


class Norm(View):
    """The kmop-norm and the audit policies, as the service checks reports against them."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "current_version": "2019",
                    "versions": [
                        {
                            "version": "2019",
                            "valid_from": "2019-01-01",
                            "requirements": [
                                {"requirement": 1, "key": "activity", "name": "Activiteit"}
                            ],
                            "indicators": [
                                {
                                    "indicator": "1.1",
                                    "requirement": 1,
                                    "description": "The offer is clearly described.",
                                }
                            ],
                        }
                    ],
                    "audit_types": [
                        {"audit_type": "basic", "audits": [1, 2, 3, 4, 5], "exemptions_apply": True}
                    ],
                    "exemptions": {
                        "certificates": ["iso_9001", "qfor", "wse"],
                        "certificate_exempts": [1, 2, 3],
                        "professional_bodies": ["iab", "bibf", "itaa", "ibr"],
                        "professional_body_exempts": {"opleiding": [5], "advies": [1, 2, 5]},
                    },
                    "scores": [{"score": "T", "meaning": "toereikend"}],
                    "results": ["passed", "conditionally_passed", "failed"],
                    "conditional_pass": {"follow_up_min_months": 6, "follow_up_max_months": 12},
                    "hourly_rates": [{"valid_from": "2024-01-01", "euros": "192.65"}],
                }
            ]
        }
    )

    current_version: str = Field(description="The version new reports are audited against")
    versions: list[NormEdition]
    audit_types: list[NormAuditType]
    exemptions: NormExemptions
    scores: list[NormScore] = Field(
        description="Each indicator gets two: conformity and demonstrability"
    )
    results: list[AuditResult]
    conditional_pass: NormConditionalPass
    hourly_rates: list[NormHourlyRate] = Field(description="Oldest first; the audit date picks")


def _edition(norm: NormVersion) -> NormEdition:
    return NormEdition(
        version=norm.version,
        valid_from=norm.valid_from,
        requirements=[
            NormRequirement(requirement=r, key=r.name.lower(), name=REQUIREMENT_NAMES[r])
            for r in Requirement
        ],
        indicators=[
            NormIndicator(indicator=i.code, requirement=i.requirement, description=i.description)
            for i in norm.indicators
        ],
    )


def _audit_type(audit_type: AuditType) -> NormAuditType:
    scope = AUDITED_BY_TYPE.get(audit_type)
    return NormAuditType(
        audit_type=audit_type,
        audits=sorted(scope) if scope is not None else None,
        exemptions_apply=scope is not None,
    )


NORM = Norm(
    current_version=CURRENT_NORM.version,
    versions=[_edition(norm) for norm in NORM_VERSIONS.values()],
    audit_types=[_audit_type(audit_type) for audit_type in AuditType],
    exemptions=NormExemptions(
        certificates=list(Certificate),
        certificate_exempts=sorted(CERTIFICATE_EXEMPTS),
        professional_bodies=list(ProfessionalBody),
        professional_body_exempts={
            service: sorted(exempts) for service, exempts in PROFESSIONAL_BODY_EXEMPTS.items()
        },
    ),
    scores=[NormScore(score=score, meaning=SCORE_MEANINGS[score]) for score in Score],
    results=list(AuditResult),
    conditional_pass=NormConditionalPass(
        follow_up_min_months=CONDITIONAL_FOLLOW_UP_MIN_MONTHS,
        follow_up_max_months=CONDITIONAL_FOLLOW_UP_MAX_MONTHS,
    ),
    hourly_rates=[
        NormHourlyRate(valid_from=rate.valid_from, euros=rate.euros)
        for rate in sorted(HOURLY_RATES, key=lambda rate: rate.valid_from)
    ],
)


@router.get(
    "/norm",
    response_model=Norm,
    responses={304: {"description": "Not modified (If-None-Match)"}},
    summary="The kmop-norm: versions, requirements, indicators, audit types, exemptions, "
    "scores, results and hourly rates: what a valid audit report is built from",
)
async def get_norm(request: Request) -> Response:
    return cacheable(request, NORM, max_age=NORM_MAX_AGE_SECONDS)
