"""The public search over HTTP, against the real database: who is listed (only registrations in
force today) and how they are found (accents, case, typos, numbers in any written form, theme,
service type, region). The world they are found in is built here; what is shown, paging, caching
and bad input: tests/api/test_public_page.py; providers keeping their profile through their own
API, and the days a provider is listed: tests/api/test_public_profile.py."""

from __future__ import annotations

from datetime import date
from typing import Any

import httpx
import pytest

from app.api.http.auth import Role
from app.services.clock import FixedClock
from tests.api.support import (
    AGENCY,
    at,
    auth,
    bought,
    bureau_body,
    ok,
    problem,
    register,
)
from tests.integration.scenarios import enterprise_number

VISIT = date(2026, 1, 15)
IBAN = "BE68 5390 0754 7034"
CLIENT_KBO = str(enterprise_number(777))

VINCOTTE_KBO = str(enterprise_number(11))
KIWA_KBO = str(enterprise_number(12))
NOORD_KBO = str(enterprise_number(13))
ZUID_KBO = str(enterprise_number(14))


def provider(kbo: str) -> dict[str, str]:
    return auth(Role.PROVIDER, sub=f"app-{kbo}", enterprise_number=kbo)


async def registration(
    api: httpx.AsyncClient,
    clock: FixedClock,
    kbo: str,
    name: str,
    *,
    service_type: str = "opleiding",
    themes: tuple[str, ...] = ("digitalisering",),
    decide: bool = True,
) -> str:
    done = await register(
        api,
        clock,
        provider(kbo),
        decide=decide,
        service_type=service_type,
        provider_name=name,
        themes=list(themes),
    )
    return done.registration_id


def profile(
    description: str, *locations: tuple[str, str], themes: tuple[str, ...] = ("digitalisering",)
) -> dict[str, Any]:
    return {
        "description": description,
        "themes": list(themes),
        "locations": [
            {"street": "Stationsstraat 1", "postal_code": code, "municipality": town}
            for code, town in locations
        ],
        "website": "https://www.example.be",
    }


@pytest.fixture
async def world(api: httpx.AsyncClient, clock: FixedClock) -> dict[str, str]:
    """Vinçotte Academy (training, Gent), Kiwa Belgium Advies (training and advice, Hasselt),
    Vormingscentrum Noord (audited, not yet decided) and Zuid Consult (registered, no profile)."""
    ok(await api.post("/bureaus", json=bureau_body(), headers=AGENCY), 201)
    ids = {
        "vincotte": await registration(
            api, clock, VINCOTTE_KBO, "Vinçotte Academy", themes=("duurzaamheid",)
        ),
        "kiwa": await registration(api, clock, KIWA_KBO, "Kiwa Belgium Advies"),
        "kiwa-advies": await registration(
            api, clock, KIWA_KBO, "Kiwa Belgium Advies", service_type="advies"
        ),
        "noord": await registration(api, clock, NOORD_KBO, "Vormingscentrum Noord", decide=False),
        "zuid": await registration(
            api, clock, ZUID_KBO, "Zuid Consult", themes=("innovatie", "bedrijfsstrategie")
        ),
    }
    clock.set(at(date(2026, 2, 1)))
    ok(
        await api.post(
            f"/providers/{VINCOTTE_KBO}/profile",
            json=profile(
                "Wij geven opleidingen over duurzaam ondernemen.",
                ("9000", "Gent"),
                ("8500", "Kortrijk"),
                themes=("duurzaamheid", "innovatie"),
            ),
            headers=provider(VINCOTTE_KBO),
        )
    )
    ok(
        await api.post(
            f"/providers/{KIWA_KBO}/profile",
            json=profile("Advies en vorming rond digitalisering.", ("3500", "Hasselt")),
            headers=provider(KIWA_KBO),
        )
    )
    ok(
        await api.post(
            f"/providers/{NOORD_KBO}/profile",
            json=profile("Vorming in Antwerpen.", ("2000", "Antwerpen")),
            headers=provider(NOORD_KBO),
        )
    )
    number = ok(await api.get(f"/registrations/{ids['vincotte']}", headers=AGENCY))
    for reference, score in (("r-1", 4), ("r-2", 5)):
        project_id = f"project-{reference}"
        await bought(api, project_id, number["registration_number"], CLIENT_KBO, date(2026, 1, 26))
        body = {
            "reference": reference,
            "project_id": project_id,
            "client_enterprise_number": CLIENT_KBO,
            "score": score,
        }
        ok(await api.post("/ratings", json=body, headers=AGENCY), 201)
    return ids


async def names(api: httpx.AsyncClient, **params: Any) -> list[str]:
    found = ok(await api.get("/public/providers", params=params))
    return [item["name"] for item in found["items"]]


