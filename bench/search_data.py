"""Realistic providers for the search benchmark, and their histories made by the real deciders.

``provider_history(n, seed, today, context)`` gives the n-th provider: a Flemish/Belgian
company-like name (word lists, some with accents), a Dutch description, 1-3 eligible themes,
1-3 locations with real postal codes spread over the provinces, training, advice or both, and
every command of its story (application, sworn declaration, bureau chosen, audit planned, report
with the norm's indicator scores and verdicts, decision, profile) decided in-process by
``app.domain.decider.decide`` / ``decide_profile`` at instants in the recent past. The result is
the list of appends (stream, expected version, events, metadata, recorded time) a loader writes
with ``EventStore.append``. The n-th provider is the same on every run (seeded per provider),
so a database can be loaded in increments.

Fates: most providers are registered today (full, conditionally or as a starter); some only
applied, some were stopped, some expired. Those are in ``public_providers`` too (the name
is projected from the application) but must not be listed.
"""

from __future__ import annotations

import random
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from enum import StrEnum
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
from app.domain.events import AuditResult, IndicatorScore, ProfileLocation, Score, Track, Verdict
from app.domain.identifiers import BankAccount, EnterpriseNumber, RegistrationUnit, ServiceType
from app.domain.norm import CURRENT_NORM, AuditType, Requirement, audited_requirements
from app.domain.policies import ELIGIBLE_THEMES
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

BRUSSELS = ZoneInfo("Europe/Brussels")
AGENCY = Actor(id="vlaio-backoffice", role="agency")
DEADLINE_JOB = Actor(id="deadline-job", role="system")
CORRELATION = "bench-search-load"

# --- words ---------------------------------------------------------------------------------

ACTIVITIES = (
    "Vormingscentrum", "Adviesbureau", "Academie", "Opleidingen", "Opleidingscentrum",
    "Consultancy", "Advies", "Leerhuis", "Kenniscentrum", "Trainingscentrum", "Coaching",
    "Studiebureau", "Bedrijfsadvies", "Expertisecentrum", "Managementadvies", "Instituut",
    "Competentiecentrum", "Ondernemersacademie", "Bureau", "Atelier",
)  # fmt: skip
SURNAMES = (
    "Peeters", "Janssens", "Maes", "Jacobs", "Mertens", "Willems", "Claes", "Goossens",
    "Wouters", "De Smet", "Dubois", "Lambert", "Dupont", "Martens", "Vermeulen",
    "Van den Broeck", "Hermans", "Pauwels", "Aerts", "Michiels", "De Clercq", "Desmet",
    "Lemmens", "Dumont", "Segers", "Leclercq", "Lefèvre", "Verstraete", "Van Damme", "Stevens",
    "Coppens", "Cools", "Smets", "Van de Velde", "Claeys", "Vandenberghe", "Hendrickx",
    "Bogaerts", "De Backer", "Vervoort", "Geerts", "Verhoeven", "Thys", "Wuyts", "Noël",
    "Gérard", "François", "Lejeune", "Renard", "Wéry", "Dehaené", "Verbruggen", "D'Hondt",
    "Van Acker", "Vanhoutte", "Debruyne", "Stroobants", "Vercammen", "Ceulemans", "Rosseel",
    "Sabbe", "Beeckman", "Callens", "Deprez", "Delvaux", "Hoste", "Baert", "Lievens",
    "Cornelis", "Van Hecke", "Huyghe", "Bracke", "Vanneste", "Mortier", "Casier", "Devos",
    "Dewulf", "Ghesquière", "Boël", "Crèvecoeur", "Vandaële", "Lemaître", "Hoët", "Staës",
)  # fmt: skip
FIRST_NAMES = (
    "Gaëlle", "Hélène", "Chloé", "Zoë", "Joëlle", "Renée", "José", "André", "Rémi", "Léa",
    "Cédric", "Frédéric", "Jérôme", "Stéphanie", "Véronique", "Ann", "Koen", "Bart", "Els",
    "Wim", "Sofie", "Pieter", "Katrien", "Jan", "Lies", "Tom", "Inge", "Dirk", "Griet", "Raf",
)  # fmt: skip
AREAS = (
    "Kempen", "Waasland", "Westhoek", "Meetjesland", "Haspengouw", "Pajottenland",
    "Scheldeland", "Dijleland", "Noorderkempen", "Maasland", "Leiestreek", "Vlaamse Ardennen",
    "Denderstreek", "Hageland", "Brabantse Wouden", "Rupelstreek", "Polders",
)  # fmt: skip
TOPICS = (
    "Digitaal Ondernemen", "Duurzaam Ondernemen", "Export", "Innovatie", "Leiderschap",
    "Boekhouding", "Marketing", "Veiligheid", "HR", "Strategie", "Financiën", "Talen",
    "Logistiek", "Kwaliteit", "Energie", "Cybersecurity", "Communicatie", "Verkoop",
    "Bedrijfsoverdracht", "Welzijn", "Créativiteit", "Zorgeconomie",
)  # fmt: skip
PARTNER_SUFFIXES = ("Advies", "Consult", "Partners", "Opleidingen", "Vennoten", "Group", "Academy")
LEGAL_FORMS = ("BV",) * 8 + ("NV",) * 3 + ("VZW",) * 3 + ("CommV", "CV", "")
LEGAL_FORM_WORDS = frozenset(form for form in LEGAL_FORMS if form)

