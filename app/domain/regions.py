"""Where a provider's locations lie: Belgian postal codes and the province they belong to.

A policy of ours for the public search (DOMAIN.md, "What the public search module offers":
search by province or municipality). Belgian postal codes are four digits; their first digits
give the province (bpost's ranges). Brussels is a region, not a province; it is searched as
one all the same.
"""

from __future__ import annotations

import re
import unicodedata
from enum import StrEnum


class Province(StrEnum):
    """The provinces (and Brussels) in the words the public search uses: snake_case slugs."""

    BRUSSEL = "brussel"
    WAALS_BRABANT = "waals_brabant"
    VLAAMS_BRABANT = "vlaams_brabant"
    ANTWERPEN = "antwerpen"
    LIMBURG = "limburg"
    LUIK = "luik"
    NAMEN = "namen"
    HENEGOUWEN = "henegouwen"
    LUXEMBURG = "luxemburg"
    WEST_VLAANDEREN = "west_vlaanderen"
    OOST_VLAANDEREN = "oost_vlaanderen"

    @property
    def label(self) -> str:
        return PROVINCE_LABELS[self]


PROVINCE_LABELS: dict[Province, str] = {
    Province.BRUSSEL: "Brussels Hoofdstedelijk Gewest",
    Province.WAALS_BRABANT: "Waals-Brabant",
    Province.VLAAMS_BRABANT: "Vlaams-Brabant",
    Province.ANTWERPEN: "Antwerpen",
    Province.LIMBURG: "Limburg",
    Province.LUIK: "Luik",
    Province.NAMEN: "Namen",
    Province.HENEGOUWEN: "Henegouwen",
    Province.LUXEMBURG: "Luxemburg",
    Province.WEST_VLAANDEREN: "West-Vlaanderen",
    Province.OOST_VLAANDEREN: "Oost-Vlaanderen",
}

# (first code, last code, province): bpost's ranges.
_RANGES: tuple[tuple[int, int, Province], ...] = (
    (1000, 1299, Province.BRUSSEL),
    (1300, 1499, Province.WAALS_BRABANT),
    (1500, 1999, Province.VLAAMS_BRABANT),
    (2000, 2999, Province.ANTWERPEN),
    (3000, 3499, Province.VLAAMS_BRABANT),
    (3500, 3999, Province.LIMBURG),
    (4000, 4999, Province.LUIK),
    (5000, 5999, Province.NAMEN),
    (6000, 6599, Province.HENEGOUWEN),
    (6600, 6999, Province.LUXEMBURG),
    (7000, 7999, Province.HENEGOUWEN),
    (8000, 8999, Province.WEST_VLAANDEREN),
    (9000, 9999, Province.OOST_VLAANDEREN),
)

_POSTAL_CODE = re.compile(r"^\s*(?:B\s*-?\s*)?(\d{4})\s*$", re.IGNORECASE)


class UnknownPostalCode(ValueError):
    pass


def postal_code(text: str) -> str:
    """A Belgian postal code in its canonical four digits ("B-2000" and " 2000 " are 2000)."""
    match = _POSTAL_CODE.match(text)
    if match is None or int(match.group(1)) < 1000:
        raise UnknownPostalCode(f"{text!r} is not a Belgian postal code (four digits, 1000-9999)")
    return match.group(1)


def province_of(code: str) -> Province:
    number = int(postal_code(code))
    for first, last, province in _RANGES:
        if first <= number <= last:
            return province
    raise UnknownPostalCode(f"{code!r} is not a Belgian postal code")


def region_key(text: str) -> str:
    """How a municipality or province name is matched: lowercase, without accents, single
    spaces ("Sint-Niklaas", "sint-niklaas " and "SINT-NIKLAAS" are one key). The same
    normalisation runs in the database (``unaccent``/``lower``) for free text."""
    decomposed = unicodedata.normalize("NFKD", text)
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(plain.lower().split())


def province_named(text: str) -> Province | None:
    """A province by its slug or its Dutch name, in any case ("Oost-Vlaanderen", "limburg"); the
    slugs of before snake_case (``oost-vlaanderen``) are still understood."""
    key = _slug(text)
    for province in Province:
        if key in (province.value, _slug(province.label)):
            return province
    return None


def _slug(text: str) -> str:
    return region_key(text).replace(" ", "_").replace("-", "_")