# --- who is listed, and how they are found ------------------------------------------------


async def test_only_providers_registered_today_are_listed_by_name(
    api: httpx.AsyncClient, world: dict[str, str]
) -> None:
    assert await names(api) == ["Kiwa Belgium Advies", "Vinçotte Academy", "Zuid Consult"]
    assert await names(api, q="Vormingscentrum Noord") == []  # awaiting its decision
    problem(await api.get(f"/public/providers/{NOORD_KBO}"), 404, "not-found")


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("vincotte", ["Vinçotte Academy"]),  # without the cedilla
        ("VINÇOTTE", ["Vinçotte Academy"]),  # upper case
        ("vinçote academy", ["Vinçotte Academy"]),  # a letter short
        ("kiwa belgum", ["Kiwa Belgium Advies"]),  # a typo
        ("kiwa", ["Kiwa Belgium Advies"]),
        ("opleiding duurzaam", ["Vinçotte Academy"]),  # the description, Dutch stems
        ("digitalisering", ["Kiwa Belgium Advies"]),
        ("bakkerij", []),
    ],
)
async def test_free_text_forgives_accents_case_and_small_typos(
    api: httpx.AsyncClient, world: dict[str, str], query: str, expected: list[str]
) -> None:
    assert await names(api, q=query) == expected


@pytest.mark.parametrize("written", ["DV.O000001", "DVO000001", "dv.o 000001", " dv o000001 "])
async def test_a_registration_number_is_found_in_any_written_form(
    api: httpx.AsyncClient, world: dict[str, str], written: str
) -> None:
    assert await names(api, number=written) == ["Vinçotte Academy"]
    assert await names(api, number="DV.A000003") == ["Kiwa Belgium Advies"]
    assert await names(api, number="DV.O999999") == []
    assert len(await names(api, number=" ")) == 3  # a blank number is no filter


@pytest.mark.parametrize("written", ["DV.O1", "dvo1", "DV.O 01", "dv.o000001", "1", " 000001 "])
async def test_a_short_number_is_padded_and_the_digits_alone_find_either_service_type(
    api: httpx.AsyncClient, world: dict[str, str], written: str
) -> None:
    assert await names(api, number=written) == ["Vinçotte Academy"]
    # One counter serves both service types: 3 is Kiwa's advice number, DV.A000003.
    assert await names(api, number="3") == ["Kiwa Belgium Advies"]
    assert await names(api, number="dva3") == ["Kiwa Belgium Advies"]
    assert await names(api, number="dvo3") == []
    assert await names(api, number="999999") == []


async def test_a_province_with_its_word_and_a_place_by_its_official_names(
    api: httpx.AsyncClient, clock: FixedClock, world: dict[str, str]
) -> None:
    assert await names(api, region="Provincie Limburg") == ["Kiwa Belgium Advies"]
    assert await names(api, region="prov. Oost-Vlaanderen") == ["Vinçotte Academy"]
    assert await names(api, region="provincie West-Vlaanderen") == ["Vinçotte Academy"]
    # A municipality by its French name, and a sub-municipality (deelgemeente) of Hasselt
    # whose postal code (3500) the location carries.
    assert await names(api, region="Courtrai") == ["Vinçotte Academy"]
    assert await names(api, region="Sint-Lambrechts-Herk") == ["Kiwa Belgium Advies"]
    # A location written "2610 Antwerpen" lies in Wilrijk, not in Borgerhout (2140).
    ok(
        await api.post(
            f"/providers/{ZUID_KBO}/profile",
            json=profile("Advies.", ("2610", "Antwerpen")),
            headers=provider(ZUID_KBO),
        )
    )
    assert await names(api, region="Wilrijk") == ["Zuid Consult"]
    assert await names(api, region="Antwerpen") == ["Zuid Consult"]  # the province
    assert await names(api, region="Anvers") == ["Zuid Consult"]  # the city, in French
    assert await names(api, region="Borgerhout") == []
    assert await names(api, region="Atlantis") == []


