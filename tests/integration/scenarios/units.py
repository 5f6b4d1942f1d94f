"""What a unit's story can be (``Kind``), how often each kind comes (``MIX``), and the records
a story keeps of its unit, audits, reports and registration."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from app.domain.events import AuditResult, CertificateHeld
from app.domain.identifiers import BankAccount, RegistrationUnit
from app.domain.norm import AuditType, CertificateClaim, Exemptions, ProfessionalBody, Requirement
from app.domain.policies import ELIGIBLE_THEMES
from app.domain.registration import Status


class Kind(StrEnum):
    BASIC = "basic"
    CERTIFICATE = "certificate"
    ACCOUNTANT_TRAINING = "accountant-training"
    ACCOUNTANT_ADVICE = "accountant-advice"
    CERTIFIED_ACCOUNTANT_ADVICE = "certified-accountant-advice"
    STARTER_FOLLOWED_UP = "starter-followed-up"
    STARTER_FOLLOW_UP_MISSED = "starter-follow-up-missed"
    STARTER_FOLLOW_UP_FAILED = "starter-follow-up-failed"
    CONDITIONAL_FOLLOWED_UP = "conditional-followed-up"
    CONDITIONAL_FOLLOW_UP_FAILED = "conditional-follow-up-failed"
    CONDITIONAL_FOLLOW_UP_MISSED = "conditional-follow-up-missed"
    FAILED_REACTED = "failed-reacted"
    FAILED_NO_REACTION = "failed-no-reaction"
    FAILED_NO_REACTION_REAPPLIED = "failed-no-reaction-reapplied"
    REFUSED_BY_DECISION = "refused-by-decision"
    STOPPED_BY_AGENCY = "stopped-by-agency"
    EXPIRED = "expired"
    RENEWED = "renewed"
    REREGISTERED = "reregistered"
    BOTH_SERVICES = "both-services"  # two units: one enterprise, training and advice
    UNIVERSITY = "university"  # two units: two departments of one university
    STARTER_PENDING = "starter-pending"  # registered as a starter, follow-up not yet due
    CONDITIONAL_PENDING = "conditional-pending"  # registered conditionally, follow-up not yet due
    OPEN_APPLIED = "open-applied"
    OPEN_IN_AUDIT = "open-in-audit"  # a bureau chosen, the visit not yet planned
    OPEN_AUDIT_PLANNED = "open-audit-planned"
    OPEN_AUDIT_REACTED = "open-audit-reacted"  # reacted to a failed audit, awaiting the report
    OPEN_AUDIT_FAILED = "open-audit-failed"
    OPEN_AWAITING_DECISION = "open-awaiting-decision"


# How many of each for a history of 300 units (pairs count once here, twice in units).
MIX: dict[Kind, int] = {
    Kind.BASIC: 85,
    Kind.CERTIFICATE: 18,
    Kind.ACCOUNTANT_TRAINING: 10,
    Kind.ACCOUNTANT_ADVICE: 10,
    Kind.CERTIFIED_ACCOUNTANT_ADVICE: 4,
    Kind.STARTER_FOLLOWED_UP: 14,
    Kind.STARTER_FOLLOW_UP_MISSED: 10,
    Kind.STARTER_FOLLOW_UP_FAILED: 4,
    Kind.CONDITIONAL_FOLLOWED_UP: 14,
    Kind.CONDITIONAL_FOLLOW_UP_FAILED: 10,
    Kind.CONDITIONAL_FOLLOW_UP_MISSED: 4,
    Kind.FAILED_REACTED: 14,
    Kind.FAILED_NO_REACTION: 10,
    Kind.FAILED_NO_REACTION_REAPPLIED: 5,
    Kind.REFUSED_BY_DECISION: 10,
    Kind.STOPPED_BY_AGENCY: 10,
    Kind.EXPIRED: 10,
    Kind.RENEWED: 14,
    Kind.REREGISTERED: 10,
    Kind.BOTH_SERVICES: 6,
    Kind.UNIVERSITY: 3,
    Kind.STARTER_PENDING: 3,
    Kind.CONDITIONAL_PENDING: 3,
    Kind.OPEN_APPLIED: 4,
    Kind.OPEN_IN_AUDIT: 2,
    Kind.OPEN_AUDIT_PLANNED: 2,
    Kind.OPEN_AUDIT_REACTED: 2,
    Kind.OPEN_AUDIT_FAILED: 4,
    Kind.OPEN_AWAITING_DECISION: 4,
}
MIX_UNITS = sum(MIX.values()) + MIX[Kind.BOTH_SERVICES] + MIX[Kind.UNIVERSITY]

# Days after START within which each story may begin; a story that does not fit before END
# (or misses a constraint of its path) is drawn again with another start.
EARLY, ANY = (1, 400), (1, 1700)
START_WINDOW: dict[Kind, tuple[int, int]] = {
    Kind.STARTER_FOLLOWED_UP: (1, 1300),
    Kind.STARTER_FOLLOW_UP_MISSED: (1, 1300),
    Kind.STARTER_FOLLOW_UP_FAILED: (1, 1300),
    Kind.FAILED_NO_REACTION_REAPPLIED: (1, 1500),
    Kind.EXPIRED: (1, 300),
    Kind.RENEWED: (1, 280),
    Kind.REREGISTERED: (1, 60),
    Kind.STARTER_PENDING: (1500, 2050),
    Kind.CONDITIONAL_PENDING: (1900, 2050),
    Kind.OPEN_APPLIED: (2150, 2190),
    Kind.OPEN_IN_AUDIT: (2100, 2170),
    Kind.OPEN_AUDIT_PLANNED: (2080, 2150),
    Kind.OPEN_AUDIT_REACTED: (1950, 2100),
    Kind.OPEN_AUDIT_FAILED: (2030, 2150),
    Kind.OPEN_AWAITING_DECISION: (2080, 2160),
}

THEMES = tuple(sorted(ELIGIBLE_THEMES))
NAMES = (
    "Peeters",
    "Janssens",
    "Maes",
    "Jacobs",
    "Mertens",
    "Willems",
    "Claes",
    "Goossens",
    "Wouters",
    "De Smet",
    "Dubois",
    "Vermeulen",
    "Van den Broeck",
    "Lemaître",
    "Verbruggen",
)
TRADES = ("Opleidingen", "Advies", "Consult", "Academie", "Coaching", "Partners", "Groep")
FORMS = ("BV", "NV", "CommV", "VZW", "")
BANKS = ("539", "001", "068", "734", "363")


DRAWS = 300


class DoesNotFit(Exception):
    """The story drawn does not fit the timeline (or its path's constraints): draw again."""


@dataclass
class UnitPlan:
    key: str
    unit: RegistrationUnit
    kind: Kind
    name: str
    bank_account: BankAccount
    themes: tuple[str, ...]
    certificates: tuple[CertificateHeld, ...] = ()
    professional_body: ProfessionalBody | None = None
    expected: Status = Status.NONE  # at the end, after the last deadline run

    @property
    def exemptions(self) -> Exemptions:
        return Exemptions(
            certificates=tuple(
                CertificateClaim(c.certificate, c.valid_until) for c in self.certificates
            ),
            professional_body=self.professional_body,
        )


@dataclass
class Audit:
    audit_id: str
    bureau_id: str
    audit_type: AuditType
    planned_on: date | None = None
    visit: date | None = None
    reports: int = 0


@dataclass
class Report:
    day: date
    result: AuditResult
    not_met: frozenset[Requirement]
    follow_up_deadline: date | None


@dataclass
class Registration:
    status: Status  # while in force
    valid_until: date
    follow_up_deadline: date | None
