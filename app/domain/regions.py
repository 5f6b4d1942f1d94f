"""Where a provider's locations lie: Belgian postal codes, the province they belong to, and the
municipalities and sub-municipalities (*deelgemeenten*) they serve.

A policy of ours for the public search (DOMAIN.md, "What the public search module offers":
search by province or municipality). Belgian postal codes are four digits; their first digits
give the province (bpost's ranges). Brussels is a region, not a province; it is searched as
one all the same. Which postal codes a municipality's or a sub-municipality's name means is data:
Statbel's municipalities and postal codes and bpost's localities (``data/README.md``), not a
table kept by hand.
"""

from __future__ import annotations

import csv
import re
import unicodedata
from collections import defaultdict
from enum import StrEnum
from functools import cache, lru_cache
from importlib import resources


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


@lru_cache(maxsize=4096)  # a rebuild asks it of every profile's every location
def province_of(code: str) -> Province:
    number = int(postal_code(code))
    for first, last, province in _RANGES:
        if first <= number <= last:
            return province
    raise UnknownPostalCode(f"{code!r} is not a Belgian postal code")


@lru_cache(maxsize=4096)  # a rebuild asks it of every profile's every municipality
def region_key(text: str) -> str:
    """How a municipality or province name is matched: lowercase, without accents, single
    spaces ("Sint-Niklaas", "sint-niklaas " and "SINT-NIKLAAS" are one key). The same
    normalisation runs in the database (``unaccent``/``lower``) for free text."""
    decomposed = unicodedata.normalize("NFKD", text)
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(plain.lower().split())


_PROVINCE_WORD = re.compile(r"^\s*(?:provincie|prov\.?)\s+", re.IGNORECASE)


def province_named(text: str) -> Province | None:
    """A province by its slug or its Dutch name, in any case ("Oost-Vlaanderen", "limburg"),
    with or without the word "provincie" ("Provincie Limburg", "prov. Antwerpen"); the slugs of
    before snake_case (``oost-vlaanderen``) are still understood."""
    key = _slug(_PROVINCE_WORD.sub("", text))
    for province in Province:
        if key in (province.value, _slug(province.label)):
            return province
    return None


def _slug(text: str) -> str:
    return region_key(text).replace(" ", "_").replace("-", "_")


@cache
def _places() -> dict[str, frozenset[str]]:
    """The postal codes each place name means (its ``region_key``): a municipality (Dutch or
    French name: all the postal codes Statbel gives it) or a locality of bpost's list (its
    postal code). A name two places bear (Halle in Vlaams-Brabant and in Zoersel) means both."""
    data = resources.files("app.domain") / "data"
    names: dict[str, set[str]] = defaultdict(set)
    codes: dict[str, set[str]] = defaultdict(set)  # REFNIS -> postal codes
    with (data / "statbel_postal_codes.csv").open(encoding="utf-8") as rows:
        for row in csv.DictReader(rows):
            codes[row["refnis"]].add(row["postal_code"])
    with (data / "statbel_municipalities.csv").open(encoding="utf-8") as rows:
        for row in csv.DictReader(rows):
            for name in (row["name_nl"], row["name_fr"]):
                names[region_key(name)] |= codes[row["refnis"]]
    with (data / "bpost_localities.csv").open(encoding="utf-8") as rows:
        for row in csv.DictReader(rows):
            names[region_key(row["locality"])].add(row["postal_code"])
    return {name: frozenset(found) for name, found in names.items()}


def postal_codes_named(name: str) -> frozenset[str]:
    """The postal codes a municipality or sub-municipality of that name is served by, in any
    case and with or without accents ("Wilrijk": 2610; "Antwerpen": 2000 to 2660, its
    districts too); empty for a name that is no Belgian place."""
    return _places().get(region_key(name), frozenset())


def municipality_of(code: str) -> list[str]:
    """The Dutch names of the municipalities a postal code belongs to today (one, or two for
    1040, 1050 and 1804)."""
    return sorted(_municipalities_by_code().get(postal_code(code), ()))


@cache
def _municipalities_by_code() -> dict[str, set[str]]:
    data = resources.files("app.domain") / "data"
    names = {}
    with (data / "statbel_municipalities.csv").open(encoding="utf-8") as rows:
        names = {row["refnis"]: row["name_nl"] for row in csv.DictReader(rows)}
    found: dict[str, set[str]] = defaultdict(set)
    with (data / "statbel_postal_codes.csv").open(encoding="utf-8") as rows:
        for row in csv.DictReader(rows):
            found[row["postal_code"]].add(names[row["refnis"]])
    return found


def region_terms(text: str) -> tuple[str, ...]:
    """The keys of a provider's ``regions`` (its locations' provinces, municipalities and postal
    codes) of which any one matches a region search: a postal code; a province ("Provincie
    Limburg"); a place's name and the postal codes it is served by ("Borgerhout": 2140, so a
    location written "2140 Antwerpen" is found); else the name as written."""
    try:
        return (postal_code(text),)
    except UnknownPostalCode:
        pass
    province = province_named(text)
    if province is not None:
        return (province.value,)
    return (region_key(text), *sorted(postal_codes_named(text)))


def is_known_region(text: str) -> bool:
    """Whether a region search names something of the official lists: a Belgian postal code, a
    province, or a municipality or sub-municipality."""
    try:
        postal_code(text)
        return True
    except UnknownPostalCode:
        pass
    return province_named(text) is not None or bool(postal_codes_named(text))
