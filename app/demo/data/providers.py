"""The demo's providers: made up (names, enterprise numbers, accounts), placed at real Belgian
postal codes across the provinces; each says the path its registration units take through the
process and how long ago that began."""

from __future__ import annotations

from app.demo.data.stories import DemoProvider, DemoUnit, Path
from app.domain.events import ProfileLocation
from app.domain.identifiers import ServiceType
from app.domain.norm import Certificate, ProfessionalBody

TRAINING, ADVICE = ServiceType.TRAINING, ServiceType.ADVICE


def at(
    street: str, postal_code: str, municipality: str, name: str | None = None
) -> ProfileLocation:
    return ProfileLocation(
        name=name, street=street, postal_code=postal_code, municipality=municipality
    )


def unit(service_type: ServiceType, path: Path, days_ago: int) -> DemoUnit:
    return DemoUnit(service_type, path, days_ago)


# Whose registration numbers the summary shows: accents, two units with consecutive numbers
# (registered for training and advice on one day), and the typo example.
SHOWCASE = ("Vinçotte Academy", "Peeters & Janssens Consult", "Kiwa Belgium Academy")

PROVIDERS: tuple[DemoProvider, ...] = (
    DemoProvider(
        "Vinçotte Academy",
        "Opleidingen in veiligheid, milieu en kwaliteit voor technische profielen: VCA, "
        "elektrische veiligheid, ISO 14001 en energiebeheer, in open sessies of op maat.",
        ("duurzaamheid", "beroepsspecifieke competenties", "personeelsmanagement"),
        (
            at("Jan Olieslagerslaan 35", "1800", "Vilvoorde", "Hoofdzetel"),
            at("Kortrijksesteenweg 1144", "9051", "Gent", "Opleidingscentrum Gent"),
        ),
        (unit(TRAINING, Path.REGISTERED, 900),),
        ratings=12,
        certificate=Certificate.ISO_9001,
    ),
    DemoProvider(
        "Kiwa Belgium Academy",
        "Praktijkgerichte opleidingen over certificering, voedselveiligheid en "
        "kwaliteitsmanagement voor kmo's in de bouw, de agrovoeding en de zorg.",
        ("beroepsspecifieke competenties", "duurzaamheid"),
        (at("Berchemstadionstraat 76", "2600", "Antwerpen"),),
        (unit(TRAINING, Path.REGISTERED, 650),),
        ratings=5,
    ),
    DemoProvider(
        "Formació & Co",
        "Taalopleidingen Frans, Spaans en Catalaans voor exportgerichte kmo's, met "
        "interculturele communicatie en onderhandelen met buitenlandse klanten.",
        ("internationalisering", "personeelsmanagement"),
        (at("Hoogstraat 139", "1000", "Brussel"),),
        (unit(TRAINING, Path.STARTER, 420),),
        ratings=2,
    ),
    DemoProvider(
        "Bureau Ée",
        "Strategisch advies voor familiebedrijven: opvolging, groeiplannen en het "
        "vertalen van een visie naar concrete doelstellingen.",
        ("bedrijfsstrategie", "innovatie"),
        (at("Boterstraat 18", "8900", "Ieper"),),
        (unit(ADVICE, Path.CONDITIONAL, 180),),
    ),
    DemoProvider(
        "Peeters & Janssens Consult",
        "Advies en opleiding rond bedrijfsstrategie, financieel beheer en leiderschap "
        "voor kmo's met tien tot honderd medewerkers.",
        ("bedrijfsstrategie", "financiële geletterdheid", "personeelsmanagement"),
        (
            at("Grote Markt 21", "2800", "Mechelen"),
            at("Bondgenotenlaan 74", "3000", "Leuven"),
        ),
        (unit(TRAINING, Path.REGISTERED, 1300), unit(ADVICE, Path.REGISTERED, 1300)),
        ratings=9,
    ),
    DemoProvider(
        "Vormingscentrum De Leerlijn vzw",
        "Opleidingen voor technici en ploegleiders in de maakindustrie: PLC-sturing, "
        "onderhoud en digitale werkinstructies.",
        ("beroepsspecifieke competenties", "digitalisering"),
        (at("Stationsstraat 44", "9100", "Sint-Niklaas"),),
        (unit(TRAINING, Path.REGISTERED_AFTER_REACTION, 800),),
        ratings=6,
    ),
    DemoProvider(
        "Digitaal Atelier Kortrijk",
        "Hands-on opleidingen in digitale marketing, webshops en procesautomatisering "
        "voor kleine ondernemingen en zelfstandigen.",
        ("digitalisering", "innovatie"),
        (at("Doorniksestraat 61", "8500", "Kortrijk"),),
        (unit(TRAINING, Path.STARTER_FOLLOWED_UP, 1200),),
        ratings=7,
    ),
    DemoProvider(
        "Groen Ondernemen Limburg CommV",
        "Duurzaamheidsadvies: CO2-voetafdruk, circulaire bedrijfsmodellen en "
        "energie-audits voor kmo's in Limburg.",
        ("duurzaamheid", "innovatie", "bedrijfsstrategie"),
        (
            at("Kuringersteenweg 172", "3500", "Hasselt"),
            at("Europalaan 20", "3600", "Genk"),
        ),
        (unit(ADVICE, Path.CONDITIONAL_FOLLOWED_UP, 900),),
        ratings=4,
    ),
    DemoProvider(
        "Maes & Partners Accountants",
        "Erkende accountants (ITAA) met advies over financiële planning, rapportering en "
        "de overname of overdracht van een onderneming.",
        ("financiële geletterdheid", "bedrijfsstrategie"),
        (at("Dendermondsesteenweg 34", "9300", "Aalst"),),
        (unit(ADVICE, Path.REGISTERED, 1000),),
        ratings=8,
        professional_body=ProfessionalBody.ITAA,
    ),
    DemoProvider(
        "HR Kompas",
        "Advies over personeelsbeleid: functieclassificatie, verloning, welzijn op het werk "
        "en het uitbouwen van een leercultuur.",
        ("personeelsmanagement",),
        (at("Frankrijklei 101", "2000", "Antwerpen"),),
        (unit(ADVICE, Path.RENEWED, 2100),),
        ratings=10,
    ),
    DemoProvider(
        "Taalhuis Mechelen vzw",
        "Nederlands op de werkvloer en zakelijk Engels voor medewerkers van kmo's.",
        ("internationalisering", "beroepsspecifieke competenties"),
        (at("IJzerenleen 16", "2800", "Mechelen"),),
        (unit(TRAINING, Path.EXPIRED, 2150),),
    ),
    DemoProvider(
        "Export Flanders Advies",
        "Begeleiding bij de eerste stappen op buitenlandse markten: marktstudie, "
        "distributiepartners en exportdocumenten.",
        ("internationalisering",),
        (at("Sint-Pieterskaai 50", "8000", "Brugge"),),
        (unit(ADVICE, Path.STOPPED_BY_AGENCY, 1100),),
    ),
    DemoProvider(
        "Innovatielab Gent",
        "Innovatietrajecten en design sprints: van idee tot prototype, met subsidie- en "
        "partnerzoektochten.",
        ("innovatie", "digitalisering"),
        (at("Ottergemsesteenweg-Zuid 808", "9000", "Gent"),),
        (unit(ADVICE, Path.STOPPED_FOLLOW_UP_MISSED, 700),),
    ),
    DemoProvider(
        "StartSmart Coaching",
        "Coaching en workshops voor starters: ondernemersplan, timemanagement en "
        "persoonlijke effectiviteit.",
        ("personeelsmanagement",),
        (at("Diestsestraat 120", "3000", "Leuven"),),
        (unit(TRAINING, Path.STOPPED_FOLLOW_UP_FAILED, 1000),),
    ),
    DemoProvider(
        "Financieel Fit",
        "Opleidingen boekhouden en budgetbeheer voor zelfstandigen.",
        ("financiële geletterdheid",),
        (at("Nieuwstraat 5", "3300", "Tienen"),),
        (unit(TRAINING, Path.REFUSED, 150),),
    ),
    DemoProvider(
        "Procesverbeteraars Brugge",
        "Lean-advies en procesoptimalisatie voor productiebedrijven.",
        ("bedrijfsstrategie",),
        (at("Kolvestraat 3", "8000", "Brugge"),),
        (unit(ADVICE, Path.REFUSED_NO_REACTION, 600),),
    ),
    DemoProvider(
        "Leercentrum Noord",
        "Opleidingen heftruck, reachtruck en magazijnbeheer voor logistieke bedrijven.",
        ("beroepsspecifieke competenties",),
        (at("Noorderlaan 133", "2030", "Antwerpen"),),
        (unit(TRAINING, Path.APPLIED, 14),),
    ),
    DemoProvider(
        "Datawijs",
        "Advies over datagedreven werken: dashboards, datakwaliteit en de GDPR.",
        ("digitalisering",),
        (at("Philipssite 5", "3001", "Leuven"),),
        (unit(ADVICE, Path.AUDIT_ASSIGNED, 30),),
    ),
    DemoProvider(
        "Zorgacademie Aalst vzw",
        "Opleidingen voor zorgverleners in kleine zorgvoorzieningen: tiltechnieken, "
        "communicatie met bewoners en dementiezorg.",
        ("beroepsspecifieke competenties",),
        (at("Moorselbaan 164", "9300", "Aalst"),),
        (unit(TRAINING, Path.AUDIT_PLANNED, 40),),
    ),
    DemoProvider(
        "Strategie & Groei",
        "Advies over groeistrategie, prijszetting en business development.",
        ("bedrijfsstrategie",),
        (at("Leuvensesteenweg 540", "1930", "Zaventem"),),
        (unit(ADVICE, Path.AUDIT_FAILED, 100),),
    ),
    DemoProvider(
        "Atelier Clément Dubois",
        "Opleidingen patisserie en chocolaterie voor ambachtelijke bakkers.",
        ("beroepsspecifieke competenties",),
        (at("Kroonlaan 200", "1050", "Elsene"),),
        (unit(TRAINING, Path.AWAITING_DECISION, 80),),
    ),
    DemoProvider(
        "Brouwerij-Academie Oudenaarde",
        "Opleidingen brouwen, kwaliteitscontrole en hygiëne voor microbrouwerijen en horecazaken.",
        ("beroepsspecifieke competenties", "duurzaamheid"),
        (at("Markt 40", "9700", "Oudenaarde"),),
        (unit(TRAINING, Path.REGISTERED, 400),),
        ratings=6,
    ),
    DemoProvider(
        "Qualitas Opleidingen NV",
        "Opleidingen leidinggeven, feedback en teamwerking; open aanbod en incompany.",
        ("personeelsmanagement", "beroepsspecifieke competenties"),
        (
            at("Brusselsesteenweg 15", "1500", "Halle"),
            at("Leuvensesteenweg 613", "1930", "Zaventem"),
        ),
        (unit(TRAINING, Path.REGISTERED, 1500),),
        ratings=11,
        certificate=Certificate.QFOR,
    ),
    DemoProvider(
        "Lean & Mean Consultancy",
        "Advies over lean management, KPI's en operationele excellentie.",
        ("bedrijfsstrategie", "innovatie"),
        (at("Kempische Steenweg 293", "3500", "Hasselt"),),
        (unit(ADVICE, Path.REGISTERED, 300),),
        ratings=3,
    ),
    DemoProvider(
        "Duurzaam Bouwen Academie",
        "Opleidingen energieprestatie, isolatie en circulair bouwen voor aannemers.",
        ("duurzaamheid", "beroepsspecifieke competenties"),
        (
            at("Kleinhoefstraat 4", "2440", "Geel"),
            at("Lammerdries 8", "2250", "Olen"),
        ),
        (unit(TRAINING, Path.REGISTERED, 750),),
        ratings=5,
    ),
    DemoProvider(
        "Cyberveilig Vlaanderen",
        "Advies over informatieveiligheid: risicoanalyse, back-ups en bewustmaking.",
        ("digitalisering",),
        (at("Ajuinlei 1", "9000", "Gent"),),
        (unit(ADVICE, Path.STARTER, 200),),
    ),
    DemoProvider(
        "Logistiek Opleidingscentrum Zeebrugge",
        "Opleidingen havenlogistiek, gevaarlijke goederen (ADR) en douane.",
        ("beroepsspecifieke competenties", "internationalisering"),
        (at("Ramskapellestraat 10", "8380", "Brugge"),),
        (unit(TRAINING, Path.REGISTERED, 1600),),
        ratings=8,
    ),
    DemoProvider(
        "Horeca Vorming Westhoek",
        "Opleidingen bediening, keukenorganisatie en voedselveiligheid voor horecazaken.",
        ("beroepsspecifieke competenties",),
        (at("Grote Markt 1", "8900", "Ieper"),),
        (unit(TRAINING, Path.CONDITIONAL, 300),),
    ),
    DemoProvider(
        "Van den Broeck Bedrijfsadvies",
        "Advies over financiering, rendabiliteit en investeringsdossiers.",
        ("bedrijfsstrategie", "financiële geletterdheid"),
        (at("Mechelsesteenweg 112", "2500", "Lier"),),
        (unit(ADVICE, Path.REGISTERED, 1400),),
        ratings=4,
    ),
    DemoProvider(
        "Müller & Lemaître Consulting",
        "Advies bij internationale groei in de Euregio: marktverkenning en "
        "grensoverschrijdende samenwerking.",
        ("internationalisering",),
        (at("Boulevard d'Avroy 38", "4000", "Luik"),),
        (unit(ADVICE, Path.REGISTERED, 500), unit(TRAINING, Path.REFUSED, 250)),
        ratings=2,
    ),
    DemoProvider(
        "Ondernemersacademie Kempen",
        "Opleidingen voor zaakvoerders: strategie, personeelsbeleid en financiën.",
        ("bedrijfsstrategie", "personeelsmanagement"),
        (at("Grote Markt 44", "2300", "Turnhout"),),
        (unit(TRAINING, Path.REGISTERED, 1100),),
        ratings=9,
    ),
    DemoProvider(
        "Boekhoudkantoor Wouters",
        "Opleidingen digitaal boekhouden en fiscaliteit voor kleine ondernemingen, door "
        "erkende boekhouders (ITAA).",
        ("financiële geletterdheid",),
        (at("Koning Albertstraat 4", "8800", "Roeselare"),),
        (unit(TRAINING, Path.REGISTERED, 600),),
        ratings=3,
        professional_body=ProfessionalBody.ITAA,
    ),
    DemoProvider(
        "Exportwijs Oostende",
        "Advies over export naar het Verenigd Koninkrijk en Scandinavië na de brexit.",
        ("internationalisering",),
        (at("Vindictivelaan 1", "8400", "Oostende"),),
        (unit(ADVICE, Path.REGISTERED, 200),),
    ),
    DemoProvider(
        "Talentum HR-Academie",
        "Opleidingen rekrutering, onboarding en competentiemanagement.",
        ("personeelsmanagement",),
        (at("Martelarenlaan 38", "3010", "Leuven"),),
        (unit(TRAINING, Path.REGISTERED, 850),),
        ratings=4,
    ),
    DemoProvider(
        "Digitale Kmo Coach",
        "Opleidingen en advies over digitale tools, cloudboekhouding en e-facturatie.",
        ("digitalisering", "innovatie"),
        (at("Nijverheidsstraat 10", "3580", "Beringen"),),
        (unit(TRAINING, Path.REGISTERED, 900), unit(ADVICE, Path.APPLIED, 30)),
        ratings=6,
    ),
    DemoProvider(
        "Energiebureau Namen",
        "Advies over energie-efficiëntie en hernieuwbare energie voor kmo's.",
        ("duurzaamheid",),
        (at("Rue de Fer 25", "5000", "Namen"),),
        (unit(ADVICE, Path.REGISTERED, 700),),
        ratings=2,
    ),
    DemoProvider(
        "Créa Design Studio",
        "Opleidingen productontwerp en creatieve technieken voor ambachtslui.",
        ("innovatie",),
        (at("Grote Markt 22", "7000", "Bergen"),),
        (unit(TRAINING, Path.EXPIRED, 2120),),
    ),
    DemoProvider(
        "Kwaliteitshuis Dendermonde",
        "Advies over kwaliteitsmanagement en certificering (ISO 9001, VCA).",
        ("bedrijfsstrategie",),
        (at("Noordlaan 12", "9200", "Dendermonde"),),
        (unit(ADVICE, Path.REGISTERED, 1250),),
        ratings=3,
        certificate=Certificate.ISO_9001,
    ),
    DemoProvider(
        "Coachingpraktijk Sörensen",
        "Loopbaan- en teamcoaching voor kleine ondernemingen.",
        ("personeelsmanagement",),
        (at("Kerkstraat 7", "3900", "Pelt"),),
        (unit(TRAINING, Path.STARTER, 300),),
        ratings=1,
    ),
    DemoProvider(
        "Luxemburgs Opleidingsinstituut",
        "Opleidingen voor grensarbeiders en bedrijven met vestigingen in het Groothertogdom.",
        ("internationalisering",),
        (at("Rue de Diekirch 10", "6700", "Aarlen"),),
        (unit(TRAINING, Path.REGISTERED, 500),),
        ratings=2,
    ),
    DemoProvider(
        "Föhn & Co Kappersopleidingen",
        "Opleidingen knippen, kleuren en salonbeheer voor kapsalons.",
        ("beroepsspecifieke competenties",),
        (at("Chaussée de Bruxelles 135", "1300", "Waver"),),
        (unit(TRAINING, Path.REGISTERED, 350),),
        ratings=5,
    ),
)
