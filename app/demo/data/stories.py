"""The shape of a demo provider's story: the path each registration unit takes through the
process (``Path``), the status it ends in (``EXPECTED``), and how long ago it began."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from app.domain.events import ProfileLocation
from app.domain.identifiers import ServiceType
from app.domain.norm import Certificate, ProfessionalBody
from app.domain.registration import Status


class Path(StrEnum):
    """How one registration unit's story goes; ``EXPECTED`` says the status it ends in."""

    APPLIED = "applied"
    AUDIT_ASSIGNED = "audit-assigned"  # a bureau chosen, the visit not yet planned
    AUDIT_PLANNED = "audit-planned"
    AUDIT_FAILED = "audit-failed"  # within the 6 months to react
    AWAITING_DECISION = "awaiting-decision"
    REGISTERED = "registered"
    REGISTERED_AFTER_REACTION = "registered-after-reaction"  # failed, reacted, passed
    RENEWED = "renewed"  # a renewal audit before the 5 years ended
    STARTER_FOLLOWED_UP = "starter-followed-up"
    CONDITIONAL_FOLLOWED_UP = "conditional-followed-up"
    CONDITIONAL = "conditional"  # follow-up still to come
    STARTER = "starter"  # follow-up still to come
    REFUSED = "refused"  # by the minister, after a failed audit
    REFUSED_NO_REACTION = "refused-no-reaction"  # by the deadline job
    STOPPED_BY_AGENCY = "stopped-by-agency"
    STOPPED_FOLLOW_UP_MISSED = "stopped-follow-up-missed"  # conditional, deadline passed
    STOPPED_FOLLOW_UP_FAILED = "stopped-follow-up-failed"  # starter
    EXPIRED = "expired"


EXPECTED: dict[Path, Status] = {
    Path.APPLIED: Status.APPLIED,
    Path.AUDIT_ASSIGNED: Status.IN_AUDIT,
    Path.AUDIT_PLANNED: Status.IN_AUDIT,
    Path.AUDIT_FAILED: Status.AUDIT_FAILED,
    Path.AWAITING_DECISION: Status.AWAITING_DECISION,
    Path.REGISTERED: Status.REGISTERED,
    Path.REGISTERED_AFTER_REACTION: Status.REGISTERED,
    Path.RENEWED: Status.REGISTERED,
    Path.STARTER_FOLLOWED_UP: Status.REGISTERED,
    Path.CONDITIONAL_FOLLOWED_UP: Status.REGISTERED,
    Path.CONDITIONAL: Status.REGISTERED_CONDITIONALLY,
    Path.STARTER: Status.REGISTERED_STARTER,
    Path.REFUSED: Status.REFUSED,
    Path.REFUSED_NO_REACTION: Status.REFUSED,
    Path.STOPPED_BY_AGENCY: Status.STOPPED,
    Path.STOPPED_FOLLOW_UP_MISSED: Status.STOPPED,
    Path.STOPPED_FOLLOW_UP_FAILED: Status.STOPPED,
    Path.EXPIRED: Status.EXPIRED,
}


@dataclass(frozen=True, slots=True)
class DemoUnit:
    service_type: ServiceType
    path: Path
    days_ago: int  # when the story began (the application)


@dataclass(frozen=True, slots=True)
class DemoProvider:
    name: str
    description: str
    themes: tuple[str, ...]
    locations: tuple[ProfileLocation, ...]
    units: tuple[DemoUnit, ...]
    ratings: int = 0
    certificate: Certificate | None = None  # held through the audits: requirements 1-3 exempt
    professional_body: ProfessionalBody | None = None