# (postal code, municipality): real Belgian codes, by province; the first of each is the city.
LOCATIONS: dict[str, tuple[tuple[str, str], ...]] = {
    "antwerpen": (
        ("2000", "Antwerpen"), ("2018", "Antwerpen"), ("2100", "Deurne"), ("2140", "Borgerhout"),
        ("2300", "Turnhout"), ("2400", "Mol"), ("2440", "Geel"), ("2500", "Lier"),
        ("2800", "Mechelen"), ("2900", "Schoten"), ("2930", "Brasschaat"), ("2200", "Herentals"),
        ("2260", "Westerlo"), ("2640", "Mortsel"), ("2610", "Wilrijk"), ("2650", "Edegem"),
        ("2960", "Brecht"), ("2390", "Malle"),
    ),
    "vlaams-brabant": (
        ("3000", "Leuven"), ("3001", "Heverlee"), ("3010", "Kessel-Lo"), ("1500", "Halle"),
        ("1800", "Vilvoorde"), ("1930", "Zaventem"), ("3300", "Tienen"), ("3200", "Aarschot"),
        ("1700", "Dilbeek"), ("1740", "Ternat"), ("1600", "Sint-Pieters-Leeuw"),
        ("3080", "Tervuren"), ("1850", "Grimbergen"), ("3290", "Diest"),
        ("3270", "Scherpenheuvel-Zichem"),
    ),
    "limburg": (
        ("3500", "Hasselt"), ("3600", "Genk"), ("3700", "Tongeren"), ("3800", "Sint-Truiden"),
        ("3900", "Pelt"), ("3920", "Lommel"), ("3630", "Maasmechelen"),
        ("3550", "Heusden-Zolder"), ("3580", "Beringen"), ("3960", "Bree"), ("3740", "Bilzen"),
        ("3680", "Maaseik"),
    ),
    "oost-vlaanderen": (
        ("9000", "Gent"), ("9050", "Gentbrugge"), ("9100", "Sint-Niklaas"),
        ("9200", "Dendermonde"), ("9300", "Aalst"), ("9400", "Ninove"),
        ("9500", "Geraardsbergen"), ("9600", "Ronse"), ("9700", "Oudenaarde"), ("9800", "Deinze"),
        ("9900", "Eeklo"), ("9120", "Beveren"), ("9160", "Lokeren"), ("9880", "Aalter"),
        ("9820", "Merelbeke"), ("9840", "De Pinte"), ("9230", "Wetteren"), ("9140", "Temse"),
    ),
    "west-vlaanderen": (
        ("8000", "Brugge"), ("8200", "Sint-Andries"), ("8300", "Knokke-Heist"),
        ("8400", "Oostende"), ("8500", "Kortrijk"), ("8800", "Roeselare"), ("8900", "Ieper"),
        ("8700", "Tielt"), ("8630", "Veurne"), ("8870", "Izegem"), ("8560", "Wevelgem"),
        ("8530", "Harelbeke"), ("8790", "Waregem"), ("8600", "Diksmuide"), ("8820", "Torhout"),
        ("8930", "Menen"),
    ),
    "brussel": (
        ("1000", "Brussel"), ("1030", "Schaarbeek"), ("1040", "Etterbeek"), ("1050", "Elsene"),
        ("1060", "Sint-Gillis"), ("1070", "Anderlecht"), ("1080", "Sint-Jans-Molenbeek"),
        ("1090", "Jette"), ("1140", "Evere"), ("1150", "Sint-Pieters-Woluwe"),
        ("1200", "Sint-Lambrechts-Woluwe"), ("1180", "Ukkel"), ("1190", "Vorst"),
    ),
    "waals-brabant": (
        ("1300", "Waver"), ("1348", "Louvain-la-Neuve"), ("1400", "Nijvel"),
        ("1410", "Waterloo"), ("1420", "Eigenbrakel"),
    ),
    "henegouwen": (
        ("7000", "Bergen"), ("6000", "Charleroi"), ("7500", "Doornik"), ("7700", "Moeskroen"),
        ("7100", "La Louvière"),
    ),
    "luik": (
        ("4000", "Liège"), ("4020", "Luik"), ("4800", "Verviers"), ("4700", "Eupen"),
        ("4500", "Hoei"), ("4780", "Sankt Vith"),
    ),
    "namen": (("5000", "Namen"), ("5500", "Dinant"), ("5300", "Andenne")),
    "luxemburg": (("6700", "Aarlen"), ("6900", "Marche-en-Famenne"), ("6600", "Bastenaken")),
}  # fmt: skip
PROVINCE_WEIGHTS = {
    "antwerpen": 20, "oost-vlaanderen": 18, "west-vlaanderen": 15, "vlaams-brabant": 14,
    "limburg": 10, "brussel": 13, "waals-brabant": 3, "henegouwen": 2, "luik": 2, "namen": 2,
    "luxemburg": 1,
}  # fmt: skip
STREETS = (
    "Stationsstraat", "Kerkstraat", "Dorpstraat", "Nieuwstraat", "Molenstraat", "Industrielaan",
    "Kouter", "Grote Markt", "Leuvensesteenweg", "Brusselsesteenweg", "Kortrijksesteenweg",
    "Researchpark", "Ambachtsweg", "Zandstraat", "Rue de la Station", "Kapelstraat", "Veldstraat",
)  # fmt: skip

