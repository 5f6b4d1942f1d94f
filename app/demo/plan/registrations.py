"""One registration unit's demo story: its applications, audits, reports, decisions and
follow-ups, in the shape its ``Path`` says."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from dateutil.relativedelta import relativedelta
from schwifty import IBAN

from app.demo.data.bureaus import BUREAUS
from app.demo.data.stories import DemoProvider, DemoUnit, Path
from app.demo.plan.steps import AGENCY, Step, UnitStep, provider_enterprise, unit_of, working_day
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
from app.domain.events import AuditResult, CertificateHeld, IndicatorScore, Score, Track, Verdict
from app.domain.identifiers import BankAccount, ServiceType
from app.domain.norm import (
    CURRENT_NORM,
    AuditType,
    CertificateClaim,
    Exemptions,
    Requirement,
    audited_requirements,
)
from app.domain.policies import registration_valid_until
from app.events import Actor

BANKS = ("001", "068", "363", "539", "734", "737")  # bpost/BNP, Belfius, ING, Crelan, KBC, KBC

# The days between the steps of one application (the shape of every story).
DECLARATION_AFTER = 4
CHOICE_AFTER = 6
PLANNING_AFTER = 4
VISIT_AFTER_PLANNING = 21
REPORT_AFTER_VISIT = 9
DECISION_AFTER_REPORT = 21
REACTION_AFTER_REPORT = 30
RENEWAL_BEFORE_END = 200


@dataclass
class _Audit:
    audit_id: str
    bureau_id: str
    audit_type: AuditType
    visit: date | None = None
    reports: int = 0
    not_met: frozenset[Requirement] = frozenset()


class Story:
    """The steps of one registration unit, written from its first day on."""

    def __init__(
        self, index: int, provider: DemoProvider, demo_unit: DemoUnit, position: int, now: date
    ) -> None:
        self.index = index
        self.provider = provider
        self.unit = unit_of(index, demo_unit)
        self.position = position
        self.today = now
        self.day = now - timedelta(days=demo_unit.days_ago)
        self.bureau_id = BUREAUS[(index + position) % len(BUREAUS)].bureau_id
        self.tag = f"demo-{index + 1:02d}{self.unit.service_type.number_letter.lower()}"
        self.steps: list[Step] = []
        self.rng = random.Random(index * 10 + position)  # the same story on every load
        self.applications = 0
        self.audits = 0
        self.track = Track.BASIC
        self.granted_on: date | None = None  # the first positive decision
        self.valid_until: date | None = None
        self.lacking: frozenset[Requirement] = frozenset()
        self.certificates: tuple[CertificateHeld, ...] = ()  # claimed by the latest application
        self.enterprise = provider_enterprise(index)
        self.provider_actor = Actor(id=f"provider:{self.enterprise}", role="provider")

    # -- scheduling

    def on(self, after: int) -> date:
        """A working day some ``after`` days (and up to three more) after the last step."""
        jitter = self.rng.randint(0, 3) if after > 0 else 0
        return working_day(self.day + timedelta(days=after + jitter), self.day)

    def at(self, after: int, command: Command, actor: Actor) -> date:
        return self.put(self.on(after), command, actor)

    def put(self, day: date, command: Command, actor: Actor) -> date:
        if day >= self.today:  # the data set is wrong, not the user's input
            raise AssertionError(f"{self.tag}: a step on {day} is not in the past")
        self.steps.append(
            Step(
                day,
                (1, self.index, self.position, len(self.steps)),
                UnitStep(self.unit.key, command, actor),
            )
        )
        self.day = day
        return day

    def _bureau_actor(self, bureau_id: str) -> Actor:
        return Actor(id=f"{bureau_id}-software", role="bureau")

    @property
    def exemptions(self) -> Exemptions:
        return Exemptions(
            certificates=tuple(
                CertificateClaim(c.certificate, c.valid_until) for c in self.certificates
            ),
            professional_body=self.provider.professional_body,
        )

    # -- the process

    def apply(self, track: Track = Track.BASIC, *, after: int = 0) -> str:
        self.applications += 1
        self.track = track
        application_id = f"{self.tag}-{self.applications}"
        starter = track is Track.STARTER
        day = self.on(after)
        if self.provider.certificate is not None:  # a certificate valid for three more years
            valid_until = day + timedelta(days=3 * 365)
            self.certificates = (
                CertificateHeld(certificate=self.provider.certificate, valid_until=valid_until),
            )
        kind = "Opleidingen" if self.unit.service_type is ServiceType.TRAINING else "Advies"
        iban = IBAN.generate(
            "BE", bank_code=BANKS[self.index % len(BANKS)], account_code=f"{self.index + 1:07d}"
        )
        command = SubmitApplication(
            application_id=application_id,
            unit=self.unit,
            provider_name=self.provider.name,
            bank_account=BankAccount.parse(str(iban)),
            activities=f"{kind} voor kmo's. {self.provider.description}",
            themes=self.provider.themes,
            track=track,
            certificates=self.certificates,
            professional_body=self.provider.professional_body,
            activity_started_on=day - timedelta(days=240) if starter else None,
            dossiers=6 if starter else None,
        )
        self.put(day, command, self.provider_actor)
        self.at(DECLARATION_AFTER, RecordSwornDeclaration(application_id), AGENCY)
        return application_id

    def choose(self, *, follow_up: bool = False, after: int = CHOICE_AFTER) -> _Audit:
        self.audits += 1
        audit_id = f"{self.tag}-audit{self.audits}"
        if follow_up:
            audit_type = (
                AuditType.STARTER_FOLLOW_UP
                if self.track is Track.STARTER
                else AuditType.CONDITIONAL_FOLLOW_UP
            )
        else:
            audit_type = {
                Track.BASIC: AuditType.BASIC,
                Track.STARTER: AuditType.STARTER,
                Track.RENEWAL: AuditType.RENEWAL,
            }[self.track]
        command = ChooseAuditBureau(audit_id, self.bureau_id, follow_up=follow_up)
        self.at(after, command, self.provider_actor)
        return _Audit(audit_id, self.bureau_id, audit_type)

    def plan(self, audit: _Audit) -> None:
        planned_on = self.on(PLANNING_AFTER)
        audit.visit = working_day(planned_on + timedelta(days=VISIT_AFTER_PLANNING), planned_on)
        hours = Decimal(("7.5", "8", "12", "14.5", "16")[(self.index + self.audits) % 5])
        command = PlanAudit(audit.audit_id, audit.bureau_id, audit.visit, hours)
        self.put(planned_on, command, self._bureau_actor(audit.bureau_id))

    def report(
        self, audit: _Audit, result: AuditResult, *, follow_up_months: int | None = None
    ) -> None:
        assert audit.visit is not None
        audited = audited_requirements(
            audit.audit_type,
            self.unit.service_type,
            self.exemptions,
            audit.visit,
            lacking=self.lacking,
        )
        not_met: frozenset[Requirement] = frozenset()
        if result is not AuditResult.PASSED:
            preferred = Requirement.CLIENT_SATISFACTION
            not_met = frozenset({preferred if preferred in audited else max(audited)})
        audit.not_met = not_met
        audit.reports += 1
        command = SubmitAuditReport(
            audit_id=audit.audit_id,
            report_id=f"{audit.audit_id}-report{audit.reports}",
            bureau_id=audit.bureau_id,
            audit_type=audit.audit_type,
            visit_date=audit.visit,
            scores=_scores(audited, not_met),
            verdicts=tuple(Verdict(requirement=r, met=r not in not_met) for r in sorted(audited)),
            result=result,
            follow_up_deadline=(
                audit.visit + relativedelta(months=follow_up_months)
                if result is AuditResult.CONDITIONALLY_PASSED and follow_up_months
                else None
            ),
            norm_version=CURRENT_NORM.version,
        )
        after = (audit.visit - self.day).days + REPORT_AFTER_VISIT
        self.at(after, command, self._bureau_actor(audit.bureau_id))

    def react(self, audit: _Audit) -> None:
        reaction = "Klanttevredenheidsmeting herwerkt: elke klant krijgt nu een bevraging."
        self.at(
            REACTION_AFTER_REPORT, ReactToFailedAudit(audit.audit_id, reaction), self.provider_actor
        )

    def decide(
        self,
        application_id: str,
        *,
        granted: bool = True,
        lacking: frozenset[Requirement] = frozenset(),
    ) -> date:
        day = self.on(DECISION_AFTER_REPORT)
        reason = None if granted else "Het auditrapport toont dat niet aan de kmop-norm is voldaan."
        self.put(day, RecordDecision(application_id, granted, day, reason), AGENCY)
        if granted:
            self.granted_on = self.granted_on or day
            self.valid_until = registration_valid_until(day, starter=self.track is Track.STARTER)
            self.lacking = lacking
        return day

    def stop(self, after: int) -> None:
        reason = "Misbruik vastgesteld: facturen voor prestaties die niet geleverd werden."
        self.at(after, StopRegistration(reason), AGENCY)

    # -- the shapes

    def audited(
        self, result: AuditResult, *, follow_up_months: int | None = None
    ) -> tuple[str, _Audit]:
        application_id = self.apply(self.track)
        audit = self.choose()
        self.plan(audit)
        self.report(audit, result, follow_up_months=follow_up_months)
        return application_id, audit

    def register(
        self, result: AuditResult = AuditResult.PASSED, *, follow_up_months: int | None = None
    ) -> None:
        application_id, audit = self.audited(result, follow_up_months=follow_up_months)
        self.decide(application_id, lacking=audit.not_met)

    def follow_up(self, result: AuditResult, *, after: int) -> None:
        audit = self.choose(follow_up=True, after=after)
        self.plan(audit)
        self.report(audit, result)


def _scores(
    audited: frozenset[Requirement], not_met: frozenset[Requirement]
) -> tuple[IndicatorScore, ...]:
    """Both scores of every audited indicator: T/V where the requirement is met, G/B not."""
    found = []
    for n, indicator in enumerate(CURRENT_NORM.indicators):
        if indicator.requirement not in audited:
            continue
        if indicator.requirement in not_met:
            conformity, demonstrability = Score.G, (Score.B if n % 2 else Score.G)
        else:
            conformity, demonstrability = (
                (Score.V if n % 3 else Score.T),
                (Score.T if n % 2 else Score.V),
            )
        found.append(
            IndicatorScore(
                indicator=indicator.code, conformity=conformity, demonstrability=demonstrability
            )
        )
    return tuple(found)


def play(story: Story, path: Path) -> None:
    match path:
        case Path.APPLIED:
            story.apply()
        case Path.AUDIT_ASSIGNED:
            story.apply()
            story.choose()
        case Path.AUDIT_PLANNED:
            story.apply()
            story.plan(story.choose())
        case Path.AUDIT_FAILED | Path.REFUSED_NO_REACTION:
            story.audited(AuditResult.FAILED)
        case Path.AWAITING_DECISION:
            story.audited(AuditResult.PASSED)
        case Path.REGISTERED | Path.EXPIRED:
            story.register()
        case Path.REGISTERED_AFTER_REACTION:
            application_id, audit = story.audited(AuditResult.FAILED)
            story.react(audit)
            story.plan(audit)
            story.report(audit, AuditResult.PASSED)
            story.decide(application_id)
        case Path.RENEWED:
            story.register()
            assert story.valid_until is not None
            renewal_on = story.valid_until - timedelta(days=RENEWAL_BEFORE_END)
            story.track = Track.RENEWAL
            application_id = story.apply(Track.RENEWAL, after=(renewal_on - story.day).days)
            audit = story.choose()
            story.plan(audit)
            story.report(audit, AuditResult.PASSED)
            story.decide(application_id)
        case Path.STARTER | Path.STARTER_FOLLOWED_UP | Path.STOPPED_FOLLOW_UP_FAILED:
            story.track = Track.STARTER
            story.register()
            if path is Path.STARTER_FOLLOWED_UP:
                story.follow_up(AuditResult.PASSED, after=400)
            elif path is Path.STOPPED_FOLLOW_UP_FAILED:
                story.follow_up(AuditResult.FAILED, after=300)
        case Path.CONDITIONAL:
            story.register(AuditResult.CONDITIONALLY_PASSED, follow_up_months=12)
        case Path.CONDITIONAL_FOLLOWED_UP:
            story.register(AuditResult.CONDITIONALLY_PASSED, follow_up_months=10)
            story.follow_up(AuditResult.PASSED, after=30)
        case Path.STOPPED_FOLLOW_UP_MISSED:
            story.register(AuditResult.CONDITIONALLY_PASSED, follow_up_months=9)
        case Path.REFUSED:
            application_id, _ = story.audited(AuditResult.FAILED)
            story.decide(application_id, granted=False)
        case Path.STOPPED_BY_AGENCY:
            story.register()
            story.stop(after=(story.today - story.day).days // 2)
