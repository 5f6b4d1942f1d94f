"""The public search over HTTP, against the real database: who is listed (only registrations in
force today), how they are found (accents, case, typos, numbers in any written form, theme,
service type, region), what is shown (and what never is), caching, and providers keeping their
profile through their own API."""

from __future__ import annotations

from datetime import date
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from app.api.http.auth import Role
from app.events.projections import Projector
from app.events.rebuild import rebuild_projections
from app.services.clock import FixedClock
from tests.api.support import (
    AGENCY,
    BUREAU_ID,
    PROBLEM,
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


# --- what is shown ------------------------------------------------------------------------


async def test_the_public_page_shows_profile_registrations_and_rating(
    api: httpx.AsyncClient, world: dict[str, str]
) -> None:
    page = ok(
        await api.get(
            f"/public/providers/BE {VINCOTTE_KBO[:4]}.{VINCOTTE_KBO[4:7]}.{VINCOTTE_KBO[7:]}"
        )
    )
    assert page["enterprise_number"] == VINCOTTE_KBO
    assert page["name"] == "Vinçotte Academy"
    assert page["description"] == "Wij geven opleidingen over duurzaam ondernemen."
    assert page["themes"] == ["duurzaamheid", "innovatie"]
    assert [(x["municipality"], x["province"]) for x in page["locations"]] == [
        ("Gent", "oost_vlaanderen"),
        ("Kortrijk", "west_vlaanderen"),
    ]
    (registration,) = page["registrations"]
    assert registration["number"] == "DV.O000001"
    assert registration["service_type"] == "opleiding"
    assert registration["status"] == "registered"
    assert registration["status_label"] == "geregistreerd"
    assert registration["valid_from"] == "2026-01-20"
    assert page["rating"] == {"average": 4.5, "count": 2}
    assert ok(await api.get(f"/public/providers/{ZUID_KBO}"))["rating"] is None


FORBIDDEN_KEYS = {
    "bank_account",
    "iban",
    "activities",
    "sworn_declaration_on",
    "scores",
    "verdicts",
    "contact",
    "contacts",
    "email",
    "phone",
    "client_enterprise_number",
    "bureau_id",
    "audit_id",
    "application_id",
    "registration_id",
    "unit_key",
    "actor",
    "metadata",
}


def keys(value: Any) -> set[str]:
    if isinstance(value, dict):
        return set(value) | {k for v in value.values() for k in keys(v)}
    if isinstance(value, list):
        return {k for v in value for k in keys(v)}
    return set()


async def test_the_public_never_sees_bank_accounts_declarations_scores_or_internal_ids(
    api: httpx.AsyncClient, engine: AsyncEngine, world: dict[str, str]
) -> None:
    # The provider has all of those: an IBAN, a sworn declaration, an audit with its scores,
    # a bureau, ratings from a client enterprise, an application id.
    async with engine.connect() as conn:
        stored = await conn.scalar(text("SELECT count(*) FROM events"))
    assert stored is not None
    assert stored > 20
    answers = [
        await api.get(f"/public/providers/{VINCOTTE_KBO}"),
        await api.get("/public/providers", params={"q": "vincotte"}),
        await api.get("/public/providers"),
    ]
    for response in answers:
        document = ok(response)
        assert not keys(document) & FORBIDDEN_KEYS, keys(document) & FORBIDDEN_KEYS
        for secret in ("5390", IBAN.replace(" ", ""), CLIENT_KBO, BUREAU_ID, world["vincotte"]):
            assert secret not in response.text


# --- paging, caching, bad input -----------------------------------------------------------


async def test_pages_follow_a_stable_order(api: httpx.AsyncClient, world: dict[str, str]) -> None:
    first = ok(await api.get("/public/providers", params={"limit": 2}))
    assert [i["name"] for i in first["items"]] == ["Kiwa Belgium Advies", "Vinçotte Academy"]
    assert (first["total"], first["total_is_exact"], first["next_page"]) == (3, True, 2)
    second = ok(await api.get("/public/providers", params={"limit": 2, "page": 2}))
    assert [i["name"] for i in second["items"]] == ["Zuid Consult"]
    assert (second["total"], second["next_page"]) == (3, None)
    beyond = ok(await api.get("/public/providers", params={"limit": 2, "page": 5}))
    assert beyond["items"] == []
    assert beyond["next_page"] is None


async def test_answers_carry_an_etag_and_a_conditional_get_is_304_until_something_changes(
    api: httpx.AsyncClient, world: dict[str, str]
) -> None:
    url = f"/public/providers/{VINCOTTE_KBO}"
    first = await api.get(url)
    tag = first.headers["ETag"]
    assert first.headers["Cache-Control"] == "public, no-cache"
    again = await api.get(url, headers={"If-None-Match": tag})
    assert again.status_code == 304
    assert again.content == b""
    assert again.headers["ETag"] == tag
    search = await api.get("/public/providers", params={"q": "vincotte"})
    assert (
        await api.get(
            "/public/providers",
            params={"q": "vincotte"},
            headers={"If-None-Match": search.headers["ETag"]},
        )
    ).status_code == 304
    ok(
        await api.post(
            f"/providers/{VINCOTTE_KBO}/profile",
            json=profile("Nu ook in Brugge.", ("8000", "Brugge")),
            headers=provider(VINCOTTE_KBO),
        )
    )
    changed = await api.get(url, headers={"If-None-Match": tag})
    assert changed.status_code == 200
    assert changed.headers["ETag"] != tag
    assert changed.json()["description"] == "Nu ook in Brugge."


@pytest.mark.parametrize(
    ("params", "parameter"),
    [
        ({"number": "DV.X123456"}, "number"),
        ({"number": "1234567"}, "number"),  # seven digits; "123" is DV.O000123 or DV.A000123
        ({"number": "DV.O0"}, "number"),
        ({"theme": "koken"}, "theme"),
        ({"sort": "price"}, "sort"),
        ({"min_rating": 6}, "min_rating"),
        ({"min_rating": "vier"}, "min_rating"),
        ({"service_type": "catering"}, "service_type"),
        ({"limit": 1000}, "limit"),
        ({"page": 0}, "page"),
        ({"q": "a\x00b"}, "q"),
        ({"q": "x" * 201}, "q"),
    ],
)
async def test_bad_search_input_is_a_problem_naming_the_parameter(
    api: httpx.AsyncClient, params: dict[str, Any], parameter: str
) -> None:
    response = await api.get("/public/providers", params=params)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == PROBLEM
    assert [e["parameter"] for e in response.json()["errors"]] == [parameter]


@pytest.mark.parametrize(
    "query", ["&&&", "!", "'", '"', "de het een", "a | b", "-", "(", "<->", ":*", "\\"]
)
async def test_odd_text_is_searched_not_a_500(
    api: httpx.AsyncClient, world: dict[str, str], query: str
) -> None:
    found = ok(await api.get("/public/providers", params={"q": query}))
    assert isinstance(found["items"], list)


async def test_an_unknown_or_malformed_enterprise_is_not_found(api: httpx.AsyncClient) -> None:
    problem(await api.get("/public/providers/0123456789"), 404, "not-found")
    problem(await api.get("/public/providers/not-a-number"), 404, "not-found")


async def test_the_options_list_themes_service_types_and_provinces(
    api: httpx.AsyncClient,
) -> None:
    options = ok(await api.get("/public/options"))
    assert "financiële geletterdheid" in options["themes"]
    assert options["service_types"] == ["opleiding", "advies"]
    assert options["provinces"]["oost_vlaanderen"] == "Oost-Vlaanderen"


# --- the profile, kept by the provider ----------------------------------------------------


async def test_a_provider_keeps_its_own_profile_as_events(
    api: httpx.AsyncClient, engine: AsyncEngine, world: dict[str, str]
) -> None:
    mine = provider(VINCOTTE_KBO)
    url = f"/providers/{VINCOTTE_KBO}/profile"
    read = await api.get(url, headers=mine)
    current = ok(read)
    assert read.headers["ETag"] == '"1"'
    assert current["version"] == 1
    assert ok(await api.get(url, headers=AGENCY)) == current
    problem(await api.get(url, headers=provider(KIWA_KBO)), 404, "not-found")
    problem(await api.post(url, json=profile("x"), headers=provider(KIWA_KBO)), 404, "not-found")
    problem(await api.post(url, json=profile("x"), headers=AGENCY), 403, "forbidden")

    same = {k: current[k] for k in ("description", "themes", "website")}
    same["locations"] = [
        {k: v for k, v in location.items() if k != "province"} for location in current["locations"]
    ]
    assert ok(await api.post(url, json=same, headers=mine))["version"] == 1  # nothing changed

    changed = profile("Nieuw.", ("1000", "Brussel"))
    problem(
        await api.post(url, json=changed, headers={**mine, "If-Match": '"0"'}),
        412,
        "version-mismatch",
    )
    after = ok(await api.post(url, json=changed, headers={**mine, "If-Match": '"1"'}))
    assert after["version"] == 2
    assert after["locations"][0]["province"] == "brussel"
    assert await names(api, region="brussel") == ["Vinçotte Academy"]

    async with engine.connect() as conn:
        rows = (
            await conn.execute(
                text(
                    "SELECT event_type, metadata FROM events WHERE stream_id = :s ORDER BY version"
                ),
                {"s": f"provider:{VINCOTTE_KBO}"},
            )
        ).all()
    assert [row.event_type for row in rows] == ["ProviderProfileUpdated"] * 2
    assert rows[-1].metadata["actor"] == {"id": f"app-{VINCOTTE_KBO}", "role": "provider"}


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"locations": [{"street": "x", "postal_code": "12", "municipality": "Gent"}]}, 422),
        ({"locations": [{"street": "x", "postal_code": "0999", "municipality": "Gent"}]}, 422),
        ({"themes": ["koken"]}, 422),
        ({"website": "javascript:alert(1)"}, 422),
        ({"description": "x" * 4001}, 422),
        ({"unknown": 1}, 422),
    ],
)
async def test_a_profile_that_breaks_a_rule_is_refused_and_nothing_is_recorded(
    api: httpx.AsyncClient, engine: AsyncEngine, body: dict[str, Any], status: int
) -> None:
    response = await api.post(
        f"/providers/{VINCOTTE_KBO}/profile", json=body, headers=provider(VINCOTTE_KBO)
    )
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    async with engine.connect() as conn:
        assert await conn.scalar(text("SELECT count(*) FROM events")) == 0


