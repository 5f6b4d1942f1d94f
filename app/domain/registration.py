"""The state of one registration unit, folded from its events: ``evolve(state, event)``.

``evolve`` only records what the events say; it makes no decisions and reads no clock, so
replaying a stream always gives the same state (the rules live in ``decider/``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum

from app.domain.event import DomainEvent
from app.domain.events import (
    ApplicationRefused,
    ApplicationRefusedForNoReaction,
    ApplicationSubmitted,
    AuditBureauChosen,
    AuditPlanned,
    AuditReportSubmitted,
    AuditResult,
    FailedAuditReactedTo,
    FollowUpFailed,
    FollowUpMissed,
    FollowUpPassed,
    RegistrationExpired,
    RegistrationGranted,
    RegistrationKind,
    RegistrationStopped,
    SwornDeclarationReceived,
    Track,
)
from app.domain.identifiers import EnterpriseNumber, RegistrationUnit, ServiceType
from app.domain.norm import (
    AuditType,
    CertificateClaim,
    Exemptions,
    ProfessionalBody,
    Requirement,
)
from app.domain.values import replace

NO_EXEMPTIONS = Exemptions()
FOLLOW_UP_AUDITS = frozenset({AuditType.STARTER_FOLLOW_UP, AuditType.CONDITIONAL_FOLLOW_UP})


class Status(StrEnum):
    """What a registration unit is now, in the words of the agency's systems."""

    NONE = "none"
    APPLIED = "applied"  # application submitted, no audit bureau yet
    IN_AUDIT = "in_audit"  # audit assigned, planned, or reported again after a reaction
    AUDIT_FAILED = "audit_failed"  # failed; the provider may react within 6 months
    AWAITING_DECISION = "awaiting_decision"  # passed or conditionally passed
    REGISTERED = "registered"
    REGISTERED_CONDITIONALLY = "registered_conditionally"
    REGISTERED_STARTER = "registered_starter"
    REFUSED = "refused"
    STOPPED = "stopped"
    EXPIRED = "expired"


class ApplicationStatus(StrEnum):
    OPEN = "open"
    GRANTED = "granted"
    REFUSED = "refused"


class AuditStatus(StrEnum):
    ASSIGNED = "assigned"  # to the bureau the provider chose
    PLANNED = "planned"
    REPORTED = "reported"
    REACTED = "reacted"  # the provider reacted to a failed report: the bureau reports again
    CANCELLED = "cancelled"  # a follow-up audit of a registration that ended


class DeadlineKind(StrEnum):
    FOLLOW_UP = "follow_up"  # missed: FollowUpMissed, the registration ends
    EXPIRY = "expiry"  # passed: RegistrationExpired
    REACTION = "reaction"  # missed: ApplicationRefusedForNoReaction


class EndReason(StrEnum):
    EXPIRED = "expired"
    STOPPED_BY_AGENCY = "stopped_by_agency"
    FOLLOW_UP_FAILED = "follow_up_failed"
    FOLLOW_UP_MISSED = "follow_up_missed"


@dataclass(frozen=True, slots=True)
class Deadline:
    kind: DeadlineKind
    last_day: date


@dataclass(frozen=True, slots=True)
class Report:
    report_id: str
    audit_type: AuditType
    visit_date: date
    result: AuditResult
    lacking: frozenset[Requirement]
    follow_up_deadline: date | None
    reaction_deadline: date | None
    submitted_on: date


@dataclass(frozen=True, slots=True)
class Audit:
    audit_id: str
    bureau_id: str
    audit_type: AuditType
    chosen_on: date
    visit_date: date | None = None
    planned_hours: Decimal | None = None
    cost_estimate: Decimal | None = None
    report: Report | None = None  # the latest
    reacted_on: date | None = None  # to the latest report, when it failed

    @property
    def awaits_report(self) -> bool:
        return self.report is None or self.reacted_on is not None

    @property
    def failed_without_reaction(self) -> bool:
        return (
            self.report is not None
            and self.report.result is AuditResult.FAILED
            and self.reacted_on is None
        )