async def test_sort_by_name_rating_or_validity_and_filter_on_a_minimum_rating(
    api: httpx.AsyncClient, clock: FixedClock, world: dict[str, str]
) -> None:
    zuid = ok(await api.get(f"/registrations/{world['zuid']}", headers=AGENCY))
    await bought(api, "project-r-zuid", zuid["registration_number"], CLIENT_KBO, date(2026, 1, 26))
    body = {
        "reference": "r-zuid",
        "project_id": "project-r-zuid",
        "client_enterprise_number": CLIENT_KBO,
        "score": 3,
    }
    ok(await api.post("/ratings", json=body, headers=AGENCY), 201)
    # Vinçotte 4,5 (two ratings), Zuid 3,0, Kiwa none.
    assert await names(api, sort="rating") == [
        "Vinçotte Academy",
        "Zuid Consult",
        "Kiwa Belgium Advies",
    ]
    assert await names(api, sort="name") == await names(api)
    assert await names(api, min_rating=3) == ["Vinçotte Academy", "Zuid Consult"]
    assert await names(api, min_rating=4) == ["Vinçotte Academy"]
    assert await names(api, min_rating=5) == []
    assert await names(api, min_rating=4, sort="rating", q="academy") == ["Vinçotte Academy"]
    # Every way text is searched takes a sort: a typo (fuzzy), a few exact matches (focused).
    assert await names(api, q="kiwa belgum", sort="rating") == ["Kiwa Belgium Advies"]
    assert await names(api, q="opleiding duurzaam", sort="validity") == ["Vinçotte Academy"]
    assert await names(api, q="kiwa belgum", sort="validity", min_rating=1) == []
    # One query, two faces: paging through a sort gives every provider once.
    pages = [await names(api, sort="rating", limit=1, page=n) for n in (1, 2, 3)]
    assert [name for page in pages for name in page] == await names(api, sort="rating")
    # Validity: the registration that runs longest first; one decided later runs longer, and
    # comes first though by name it comes last.
    later = await register(
        api, clock, provider(str(enterprise_number(15))), decide=False, provider_name="Zz Vorming"
    )
    clock.set(at(date(2026, 3, 2)))
    url = f"/applications/{later.application_id}/decision"
    ok(await api.post(url, json={"granted": True}, headers=AGENCY))
    found = ok(await api.get("/public/providers", params={"sort": "validity"}))["items"]
    ends = [max(r["valid_until"] for r in item["registrations"]) for item in found]
    assert found[0]["name"] == "Zz Vorming"
    assert len(set(ends)) > 1
    assert ends == sorted(ends, reverse=True)
    assert [item["name"] for item in found[1:]] == [  # same end date: by name
        "Kiwa Belgium Advies",
        "Vinçotte Academy",
        "Zuid Consult",
    ]


async def test_theme_service_type_and_region_filter_and_combine(
    api: httpx.AsyncClient, world: dict[str, str]
) -> None:
    # The profile's themes replace those of the applications once there is a profile.
    assert await names(api, theme="innovatie") == ["Vinçotte Academy", "Zuid Consult"]
    assert await names(api, theme="duurzaamheid") == ["Vinçotte Academy"]
    assert await names(api, service_type="advies") == ["Kiwa Belgium Advies"]
    assert await names(api, region="oost_vlaanderen") == ["Vinçotte Academy"]
    assert await names(api, region="oost-vlaanderen") == ["Vinçotte Academy"]  # the old slug
    assert await names(api, region="West-Vlaanderen") == ["Vinçotte Academy"]  # Kortrijk
    assert await names(api, region="Limburg") == ["Kiwa Belgium Advies"]
    assert await names(api, region="hasselt") == ["Kiwa Belgium Advies"]
    assert await names(api, region="B-9000") == ["Vinçotte Academy"]
    assert await names(api, region="antwerpen") == []  # only Noord is there, not registered
    assert await names(api, theme="innovatie", region="gent", service_type="opleiding") == [
        "Vinçotte Academy"
    ]
    assert await names(api, theme="innovatie", service_type="advies") == []
    assert await names(api, q="academy", region="limburg") == []


async def test_a_provider_drops_out_the_moment_its_registration_is_stopped(
    api: httpx.AsyncClient, world: dict[str, str]
) -> None:
    ok(await api.get(f"/public/providers/{ZUID_KBO}"))
    ok(
        await api.post(
            "/registrations/DV.O000004/stop", json={"reason": "Misbruik"}, headers=AGENCY
        )
    )
    assert "Zuid Consult" not in await names(api)
    problem(await api.get(f"/public/providers/{ZUID_KBO}"), 404, "not-found")
    # Kiwa stays listed for advice while one of its registrations is stopped.
    ok(await api.post("/registrations/DV.O000002/stop", json={"reason": "Stop"}, headers=AGENCY))
    page = ok(await api.get(f"/public/providers/{KIWA_KBO}"))
    assert [r["number"] for r in page["registrations"]] == ["DV.A000003"]


async def test_a_registration_past_its_validity_is_not_listed_even_before_the_deadline_job(
    api: httpx.AsyncClient, clock: FixedClock, world: dict[str, str]
) -> None:
    page = ok(await api.get(f"/public/providers/{VINCOTTE_KBO}"))
    valid_until = date.fromisoformat(page["registrations"][0]["valid_until"])
    clock.set(at(valid_until, 22))
    assert "Vinçotte Academy" in await names(api)
    clock.set(at(date.fromordinal(valid_until.toordinal() + 1)))
    assert await names(api) == []  # every registration of the world ran out that day
