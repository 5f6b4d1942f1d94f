"""The attest of registration as a PDF, in Dutch (``app.domain.attest`` says what it states).

Made with fpdf2: pure Python, from PyPI, no system libraries, and it writes nothing that
changes between two runs once the creation date and producer are set: the same attest gives
the same bytes (the file identifier is a hash of the content). The standard Helvetica font
needs no font file; it covers Windows-1252 (every Dutch and French letter, €, curly quotes),
and any other character is written as its closest Latin letter (``Łódź`` as ``Lodz``).
"""

from __future__ import annotations

import unicodedata
from datetime import datetime

from fpdf import FPDF
from fpdf.enums import XPos, YPos

from app.documents.dutch import dutch_date
from app.domain.attest import KIND_WORDS, SERVICE_WORDS, Attest
from app.domain.policies import today

ENCODING = "cp1252"
AGENCY = "Agentschap Innoveren & Ondernemen (VLAIO)"
PRODUCER = "kmop-registry"
# Letters that Unicode does not decompose into a base letter and a mark.
OWN_LETTERS = str.maketrans("ŁłĐđ\u0131Ħħ", "LlDdiHh")  # \u0131: the dotless i


def printable(text: str) -> str:
    """``text`` in what the standard font can show: Windows-1252, else the closest letters."""
    shown = []
    for char in text:
        try:
            char.encode(ENCODING)
            shown.append(char)
        except UnicodeEncodeError:
            latin = unicodedata.normalize("NFKD", char.translate(OWN_LETTERS))
            base = latin.encode("ascii", "ignore").decode()
            shown.append(base or "?")
    return "".join(shown)


def verification_url(base_url: str, attest: Attest) -> str:
    return f"{base_url.rstrip('/')}/controle/{attest.verification_code}"


def fields(attest: Attest) -> list[tuple[str, str]]:
    """The attest's facts, label and value, in the order printed."""
    rows = [
        ("Naam", attest.provider_name),
        ("Ondernemingsnummer", attest.enterprise_number.formatted),
    ]
    if attest.department:
        rows.append(("Departement", attest.department))
    return [
        *rows,
        ("Registratienummer", str(attest.registration_number)),
        ("Type dienst", SERVICE_WORDS[attest.service_type]),
        ("Soort registratie", KIND_WORDS[attest.kind]),
        ("Geldig vanaf", dutch_date(attest.valid_from)),
        ("Geldig tot en met", dutch_date(attest.valid_until)),
        ("Datum van de beslissing", dutch_date(attest.decision_date)),
    ]


def render(attest: Attest, *, stated_at: datetime, base_url: str) -> bytes:
    """The attest as the registry stood at ``stated_at`` (the time of the stream's last event:
    also the PDF's creation date, so one state gives one document)."""
    pdf = FPDF(format="A4", unit="mm")
    pdf.core_fonts_encoding = ENCODING
    pdf.set_creation_date(stated_at)
    pdf.set_producer(PRODUCER)
    pdf.set_creator(PRODUCER)
    pdf.set_author(AGENCY)
    pdf.set_title(f"Attest van registratie {attest.registration_number}")
    pdf.set_subject("Registratie als dienstverlener voor de kmo-portefeuille")
    pdf.set_lang("nl-BE")
    pdf.set_margins(20, 20, 20)
    pdf.set_auto_page_break(auto=True, margin=20)
    pdf.add_page()

    def line(text: str, *, size: float = 11, style: str = "", height: float = 6) -> None:
        pdf.set_font("Helvetica", style, size)
        pdf.multi_cell(0, height, printable(text), new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    line(AGENCY, size=10)
    pdf.ln(8)
    line("Attest van registratie", size=20, style="B", height=10)
    line("Dienstverlener voor de kmo-portefeuille", size=13)
    pdf.ln(6)
    line(
        "Na een positieve beslissing van de minister is de onderstaande dienstverlener "
        "geregistreerd als dienstverlener voor de kmo-portefeuille. Een kmo krijgt subsidie "
        "voor opleiding of advies alleen bij een geregistreerde dienstverlener."
    )
    pdf.ln(4)
    for label, value in fields(attest):
        pdf.set_font("Helvetica", "B", 11)
        pdf.cell(62, 8, printable(label))
        pdf.set_font("Helvetica", "", 11)
        pdf.multi_cell(0, 8, printable(value), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(4)
    if attest.ended_on is not None:
        line(
            f"Deze registratie is niet meer van kracht sinds {dutch_date(attest.ended_on)}.",
            style="B",
        )
        pdf.ln(2)
    line(f"Controlecode: {attest.verification_code}", style="B")
    line(
        "Iedereen kan nagaan of deze registratie op een gekozen dag van kracht was: op "
        f"{verification_url(base_url, attest)}, of met het registratienummer en de datum op "
        f"{base_url.rstrip('/')}/controle."
    )
    pdf.ln(6)
    line(f"Toestand van het register op {dutch_date(today(stated_at))}.", size=9)
    return bytes(pdf.output())
