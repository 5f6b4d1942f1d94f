"""Regions from the official lists (app/domain/data): provinces with or without their word,
municipalities by their Dutch or French name, sub-municipalities (deelgemeenten) by bpost's
localities, each leading to the postal codes a provider's location carries."""

from __future__ import annotations

import csv
from importlib import resources

import pytest

from app.domain.regions import (
    Province,
    UnknownPostalCode,
    is_known_region,
    municipality_of,
    postal_codes_named,
    province_of,
    region_key,
    region_terms,
)

DATA = resources.files("app.domain") / "data"


@pytest.mark.parametrize(
    ("written", "province"),
    [
        ("Provincie Limburg", Province.LIMBURG),
        ("provincie  oost-vlaanderen", Province.OOST_VLAANDEREN),
        ("Prov. Antwerpen", Province.ANTWERPEN),
        ("limburg", Province.LIMBURG),
        ("west_vlaanderen", Province.WEST_VLAANDEREN),
    ],
)
def test_a_province_is_named_with_or_without_its_word(written: str, province: Province) -> None:
    assert region_terms(written) == (province.value,)


@pytest.mark.parametrize(
    ("code", "municipality"),
    [
        ("3500", "Hasselt"),
        ("2000", "Antwerpen"),
        ("2140", "Antwerpen"),  # Borgerhout
        ("2610", "Antwerpen"),  # Wilrijk
        ("9000", "Gent"),
        ("3720", "Hasselt"),  # Kortessem, merged into Hasselt on 1 January 2025
    ],
)
def test_statbel_gives_the_municipality_of_a_postal_code(code: str, municipality: str) -> None:
    assert municipality_of(code) == [municipality]


def test_a_postal_code_shared_by_two_municipalities_names_both() -> None:
    assert municipality_of("1040") == ["Brussel", "Etterbeek"]


@pytest.mark.parametrize(
    ("name", "codes"),
    [
        ("Borgerhout", {"2140"}),
        ("wilrijk", {"2610"}),
        ("Sint-Lambrechts-Herk", {"3500"}),  # a deelgemeente of Hasselt
        ("Laeken", {"1020"}),
        ("Halle", {"1500", "1501", "1502", "2980"}),  # the town, and a village of Zoersel
    ],
)
def test_a_sub_municipality_is_found_by_bpost_s_name(name: str, codes: set[str]) -> None:
    assert postal_codes_named(name) == codes


def test_a_municipality_means_every_postal_code_of_its_districts() -> None:
    antwerpen = postal_codes_named("Anvers")  # the French name: the city, not the province
    assert {"2000", "2018", "2060", "2100", "2140", "2170", "2180", "2600", "2610"} <= antwerpen
    assert "2070" not in antwerpen  # Zwijndrecht is a municipality of its own
    assert postal_codes_named("HASSELT") >= {"3500", "3510", "3511", "3720"}
    assert postal_codes_named("Liège") == postal_codes_named("liege") >= {"4000", "4020"}
    assert postal_codes_named("Atlantis") == frozenset()


def test_a_region_search_is_a_postal_code_a_province_or_a_place_and_its_codes() -> None:
    assert region_terms("B-3500") == ("3500",)
    assert region_terms("Antwerpen") == ("antwerpen",)  # the province holds the city
    assert region_terms("Borgerhout") == ("borgerhout", "2140")
    assert region_terms("Atlantis") == ("atlantis",)


def test_the_lists_are_whole_and_agree() -> None:
    with (DATA / "statbel_municipalities.csv").open(encoding="utf-8") as rows:
        municipalities = list(csv.DictReader(rows))
    assert len(municipalities) == 565  # since the mergers of 1 January 2025
    with (DATA / "statbel_postal_codes.csv").open(encoding="utf-8") as rows:
        links = list(csv.DictReader(rows))
    assert {m["refnis"] for m in municipalities} == {link["refnis"] for link in links}
    with (DATA / "bpost_localities.csv").open(encoding="utf-8") as rows:
        localities = list(csv.DictReader(rows))
    assert len(localities) > 2700
    # Every locality's postal code has a municipality today, and a province.
    for locality in localities:
        assert municipality_of(locality["postal_code"]), locality
        province_of(locality["postal_code"])


def test_a_known_region_is_one_of_the_lists() -> None:
    for known in ("3500", "Provincie Limburg", "Wilrijk", "Anvers", "sint-lambrechts-herk"):
        assert is_known_region(known), known
    for unknown in ("Atlantis", "0999", "Limburgs"):
        assert not is_known_region(unknown), unknown


def test_remembered_answers_are_the_answers_and_a_refusal_is_never_remembered() -> None:
    """``province_of`` and ``region_key`` remember their answers (a rebuild asks them of every
    profile's locations): asked again, or asked in another spelling, they answer alike, and a
    code refused once is refused again."""
    for _ in range(2):
        assert province_of("3500") is Province.LIMBURG
        assert province_of("B-3500") is Province.LIMBURG
        assert region_key("Sint-Niklaas ") == region_key("SINT-NIKLAAS") == "sint-niklaas"
        assert region_key("Liège") == "liege"
        with pytest.raises(UnknownPostalCode):
            province_of("0999")