THEME_PHRASES: dict[str, tuple[str, ...]] = {
    "bedrijfsstrategie": (
        "strategische planning", "bedrijfsplannen", "groeistrategie", "bedrijfsoverdracht",
    ),
    "beroepsspecifieke competenties": (
        "vakopleidingen", "technische bijscholing", "veiligheidsattesten", "lastechnieken",
    ),
    "digitalisering": (
        "digitale transformatie", "ERP-implementaties", "cyberveiligheid", "e-commerce",
        "procesautomatisering",
    ),
    "duurzaamheid": (
        "energie-efficiëntie", "circulaire economie", "CO2-reductie", "duurzame bedrijfsvoering",
    ),
    "financiële geletterdheid": (
        "financieel beheer", "cashflowplanning", "boekhouding", "kostprijsberekening",
    ),
    "innovatie": ("productontwikkeling", "innovatiemanagement", "design thinking", "prototyping"),
    "internationalisering": (
        "export", "internationale handel", "douane en incoterms", "nieuwe markten",
    ),
    "personeelsmanagement": (
        "leiderschap", "teamcoaching", "talentmanagement", "welzijn op het werk", "rekrutering",
    ),
}  # fmt: skip
THEME_WEIGHTS = {
    "digitalisering": 20, "personeelsmanagement": 18, "bedrijfsstrategie": 15,
    "beroepsspecifieke competenties": 14, "financiële geletterdheid": 10, "duurzaamheid": 10,
    "innovatie": 8, "internationalisering": 5,
}  # fmt: skip
assert set(THEME_PHRASES) == ELIGIBLE_THEMES == set(THEME_WEIGHTS)

OPENINGS = (
    "{name} begeleidt kmo's in {area} bij {a} en {b}.",
    "Wij ondersteunen ondernemers uit {area} met {a}, {b} en meer.",
    "Sinds jaren helpt {name} kleine en middelgrote ondernemingen vooruit met {a}.",
    "Praktijkgerichte {service} over {a} en {b}, op maat van uw bedrijf.",
)
CLOSINGS = (
    "Onze ervaren {people} werken in groep of individueel, bij u ter plaatse of online.",
    "Elke opdracht start met een gratis intakegesprek en eindigt met een concreet actieplan.",
    "Wij werken met erkende {people} en meten de tevredenheid van elke klant.",
    "Ook in het Frans en het Engels mogelijk.",
    "Voor starters en groeiende bedrijven, van één tot tweehonderd medewerkers.",
)


class Fate(StrEnum):
    REGISTERED = "registered"
    CONDITIONAL = "registered-conditionally"
    STARTER = "registered-starter"
    APPLIED = "applied-only"
    STOPPED = "stopped"
    EXPIRED = "expired"


LISTED = frozenset({Fate.REGISTERED, Fate.CONDITIONAL, Fate.STARTER})
FATE_WEIGHTS = {
    Fate.REGISTERED: 78, Fate.CONDITIONAL: 7, Fate.STARTER: 7, Fate.APPLIED: 5, Fate.STOPPED: 2,
    Fate.EXPIRED: 1,
}  # fmt: skip


def plain(text: str) -> str:
    """Without accents: how many people type."""
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


