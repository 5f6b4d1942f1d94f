"""The public page over HTTP, against the real database: what is shown (and what never is),
paging, caching and bad search input. The world searched: tests/api/test_public.py."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.api.support import (
    BUREAU_ID,
    PROBLEM,
    ok,
    problem,
)
from tests.api.test_public import (
    CLIENT_KBO,
    IBAN,
    VINCOTTE_KBO,
    ZUID_KBO,
    profile,
    provider,
)
from tests.api.test_public import world as public_world

world = public_world  # the public search's world (tests/api/test_public.py)


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
