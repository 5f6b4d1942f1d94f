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

One module per kind of stream (``registration``, ``bureaus``, ``ratings``, ``profiles``,
``projects``) and the values they carry (``values``); here, every event and value by name, and
the events grouped by stream (``UNIT_EVENTS``, ...), as the catalog and the event reference read
them.

May import: the rest of ``app.domain`` only (pure: no I/O).
"""

from __future__ import annotations

from app.domain.event import DomainEvent
from app.domain.events.bureaus import (
    AuditBureauAppointed,
    AuditBureauAppointmentEnded,
)
from app.domain.events.profiles import (
    ProfileLocation,
    ProviderProfileUpdated,
)
from app.domain.events.projects import (
    DisputeReason,
    Finding,
    FindingCode,
    FindingOutcome,
    ProjectApproved,
    ProjectConfirmed,
    ProjectDisputed,
    ProjectReclaimed,
    ProjectRecorded,
    ProjectStopped,
)
from app.domain.events.ratings import (
    RatingRecorded,
)
from app.domain.events.registration import (
    ApplicationRefused,
    ApplicationRefusedForNoReaction,
    ApplicationSubmitted,
    AuditBureauChosen,
    AuditPlanned,
    AuditReportSubmitted,
    FailedAuditReactedTo,
    FollowUpFailed,
    FollowUpMissed,
    FollowUpPassed,
    RegistrationExpired,
    RegistrationGranted,
    RegistrationStopped,
    SwornDeclarationReceived,
)
from app.domain.events.values import (
    SCORE_MEANINGS,
    AuditResult,
    CertificateHeld,
    IndicatorScore,
    RegistrationKind,
    Score,
    Track,
    Value,
    Verdict,
)

__all__ = [
    "ALL_EVENTS",
    "BUREAU_EVENTS",
    "PROJECT_EVENTS",
    "PROVIDER_EVENTS",
    "RATING_EVENTS",
    "SCORE_MEANINGS",
    "UNIT_EVENTS",
    "ApplicationRefused",
    "ApplicationRefusedForNoReaction",
    "ApplicationSubmitted",
    "AuditBureauAppointed",
    "AuditBureauAppointmentEnded",
    "AuditBureauChosen",
    "AuditPlanned",
    "AuditReportSubmitted",
    "AuditResult",
    "CertificateHeld",
    "DisputeReason",
    "FailedAuditReactedTo",
    "Finding",
    "FindingCode",
    "FindingOutcome",
    "FollowUpFailed",
    "FollowUpMissed",
    "FollowUpPassed",
    "IndicatorScore",
    "ProfileLocation",
    "ProjectApproved",
    "ProjectConfirmed",
    "ProjectDisputed",
    "ProjectReclaimed",
    "ProjectRecorded",
    "ProjectStopped",
    "ProviderProfileUpdated",
    "RatingRecorded",
    "RegistrationExpired",
    "RegistrationGranted",
    "RegistrationKind",
    "RegistrationStopped",
    "Score",
    "SwornDeclarationReceived",
    "Track",
    "Value",
    "Verdict",
]


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