@dataclass(frozen=True, slots=True)
class Application:
    application_id: str
    track: Track
    submitted_on: date
    exemptions: Exemptions
    sworn_declaration_on: date | None = None
    audit: Audit | None = None
    provider_name: str = ""  # as the provider asks to be registered
    themes: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Registration:
    kind: RegistrationKind
    valid_from: date
    valid_until: date
    decision_date: date
    follow_up_deadline: date | None = None
    lacking: frozenset[Requirement] = frozenset()  # what a conditional follow-up audits
    follow_up_audit: Audit | None = None
    ended: EndReason | None = None
    ended_on: date | None = None
    stop_reason: str | None = None

    @property
    def in_force(self) -> bool:
        return self.ended is None


@dataclass(frozen=True, slots=True)
class Registered:
    """What the decision that granted the current or last registration made true: the name and
    themes of the application it granted (an application still open changes nothing public)."""

    provider_name: str
    themes: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class UnitState:
    unit: RegistrationUnit | None = None
    provider_name: str | None = None  # as the latest application gives it
    registered: Registered | None = None  # as the latest granted application gave it
    exemptions: Exemptions = NO_EXEMPTIONS  # as claimed by the latest application
    application: Application | None = None  # the open one
    registration: Registration | None = None  # the current or last period
    first_registered_on: date | None = None
    refused_on: date | None = None  # the latest application's refusal, if it was refused

    @property
    def status(self) -> Status:
        registration = self.registration
        if registration is not None and registration.in_force:
            return {
                RegistrationKind.FULL: Status.REGISTERED,
                RegistrationKind.CONDITIONAL: Status.REGISTERED_CONDITIONALLY,
                RegistrationKind.STARTER: Status.REGISTERED_STARTER,
            }[registration.kind]
        if self.application is not None:
            return _application_status(self.application)
        if registration is not None and (
            self.refused_on is None or (registration.ended_on or date.min) >= self.refused_on
        ):
            return Status.EXPIRED if registration.ended is EndReason.EXPIRED else Status.STOPPED
        if self.refused_on is not None:
            return Status.REFUSED
        return Status.NONE

    @property
    def in_force(self) -> bool:
        return self.registration is not None and self.registration.in_force

    def deadlines(self) -> list[Deadline]:
        """The deadlines pending now, earliest first."""
        found: list[Deadline] = []
        registration = self.registration
        if registration is not None and registration.in_force:
            if registration.follow_up_deadline is not None:
                found.append(Deadline(DeadlineKind.FOLLOW_UP, registration.follow_up_deadline))
            found.append(Deadline(DeadlineKind.EXPIRY, registration.valid_until))
        audit = self.application.audit if self.application else None
        if audit is not None and audit.failed_without_reaction:
            deadline = audit.report.reaction_deadline if audit.report else None
            assert deadline is not None, "a failed report carries its reaction deadline"
            found.append(Deadline(DeadlineKind.REACTION, deadline))
        return sorted(found, key=lambda d: d.last_day)

    def audit(self, audit_id: str) -> Audit | None:
        for audit in (
            self.application.audit if self.application else None,
            self.registration.follow_up_audit if self.registration else None,
        ):
            if audit is not None and audit.audit_id == audit_id:
                return audit
        return None


def _application_status(application: Application) -> Status:
    audit = application.audit
    if audit is None:
        return Status.APPLIED
    if audit.awaits_report:
        return Status.IN_AUDIT
    if audit.failed_without_reaction:
        return Status.AUDIT_FAILED
    return Status.AWAITING_DECISION


def _with_audit(state: UnitState, audit: Audit) -> UnitState:
    """Put a changed audit back where it lives: the open application or the registration."""
    application = state.application
    if (
        application is not None
        and application.audit
        and application.audit.audit_id == audit.audit_id
    ):
        return replace(state, application=replace(application, audit=audit))
    if state.registration is not None:
        return replace(state, registration=replace(state.registration, follow_up_audit=audit))
    return state


def _end(state: UnitState, reason: EndReason, on: date, why: str | None = None) -> UnitState:
    assert state.registration is not None
    # The follow-up audit stays on the ended registration so that a late report on it is
    # refused for what it is (follow-up-after-deadline), not as an unknown audit.
    registration = replace(state.registration, ended=reason, ended_on=on, stop_reason=why)
    return replace(state, registration=registration)


