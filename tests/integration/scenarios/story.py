"""``Story``: writes the steps of one unit and tracks what they lead to."""

from __future__ import annotations

import random
from datetime import date, timedelta
from decimal import Decimal

from dateutil.relativedelta import relativedelta

from app.domain import errors
from app.domain.decider import (
    ChooseAuditBureau,
    Command,
    PlanAudit,
    ReactToFailedAudit,
    RecordDecision,
    RecordSwornDeclaration,
    StopRegistration,
    SubmitApplication,
    SubmitAuditReport,
)
from app.domain.errors import DomainError
from app.domain.events import AuditResult, IndicatorScore, Score, Track, Verdict
from app.domain.norm import CURRENT_NORM, AuditType, Requirement, audited_requirements
from app.domain.policies import (
    reaction_deadline,
    registration_valid_until,
    starter_extended_valid_until,
    starter_follow_up_deadline,
)
from app.domain.registration import Status
from app.events import Actor
from tests.integration.scenarios.timeline import (
    AGENCY,
    BUREAUS,
    END,
    ENDED_BUREAU,
    Action,
    Role,
    UnitAction,
    first_run_after,
)
from tests.integration.scenarios.units import Audit, DoesNotFit, Registration, Report, UnitPlan


class Story:
    """Writes the steps of one unit and tracks what they lead to; ``day`` is its last step's day."""

    def __init__(self, rng: random.Random, plan: UnitPlan, start: date, tag: str) -> None:
        self.rng = rng
        self.plan = plan
        self.day = start
        self.tag = tag
        self.entries: list[tuple[date, tuple[Action, ...]]] = []
        self.registration: Registration | None = None
        self.ended: Status | None = None
        self.pending: Status = Status.NONE  # the status when not registered
        self.applications = 0
        self.audits = 0
        self.grants: list[date] = []  # the decision dates of its granted applications
        self.starter = False  # the current application is on the starter track
        self.declaration: str | None = None  # an application whose declaration comes late

    # -- scheduling

    def gap(self, low: int, high: int) -> int:
        return self.rng.randint(low, high)

    def at(self, day: date, *actions: Action) -> None:
        if day > END:
            raise DoesNotFit(f"{self.plan.kind}: step on {day}")
        self.entries.append((day, actions))
        self.day = max(self.day, day)

    def next(self, low: int, high: int) -> date:
        return self.day + timedelta(days=self.gap(low, high))

    def unit(
        self,
        command: Command,
        role: Role,
        actor_id: str | None = None,
        *,
        refused_with: type[DomainError] | None = None,
    ) -> UnitAction:
        return UnitAction(self.plan.key, command, self._actor(role, actor_id), refused_with)

    def _actor(self, role: Role, actor_id: str | None) -> Actor:
        if role is Role.AGENCY:
            return AGENCY
        if role is Role.BUREAU:
            return Actor(id=f"bureau:{actor_id}", role="bureau")
        return Actor(id=f"provider:{self.plan.unit.enterprise_number}", role="provider")

    # -- the process

    def submit(
        self,
        day: date,
        track: Track = Track.BASIC,
        *,
        late_declaration: bool | None = None,
    ) -> str:
        """Apply on ``day``; the sworn declaration follows now or, if late, during the audit."""
        self.applications += 1
        application_id = f"{self.tag}-a{self.applications}"
        starter = track is Track.STARTER
        command = SubmitApplication(
            application_id=application_id,
            unit=self.plan.unit,
            provider_name=self.plan.name,
            bank_account=self.plan.bank_account,
            activities=f"{self.plan.unit.service_type.value} voor kmo's: {self.plan.name}",
            themes=self.plan.themes,
            track=track,
            certificates=self.plan.certificates,
            professional_body=self.plan.professional_body,
            activity_started_on=day - timedelta(days=self.gap(60, 800)) if starter else None,
            dossiers=self.gap(0, 19) if starter else None,
        )
        self.at(day, self.unit(command, Role.PROVIDER))
        self.pending = Status.APPLIED
        late = self.rng.random() < 0.3 if late_declaration is None else late_declaration
        self.declaration = application_id if late else None
        if not late:
            self.declare(application_id, self.next(2, 12))
        return application_id

    def declare(self, application_id: str, day: date) -> None:
        received_on = max(self.day, day - timedelta(days=self.gap(0, 2)))
        self.at(day, self.unit(RecordSwornDeclaration(application_id, received_on), Role.AGENCY))

    def choose(self, audit_type: AuditType, *, day: date | None = None) -> Audit:
        day = day or self.next(3, 30)
        self.audits += 1
        audit_id = f"{self.tag}-audit{self.audits}"
        # the bureau must stay appointed through every visit of this audit (re-visits included)
        last_visit = min(day + timedelta(days=400), END)
        bureaus = [b for b in BUREAUS if b.covers(day, last_visit)]
        if not bureaus:
            raise DoesNotFit(f"no bureau appointed from {day} through {last_visit}")
        bureau = self.rng.choice(bureaus)
        actions: list[Action] = []
        ended = next(b for b in BUREAUS if b.bureau_id == ENDED_BUREAU)
        if ended.appointed_until and day > ended.appointed_until and self.rng.random() < 0.05:
            # a provider still has the old list: the service refuses the retired bureau
            retired = ChooseAuditBureau(audit_id, ENDED_BUREAU)
            actions.append(
                self.unit(retired, Role.PROVIDER, refused_with=errors.BureauNotAppointed)
            )
        actions.append(self.unit(ChooseAuditBureau(audit_id, bureau.bureau_id), Role.PROVIDER))
        self.at(day, *actions)
        self.pending = Status.IN_AUDIT
        return Audit(audit_id, bureau.bureau_id, audit_type)

    def plan_visit(self, audit: Audit) -> None:
        day = self.next(1, 10)
        audit.planned_on = day
        audit.visit = day + timedelta(days=self.gap(7, 40))
        hours = Decimal(self.rng.choice(("6", "7.5", "8", "12", "12.25", "16", "20.5")))
        command = PlanAudit(audit.audit_id, audit.bureau_id, audit.visit, hours)
        self.at(day, self.unit(command, Role.BUREAU, audit.bureau_id))

    def report(
        self,
        audit: Audit,
        result: AuditResult,
        *,
        lacking: frozenset[Requirement] = frozenset(),
    ) -> Report:
        assert audit.visit is not None
        assert audit.planned_on is not None
        day = audit.visit + timedelta(days=self.gap(2, 21))
        if self.declaration is not None:  # the sworn declaration arrives during the audit
            self.declare(self.declaration, audit.planned_on + timedelta(days=self.gap(1, 7)))
            self.declaration = None
        audited = audited_requirements(
            audit.audit_type,
            self.plan.unit.service_type,
            self.plan.exemptions,
            audit.visit,
            lacking=lacking,
        )
        not_met: frozenset[Requirement] = frozenset()
        if result is not AuditResult.PASSED:
            assert audited, "an audit that finds something lacking audits something"
            count = min(len(audited), self.rng.choice((1, 1, 2)))
            not_met = frozenset(self.rng.sample(sorted(audited), count))
        follow_up_deadline = (
            audit.visit + relativedelta(months=self.gap(6, 12))
            if result is AuditResult.CONDITIONALLY_PASSED
            else None
        )
        audit.reports += 1
        command = SubmitAuditReport(
            audit_id=audit.audit_id,
            report_id=f"{audit.audit_id}-report{audit.reports}",
            bureau_id=audit.bureau_id,
            audit_type=audit.audit_type,
            visit_date=audit.visit,
            scores=self._scores(audited, not_met),
            verdicts=tuple(Verdict(requirement=r, met=r not in not_met) for r in sorted(audited)),
            result=result,
            follow_up_deadline=follow_up_deadline,
            norm_version=CURRENT_NORM.version,
        )
        self.at(day, self.unit(command, Role.BUREAU, audit.bureau_id))
        self.pending = (
            Status.AUDIT_FAILED if result is AuditResult.FAILED else Status.AWAITING_DECISION
        )
        return Report(day, result, not_met, follow_up_deadline)

    def _scores(
        self, audited: frozenset[Requirement], not_met: frozenset[Requirement]
    ) -> tuple[IndicatorScore, ...]:
        low, high = (Score.B, Score.G), (Score.T, Score.V)
        return tuple(
            IndicatorScore(
                indicator=indicator.code,
                conformity=self.rng.choice(low if indicator.requirement in not_met else high),
                demonstrability=self.rng.choice(low if indicator.requirement in not_met else high),
            )
            for indicator in CURRENT_NORM.indicators
            if indicator.requirement in audited
        )

    def audit(self, audit_type: AuditType, result: AuditResult) -> tuple[Audit, Report]:
        audit = self.choose(audit_type)
        self.plan_visit(audit)
        return audit, self.report(audit, result)

    def react(self, audit: Audit, report: Report) -> None:
        day = report.day + timedelta(days=self.gap(10, 150))
        if day > reaction_deadline(report.day):
            raise DoesNotFit("reaction too late")
        reaction = "Werkwijze klanttevredenheid herschreven; bewijsstukken bijgevoegd."
        self.at(day, self.unit(ReactToFailedAudit(audit.audit_id, reaction), Role.PROVIDER))
        self.pending = Status.IN_AUDIT

    def decide(
        self, application_id: str, report: Report, *, granted: bool = True, day: date | None = None
    ) -> date:
        day = day or self.next(5, 30)
        decision_date = max(report.day, day - timedelta(days=self.gap(0, 3)))
        reason = None if granted else "Het auditrapport toont onvoldoende werking van de norm."
        command = RecordDecision(application_id, granted, decision_date, reason)
        self.at(day, self.unit(command, Role.AGENCY))
        self.record_decision(report, decision_date, granted=granted)
        return decision_date

    def record_decision(self, report: Report, decision_date: date, *, granted: bool) -> None:
        if not granted:
            self.pending, self.registration = Status.REFUSED, None
            return
        self.grants.append(decision_date)
        self.ended = None
        if report.result is AuditResult.CONDITIONALLY_PASSED:
            self.registration = Registration(
                Status.REGISTERED_CONDITIONALLY,
                registration_valid_until(decision_date, starter=False),
                report.follow_up_deadline,
            )
        elif self.starter:
            self.registration = Registration(
                Status.REGISTERED_STARTER,
                registration_valid_until(decision_date, starter=True),
                starter_follow_up_deadline(decision_date),
            )
        else:
            self.registration = Registration(
                Status.REGISTERED, registration_valid_until(decision_date, starter=False), None
            )
        self.pending = Status.NONE

    def follow_up(self, result: AuditResult, lacking: frozenset[Requirement]) -> None:
        registration = self.registration
        assert registration is not None
        assert registration.follow_up_deadline is not None
        starter = registration.status is Status.REGISTERED_STARTER
        audit_type = AuditType.STARTER_FOLLOW_UP if starter else AuditType.CONDITIONAL_FOLLOW_UP
        audit = self.choose(
            audit_type,
            day=self.next(200, 450) if starter else self.next(10, 60),
        )
        self.pending = Status.NONE
        self.plan_visit(audit)
        report = self.report(audit, result, lacking=lacking)
        self.pending = Status.NONE
        deadline = registration.follow_up_deadline
        assert audit.visit is not None
        if report.day > deadline or audit.visit > deadline:
            raise DoesNotFit("follow-up after its deadline")
        if result is AuditResult.FAILED:
            self.ended = Status.STOPPED
            return
        valid_until = (
            starter_extended_valid_until(registration.valid_until)
            if starter
            else registration.valid_until
        )
        self.registration = Registration(Status.REGISTERED, valid_until, None)

    def lapses_on(self) -> date | None:
        """The deadline run that ends the registration, if one does by END."""
        registration = self.registration
        if registration is None or self.ended is not None:
            return None
        last_day = min(registration.valid_until, registration.follow_up_deadline or date.max)
        return first_run_after(last_day)

    def stop(self) -> None:
        assert self.registration is not None
        day = self.next(60, 900)
        last_day = min(self.registration.valid_until, self.registration.follow_up_deadline or END)
        if day > last_day:
            raise DoesNotFit("stop after the end")
        reason = "Misbruik vastgesteld: facturen voor niet-geleverde opleidingen."
        self.at(day, self.unit(StopRegistration(reason), Role.AGENCY))
        self.ended = Status.STOPPED

    def expected(self) -> Status:
        """The unit's status after the last deadline run on END."""
        registration = self.registration
        follow_up_missed = (
            registration is not None
            and registration.follow_up_deadline is not None
            and registration.follow_up_deadline < END
        )
        expired = registration is not None and registration.valid_until < END
        if registration is not None and self.ended is None and not follow_up_missed and not expired:
            return registration.status
        if self.pending is not Status.NONE:
            return self.pending  # an open application, or the last one refused
        assert registration is not None
        if self.ended is not None:
            return self.ended
        return Status.STOPPED if follow_up_missed else Status.EXPIRED
