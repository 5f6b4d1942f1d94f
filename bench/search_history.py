"""The search benchmark's providers' histories (``bench/search_data.py``): the audit bureaus,
and every command of each provider's story decided in-process by the real deciders, as appends."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from dateutil.relativedelta import relativedelta

from app.domain.bureaus import AppointAuditBureau, BureauState, decide_bureau, evolve_bureau
from app.domain.decider import (
    ApplyDeadlines,
    ChooseAuditBureau,
    Command,
    Context,
    PlanAudit,
    RecordDecision,
    RecordSwornDeclaration,
    StopRegistration,
    SubmitApplication,
    SubmitAuditReport,
    decide,
)
from app.domain.event import DomainEvent
from app.domain.events import AuditResult, IndicatorScore, Score, Track, Verdict
from app.domain.identifiers import EnterpriseNumber, RegistrationUnit, ServiceType
from app.domain.norm import CURRENT_NORM, AuditType, Requirement, audited_requirements
from app.domain.profiles import ProfileState, UpdateProfile, decide_profile
from app.domain.registration import UnitState, evolve
from app.events import Actor, EventMetadata
from app.events.catalog import (
    BUREAU_STREAM,
    PROVIDER_STREAM,
    UNIT_STREAM,
    bureau_stream_id,
    provider_stream_id,
    unit_stream_id,
)
from bench.search_provider import (
    Profile,
    _weighted,
    make_profile,
)
from bench.search_words import (
    FATE_WEIGHTS,
    LISTED,
    Fate,
    bank_account,
    enterprise_number,
)

BRUSSELS = ZoneInfo("Europe/Brussels")
AGENCY = Actor(id="vlaio-backoffice", role="agency")
DEADLINE_JOB = Actor(id="deadline-job", role="system")
CORRELATION = "bench-search-load"


# --- its history -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Append:
    """One command's events, as ``EventStore.append`` takes them."""

    stream_id: str
    stream_type: str
    expected_version: int
    events: tuple[DomainEvent, ...]
    metadata: EventMetadata
    recorded_at: datetime


@dataclass(frozen=True, slots=True)
class ProviderHistory:
    enterprise_number: str
    profile: Profile
    fate: Fate
    appends: list[Append]


@dataclass(frozen=True, slots=True)
class Bureau:
    bureau_id: str
    name: str
    enterprise_number: EnterpriseNumber


BUREAUS = (
    Bureau("vincotte", "AIB-Vinçotte Belgium", enterprise_number(-1_000)),
    Bureau("bqa", "Belgium Quality Association", enterprise_number(-2_000)),
    Bureau("kiwa", "Kiwa Belgium", enterprise_number(-3_000)),
    Bureau("bureau-veritas", "Bureau Veritas Certification", enterprise_number(-4_000)),
)
APPOINTED_FROM = date(2019, 1, 1)


def bureaus(now: datetime) -> tuple[list[Append], Context]:
    """The appointments (to append once) and the decider's context they make."""
    appends, states = [], {}
    for bureau in BUREAUS:
        command = AppointAuditBureau(
            bureau.bureau_id, bureau.name, bureau.enterprise_number, APPOINTED_FROM
        )
        events = tuple(decide_bureau(command, BureauState(), now))
        state = BureauState()
        for event in events:
            state = evolve_bureau(state, event)
        states[bureau.bureau_id] = state
        stream = bureau_stream_id(bureau.bureau_id)
        metadata = EventMetadata(actor=AGENCY, correlation_id=CORRELATION)
        appends.append(Append(stream, BUREAU_STREAM, 0, events, metadata, now))
    return appends, Context(bureaus=states)


@dataclass
class _Unit:
    """One registration unit's stream, driven command by command through the decider."""

    unit: RegistrationUnit
    context: Context
    rng: random.Random
    state: UnitState = field(default_factory=UnitState)
    appends: list[Append] = field(default_factory=list)

    def run(self, command: Command, day: date, actor: Actor) -> None:
        at = datetime.combine(
            day, time(self.rng.randint(8, 17), self.rng.randrange(60)), tzinfo=BRUSSELS
        )
        events = tuple(decide(command, self.state, at, self.context))
        version = sum(len(a.events) for a in self.appends)
        for event in events:
            self.state = evolve(self.state, event)
        metadata = EventMetadata(actor=actor, correlation_id=CORRELATION)
        stream = unit_stream_id(self.unit.key)
        self.appends.append(Append(stream, UNIT_STREAM, version, events, metadata, at))


def _scores(
    audited: frozenset[Requirement], not_met: frozenset[Requirement], rng: random.Random
) -> tuple[IndicatorScore, ...]:
    low, high = (Score.B, Score.G), (Score.T, Score.V)
    return tuple(
        IndicatorScore(
            indicator=i.code,
            conformity=rng.choice(low if i.requirement in not_met else high),
            demonstrability=rng.choice(low if i.requirement in not_met else high),
        )
        for i in CURRENT_NORM.indicators
        if i.requirement in audited
    )