async def test_the_public_projection_is_rebuilt_row_for_row(
    engine: AsyncEngine, world: dict[str, str]
) -> None:
    query = text(
        "SELECT enterprise_number, name, description, themes, locations, regions, search_name,"
        " document::text AS document, profile_version FROM public_providers"
        " ORDER BY enterprise_number"
    )
    async with engine.connect() as conn:
        before = [dict(row._mapping) for row in await conn.execute(query)]
    await rebuild_projections(engine, Projector())
    async with engine.connect() as conn:
        after = [dict(row._mapping) for row in await conn.execute(query)]
    assert len(before) == 4
    assert after == before


# --- the days a provider is listed (``public_providers.listed``, migration 0015) ------------

_LISTED = text("SELECT enterprise_number, listed::text FROM public_providers ORDER BY 1")
# The same from the registrations themselves: the union of the validities in force.
_IN_FORCE_DAYS = text(
    "SELECT p.enterprise_number, coalesce(range_agg(daterange(r.valid_from, r.valid_until, '[]'))"
    " FILTER (WHERE r.status IN ('registered', 'registered_conditionally', 'registered_starter')"
    " AND r.valid_from IS NOT NULL), '{}')::text"
    " FROM public_providers p LEFT JOIN registrations r USING (enterprise_number)"
    " GROUP BY p.enterprise_number ORDER BY 1"
)


