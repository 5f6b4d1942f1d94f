"""The kmop-norm as data: its requirements, their indicators, and what each audit type audits.

The five requirements (*basisvereisten*) are from the agency's brochure (``seeds/000``); the
indicator list is our reading of the brochure's description of each requirement, kept as a
versioned table so that a new edition of the norm is a new entry, not a code change. Reports
name the norm version they were audited against.

Which requirements an audit covers follows DOMAIN.md, "The five requirements and the audit
types"; exemptions combine (an ISO-certified accountant's office applying for advice is audited
on requirement 4 only).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import IntEnum, StrEnum

from app.domain.identifiers import ServiceType


class Requirement(IntEnum):
    ACTIVITY = 1  # activiteit
    PROOF_OF_EXPERIENCE = 2  # bewijs van ervaring inzake de verleende diensten
    CLIENT_SATISFACTION = 3  # klanttevredenheid
    KNOWLEDGE_OF_KMO_PORTEFEUILLE = 4  # kennis kmo-portefeuille
    INTEGRITY = 5  # integriteit


ALL_REQUIREMENTS = frozenset(Requirement)

# The brochure's names of the requirements (seeds/000, "basisvereisten").
REQUIREMENT_NAMES: dict[Requirement, str] = {
    Requirement.ACTIVITY: "Activiteit",
    Requirement.PROOF_OF_EXPERIENCE: "Bewijs van ervaring inzake de verleende diensten",
    Requirement.CLIENT_SATISFACTION: "Klanttevredenheid",
    Requirement.KNOWLEDGE_OF_KMO_PORTEFEUILLE: "Kennis kmo-portefeuille",
    Requirement.INTEGRITY: "Integriteit",
}


@dataclass(frozen=True, slots=True)
class Indicator:
    code: str  # "1.2": requirement 1, indicator 2
    requirement: Requirement
    description: str


@dataclass(frozen=True, slots=True)
class NormVersion:
    version: str
    valid_from: date
    indicators: tuple[Indicator, ...]

    def indicators_of(self, requirements: frozenset[Requirement]) -> frozenset[str]:
        return frozenset(i.code for i in self.indicators if i.requirement in requirements)

    def indicator(self, code: str) -> Indicator | None:
        return next((i for i in self.indicators if i.code == code), None)


def _indicators(requirement: Requirement, *descriptions: str) -> tuple[Indicator, ...]:
    return tuple(
        Indicator(f"{requirement.value}.{n}", requirement, text)
        for n, text in enumerate(descriptions, start=1)
    )


NORM_2019 = NormVersion(
    version="2019",
    valid_from=date(2019, 1, 1),
    indicators=(
        *_indicators(
            Requirement.ACTIVITY,
            "The offer is clearly described: what the provider offers and delivers.",
            "Sufficient human and material means to carry out the activity.",
            "The means are managed and deployed deliberately.",
            "All assignments, subsidised or not, are documented.",
        ),
        *_indicators(
            Requirement.PROOF_OF_EXPERIENCE,
            "Sufficient recent experience at the level of the individuals.",
            "Sufficient recent experience at the level of the organisation.",
            "Experience is deployed as 'the right person in the right place'.",
            "The client is told about the experience of the people deployed.",
        ),
        *_indicators(
            Requirement.CLIENT_SATISFACTION,
            "Satisfaction is measured systematically, on content and form.",
            "Every client can give an opinion (no hand-picked references).",
            "Results are recorded and processed, with room for testimonials.",
            "Results are used to improve the service continuously.",
        ),
        *_indicators(
            Requirement.KNOWLEDGE_OF_KMO_PORTEFEUILLE,
            "The provider knows which of its activities are eligible for the subsidy.",
            "A concise document shows which part of the activity is eligible.",
            "The price does not depend on whether a subsidy is received.",
        ),
        *_indicators(
            Requirement.INTEGRITY,
            "The provider takes on the administrative role of co-guardian of the subsidy.",
            "Business practice and reputation are sound.",
            "The continuity of the service is safeguarded.",
        ),
    ),
)

NORM_VERSIONS: dict[str, NormVersion] = {NORM_2019.version: NORM_2019}
CURRENT_NORM = NORM_2019


class AuditType(StrEnum):
    BASIC = "basic"  # basisaudit: a newcomer
    RENEWAL = "renewal"  # hernieuwingsaudit: before the 5 years end
    STARTER = "starter"  # audit voor een starter
    STARTER_FOLLOW_UP = "starter_follow_up"  # opvolgingsaudit of a starter
    CONDITIONAL_FOLLOW_UP = "conditional_follow_up"  # follow-up of a conditional registration


class Certificate(StrEnum):
    ISO_9001 = "iso_9001"
    QFOR = "qfor"
    WSE = "wse"


class ProfessionalBody(StrEnum):
    """Accountancy bodies; IAB and BIBF merged into ITAA in 2019."""

    IAB = "iab"
    BIBF = "bibf"
    ITAA = "itaa"
    IBR = "ibr"


@dataclass(frozen=True, slots=True)
class CertificateClaim:
    certificate: Certificate
    valid_until: date

    def valid_on(self, day: date) -> bool:
        return day <= self.valid_until


@dataclass(frozen=True, slots=True)
class Exemptions:
    """What the provider claimed in its application."""

    certificates: tuple[CertificateClaim, ...] = ()
    professional_body: ProfessionalBody | None = None


# What each audit type audits before exemptions; a conditional follow-up audits the requirements
# its registration's report found lacking, so it has no fixed scope here.
AUDITED_BY_TYPE: dict[AuditType, frozenset[Requirement]] = {
    AuditType.BASIC: ALL_REQUIREMENTS,
    AuditType.RENEWAL: ALL_REQUIREMENTS,
    AuditType.STARTER: ALL_REQUIREMENTS
    - {Requirement.PROOF_OF_EXPERIENCE, Requirement.CLIENT_SATISFACTION},
    AuditType.STARTER_FOLLOW_UP: frozenset(
        {Requirement.PROOF_OF_EXPERIENCE, Requirement.CLIENT_SATISFACTION}
    ),
}

CERTIFICATE_EXEMPTS = frozenset(
    {Requirement.ACTIVITY, Requirement.PROOF_OF_EXPERIENCE, Requirement.CLIENT_SATISFACTION}
)
PROFESSIONAL_BODY_EXEMPTS: dict[ServiceType, frozenset[Requirement]] = {
    ServiceType.TRAINING: frozenset({Requirement.INTEGRITY}),
    ServiceType.ADVICE: frozenset(
        {Requirement.ACTIVITY, Requirement.PROOF_OF_EXPERIENCE, Requirement.INTEGRITY}
    ),
}


def exempted_requirements(
    exemptions: Exemptions, service_type: ServiceType, audit_date: date
) -> frozenset[Requirement]:
    """Requirements the claimed exemptions take out of an audit on ``audit_date``."""
    exempt: set[Requirement] = set()
    if any(claim.valid_on(audit_date) for claim in exemptions.certificates):
        exempt |= CERTIFICATE_EXEMPTS
    if exemptions.professional_body is not None:
        exempt |= PROFESSIONAL_BODY_EXEMPTS[service_type]
    return frozenset(exempt)


def audited_requirements(
    audit_type: AuditType,
    service_type: ServiceType,
    exemptions: Exemptions,
    audit_date: date,
    lacking: frozenset[Requirement] = frozenset(),
) -> frozenset[Requirement]:
    """The requirements an audit of this type must score and give a verdict on.

    ``lacking`` are the requirements found not met in the report that made a registration
    conditional; a conditional follow-up audits exactly those.
    """
    if audit_type is AuditType.CONDITIONAL_FOLLOW_UP:
        return lacking
    scope = AUDITED_BY_TYPE[audit_type]
    return scope - exempted_requirements(exemptions, service_type, audit_date)
