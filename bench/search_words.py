"""The search benchmark's providers' words (``bench/search_data.py``): name parts, legal forms, real
postal codes per province, streets, theme phrases, the fates a provider may meet, and the
text without accents, as people type."""

from __future__ import annotations

import random
import unicodedata
from enum import StrEnum

from app.domain.identifiers import BankAccount, EnterpriseNumber
from app.domain.policies import ELIGIBLE_THEMES

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