def _unit_history(
    kbo: EnterpriseNumber,
    service: ServiceType,
    profile: Profile,
    fate: Fate,
    today: date,
    context: Context,
    rng: random.Random,
) -> tuple[list[Append], date]:
    """The unit's commands; returns its appends and the day of its last one."""
    unit = _Unit(RegistrationUnit(kbo, service), context, rng)
    provider = Actor(id=f"provider-{kbo}", role="provider")

    def days(low: int, high: int) -> timedelta:
        return timedelta(days=rng.randint(low, high))

    # The decision day we aim at: the steps before it take 17 to 125 days, so it falls 4 to
    # 108 days before this.
    target = {
        Fate.REGISTERED: today - days(10, 1690),
        Fate.CONDITIONAL: today - days(10, 120),  # its follow-up is still to come
        Fate.STARTER: today - days(10, 600),
        Fate.STOPPED: today - days(90, 1500),
        Fate.EXPIRED: today - timedelta(days=5 * 365 + 10) - days(1, 300),
        Fate.APPLIED: today - days(3, 120) + timedelta(days=125),
    }[fate]
    applied = target - timedelta(days=125)
    application_id = f"application-{unit.unit.key}"
    audit_id = f"audit-{unit.unit.key}"
    bureau = rng.choice(BUREAUS).bureau_id
    track = Track.STARTER if fate is Fate.STARTER else Track.BASIC
    starter = track is Track.STARTER
    command = SubmitApplication(
        application_id=application_id,
        unit=unit.unit,
        provider_name=profile.name,
        bank_account=bank_account(rng),
        activities=profile.description.split(".")[0],
        themes=profile.themes,
        track=track,
        activity_started_on=applied - days(100, 900) if starter else None,
        dossiers=rng.randint(0, 15) if starter else None,
    )
    unit.run(command, applied, provider)
    declared = applied + days(1, 14)
    chosen = applied + days(2, 20)
    if fate is Fate.APPLIED:
        if declared < today and rng.random() < 0.6:
            unit.run(RecordSwornDeclaration(application_id, declared), declared, AGENCY)
        if chosen < today and rng.random() < 0.5:
            unit.run(ChooseAuditBureau(audit_id, bureau), chosen, provider)
        return unit.appends, max(declared, chosen)
    unit.run(RecordSwornDeclaration(application_id, declared), declared, AGENCY)
    unit.run(ChooseAuditBureau(audit_id, bureau), chosen, provider)
    planned = chosen + days(1, 10)
    visit = planned + days(7, 40)
    hours = Decimal(rng.choice(("6", "7.5", "8", "12", "16")))
    bureau_actor = Actor(id=f"{bureau}-software", role="bureau")
    unit.run(PlanAudit(audit_id, bureau, visit, hours), planned, bureau_actor)
    audit_type = AuditType.STARTER if starter else AuditType.BASIC
    audited = audited_requirements(audit_type, service, unit.state.exemptions, visit)
    conditional = fate is Fate.CONDITIONAL
    not_met = frozenset(rng.sample(sorted(audited), 1)) if conditional else frozenset()
    reported = visit + days(2, 21)
    report = SubmitAuditReport(
        audit_id=audit_id,
        report_id=f"report-{unit.unit.key}",
        bureau_id=bureau,
        audit_type=audit_type,
        visit_date=visit,
        scores=_scores(audited, not_met, rng),
        verdicts=tuple(Verdict(requirement=r, met=r not in not_met) for r in sorted(audited)),
        result=AuditResult.CONDITIONALLY_PASSED if conditional else AuditResult.PASSED,
        follow_up_deadline=visit + relativedelta(months=12) if conditional else None,
        norm_version=CURRENT_NORM.version,
    )
    unit.run(report, reported, bureau_actor)
    decided = reported + days(5, 30)
    unit.run(RecordDecision(application_id, True, decided), decided, AGENCY)
    last = decided
    if fate is Fate.STOPPED:
        last = decided + timedelta(days=rng.randint(20, (today - decided).days - 1))
        reason = rng.choice(("Misbruik vastgesteld", "Stopzetting op vraag van de dienstverlener"))
        unit.run(StopRegistration(reason), last, AGENCY)
    elif fate is Fate.EXPIRED:
        assert unit.state.registration is not None
        last = min(unit.state.registration.valid_until + days(1, 8), today)
        unit.run(ApplyDeadlines(), last, DEADLINE_JOB)
    return unit.appends, last


def provider_history(n: int, seed: int, today: date, context: Context) -> ProviderHistory:
    rng = random.Random(f"{seed}:{n}")
    kbo = enterprise_number(n)
    profile = make_profile(rng)
    fate = Fate(_weighted(rng, {str(f): w for f, w in FATE_WEIGHTS.items()}))
    appends: list[Append] = []
    last = date.min
    for service in profile.services:
        unit_appends, unit_last = _unit_history(kbo, service, profile, fate, today, context, rng)
        appends += unit_appends
        last = max(last, unit_last)
    if profile.keeps_profile and (fate in LISTED or rng.random() < 0.5):
        day = min(last + timedelta(days=rng.randint(1, 60)), today)
        at = datetime.combine(day, time(rng.randint(8, 22), rng.randrange(60)), tzinfo=BRUSSELS)
        at = min(at, datetime.now(BRUSSELS))
        command = UpdateProfile(
            enterprise=kbo,
            description=profile.description,
            themes=profile.themes,
            locations=profile.locations,
            website=profile.website,
        )
        events = tuple(decide_profile(command, ProfileState(), at))
        metadata = EventMetadata(
            actor=Actor(id=f"provider-{kbo}", role="provider"), correlation_id=CORRELATION
        )
        appends.append(
            Append(provider_stream_id(str(kbo)), PROVIDER_STREAM, 0, events, metadata, at)
        )
    return ProviderHistory(str(kbo), profile, fate, appends)