async def _listed(engine: AsyncEngine) -> dict[str, str]:
    async with engine.connect() as conn:
        listed = {row[0]: row[1] for row in await conn.execute(_LISTED)}
        assert listed == {row[0]: row[1] for row in await conn.execute(_IN_FORCE_DAYS)}
    return listed


async def test_the_days_a_provider_is_listed_follow_its_registrations_live_and_rebuilt(
    api: httpx.AsyncClient, engine: AsyncEngine, world: dict[str, str]
) -> None:
    listed = await _listed(engine)
    assert listed[NOORD_KBO] == "{}"  # a profile, no decision yet
    for kbo in (VINCOTTE_KBO, KIWA_KBO, ZUID_KBO):
        page = ok(await api.get(f"/public/providers/{kbo}"))
        first = min(r["valid_from"] for r in page["registrations"])
        assert listed[kbo].startswith(f"{{[{first},")
    ok(await api.post("/registrations/DV.O000004/stop", json={"reason": "Stop"}, headers=AGENCY))
    ok(await api.post("/registrations/DV.O000002/stop", json={"reason": "Stop"}, headers=AGENCY))
    listed = await _listed(engine)
    assert listed[ZUID_KBO] == "{}"
    advies = ok(await api.get(f"/public/providers/{KIWA_KBO}"))["registrations"]
    assert [r["number"] for r in advies] == ["DV.A000003"]
    until = date.fromisoformat(advies[0]["valid_until"])
    after = date.fromordinal(until.toordinal() + 1)
    assert listed[KIWA_KBO] == f"{{[{advies[0]['valid_from']},{after})}}"
    await rebuild_projections(engine, Projector())
    assert await _listed(engine) == listed


@pytest.mark.parametrize(
    "params",
    [
        {"q": "academy"},  # a word of its name
        {"q": "vinçote academy"},  # a typo: the trigram candidates
        {"q": "duurzaam"},  # its description
        {"theme": "duurzaamheid"},
        {"region": "gent"},
        {"q": "academy", "service_type": "opleiding"},  # looked up in the registrations
    ],
)
async def test_every_kind_of_search_drops_a_registration_the_day_after_its_validity(
    api: httpx.AsyncClient, clock: FixedClock, world: dict[str, str], params: dict[str, str]
) -> None:
    """No event in between: the day of the query is compared with the days stored."""
    page = ok(await api.get(f"/public/providers/{VINCOTTE_KBO}"))
    valid_until = date.fromisoformat(page["registrations"][0]["valid_until"])
    clock.set(at(valid_until, 12))
    assert "Vinçotte Academy" in await names(api, **params)
    clock.set(at(date.fromordinal(valid_until.toordinal() + 1)))
    assert await names(api, **params) == []