def enterprise_number(n: int) -> EnterpriseNumber:
    """The n-th made-up, valid Belgian enterprise number of the benchmark (0500.000.0xx, ...)."""
    return EnterpriseNumber.with_check_digits(5_000_000 + n)


def bank_account(rng: random.Random) -> BankAccount:
    """A valid Belgian IBAN at a real bank code."""
    first10 = rng.choice(("001", "063", "068", "363", "734", "737", "750")) + (
        f"{rng.randrange(10_000_000):07d}"
    )
    bban = f"{first10}{int(first10) % 97 or 97:02d}"
    check = 98 - int(f"{bban}111400") % 97
    return BankAccount.parse(f"BE{check:02d}{bban}")


# --- the provider ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Profile:
    name: str
    description: str
    themes: tuple[str, ...]
    locations: tuple[ProfileLocation, ...]
    website: str
    services: tuple[ServiceType, ...]
    keeps_profile: bool  # else only what the application says is public


def _weighted(rng: random.Random, weights: dict[str, int]) -> str:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def _name(rng: random.Random, municipality: str) -> str:
    surname, activity = rng.choice(SURNAMES), rng.choice(ACTIVITIES)
    pattern = rng.randrange(7)
    if pattern <= 1:
        name = f"{activity} {surname}"
    elif pattern == 2:
        name = f"{surname} & {rng.choice(SURNAMES)} {rng.choice(PARTNER_SUFFIXES)}"
    elif pattern == 3:
        name = f"{activity} {rng.choice((*AREAS, municipality))}"
    elif pattern == 4:
        place = rng.choice(("", "", f" {municipality}", f" {rng.choice(AREAS)}"))
        name = f"{rng.choice(('Academie voor', 'Centrum voor', 'Huis van'))} {rng.choice(TOPICS)}"
        name += place
    elif pattern == 5:
        name = f"{surname} {rng.choice(TOPICS)} {rng.choice(PARTNER_SUFFIXES)}"
    else:
        name = f"{rng.choice(FIRST_NAMES)} {surname} {rng.choice(('Coaching', 'Consulting'))}"
    form = rng.choice(LEGAL_FORMS)
    return f"{name} {form}" if form else name


def _locations(rng: random.Random) -> tuple[ProfileLocation, ...]:
    province = _weighted(rng, PROVINCE_WEIGHTS)
    chosen: list[tuple[str, str]] = []
    for _ in range(rng.choices((1, 2, 3), weights=(60, 28, 12))[0]):
        if chosen and rng.random() < 0.4:
            province = _weighted(rng, PROVINCE_WEIGHTS)
        places = LOCATIONS[province]
        place = places[0] if rng.random() < 0.35 else rng.choice(places)
        if place not in chosen:
            chosen.append(place)
    return tuple(
        ProfileLocation(
            name=None if i == 0 else f"Vestiging {municipality}",
            street=f"{rng.choice(STREETS)} {rng.randint(1, 220)}",
            postal_code=code,
            municipality=municipality,
        )
        for i, (code, municipality) in enumerate(chosen)
    )


def _description(
    rng: random.Random, name: str, themes: Sequence[str], area: str, services: Sequence[str]
) -> str:
    phrases = [p for theme in themes for p in THEME_PHRASES[theme]]
    a, b = rng.sample(phrases, 2)
    service = "opleidingen" if "opleiding" in services else "adviestrajecten"
    people = "trainers" if "opleiding" in services else "adviseurs"
    sentences = [rng.choice(OPENINGS).format(name=name, area=area, a=a, b=b, service=service)]
    sentences += [c.format(people=people) for c in rng.sample(CLOSINGS, rng.randint(1, 2))]
    return " ".join(sentences)


def make_profile(rng: random.Random) -> Profile:
    locations = _locations(rng)
    name = _name(rng, locations[0].municipality)
    themes: set[str] = set()
    for _ in range(rng.choices((1, 2, 3), weights=(45, 38, 17))[0]):
        themes.add(_weighted(rng, THEME_WEIGHTS))
    services = rng.choices(
        (
            (ServiceType.TRAINING,),
            (ServiceType.ADVICE,),
            (ServiceType.TRAINING, ServiceType.ADVICE),
        ),
        weights=(45, 35, 20),
    )[0]
    ordered = tuple(sorted(themes))
    area = rng.choice((locations[0].municipality, rng.choice(AREAS), "heel Vlaanderen"))
    slug = "".join(
        c for c in plain(name.split(" ")[0] + name.split(" ")[-1]).lower() if c.isalnum()
    )
    return Profile(
        name=name,
        description=_description(rng, name, ordered, area, [s.value for s in services]),
        themes=ordered,
        locations=locations,
        website=f"https://www.{slug}.be",
        services=services,
        keeps_profile=rng.random() < 0.9,
    )


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