def evolve(state: UnitState, event: DomainEvent) -> UnitState:
    match event:
        case ApplicationSubmitted():
            exemptions = Exemptions(
                certificates=tuple(
                    CertificateClaim(c.certificate, c.valid_until) for c in event.certificates
                ),
                professional_body=(
                    ProfessionalBody(event.professional_body) if event.professional_body else None
                ),
            )
            unit = RegistrationUnit(
                EnterpriseNumber(event.enterprise_number),
                ServiceType(event.service_type),
                event.department,
            )
            application = Application(
                event.application_id,
                event.track,
                event.submitted_on,
                exemptions,
                provider_name=event.provider_name,
                themes=tuple(event.themes),
            )
            return replace(
                state,
                unit=unit,
                provider_name=event.provider_name,
                exemptions=exemptions,
                application=application,
            )
        case SwornDeclarationReceived():
            assert state.application is not None
            application = replace(state.application, sworn_declaration_on=event.received_on)
            return replace(state, application=application)
        case AuditBureauChosen():
            audit = Audit(event.audit_id, event.bureau_id, event.audit_type, event.chosen_on)
            if event.audit_type in FOLLOW_UP_AUDITS:
                assert state.registration is not None
                registration = replace(state.registration, follow_up_audit=audit)
                return replace(state, registration=registration)
            assert state.application is not None
            return replace(state, application=replace(state.application, audit=audit))
        case AuditPlanned():
            planned = state.audit(event.audit_id)
            assert planned is not None
            return _with_audit(
                state,
                replace(
                    planned,
                    visit_date=event.visit_date,
                    planned_hours=event.planned_hours,
                    cost_estimate=event.cost_estimate,
                ),
            )
        case AuditReportSubmitted():
            reported = state.audit(event.audit_id)
            assert reported is not None
            report = Report(
                report_id=event.report_id,
                audit_type=event.audit_type,
                visit_date=event.visit_date,
                result=event.result,
                lacking=frozenset(v.requirement for v in event.verdicts if not v.met),
                follow_up_deadline=event.follow_up_deadline,
                reaction_deadline=event.reaction_deadline,
                submitted_on=event.submitted_on,
            )
            return _with_audit(state, replace(reported, report=report, reacted_on=None))
        case FailedAuditReactedTo():
            reacted = state.audit(event.audit_id)
            assert reacted is not None
            return _with_audit(state, replace(reacted, reacted_on=event.reacted_on))
        case ApplicationRefusedForNoReaction():
            return replace(state, application=None, refused_on=event.refused_on)
        case ApplicationRefused():
            return replace(state, application=None, refused_on=event.decision_date)
        case RegistrationGranted():
            assert state.application is not None
            granted_on = state.application.audit.report if state.application.audit else None
            registration = Registration(
                kind=event.kind,
                valid_from=event.valid_from,
                valid_until=event.valid_until,
                decision_date=event.decision_date,
                follow_up_deadline=event.follow_up_deadline,
                lacking=granted_on.lacking if granted_on is not None else frozenset(),
            )
            return replace(
                state,
                application=None,
                registration=registration,
                registered=Registered(state.application.provider_name, state.application.themes),
                first_registered_on=state.first_registered_on or event.decision_date,
                refused_on=None,
            )
        case FollowUpPassed():
            assert state.registration is not None
            registration = replace(
                state.registration,
                kind=event.kind,
                valid_until=event.valid_until,
                follow_up_deadline=None,
                lacking=frozenset(),
                follow_up_audit=None,
            )
            return replace(state, registration=registration)
        case FollowUpFailed():
            return _end(state, EndReason.FOLLOW_UP_FAILED, event.failed_on)
        case FollowUpMissed():
            return _end(state, EndReason.FOLLOW_UP_MISSED, event.missed_on)
        case RegistrationExpired():
            return _end(state, EndReason.EXPIRED, event.expired_on)
        case RegistrationStopped():
            return _end(state, EndReason.STOPPED_BY_AGENCY, event.stopped_on, event.reason)
    return state


def fold(events: list[DomainEvent], state: UnitState | None = None) -> UnitState:
    for event in events:
        state = evolve(state or UnitState(), event)
    return state or UnitState()
