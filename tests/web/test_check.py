"""The check on the web page (/controle): was a registration in force on that day? The form,
its answers, its mistakes, and the address an attest prints (/controle/{code})."""

from __future__ import annotations

import re
from datetime import date

import httpx

from app.services.clock import FixedClock
from tests.api.support import AGENCY, at, ok
from tests.api.test_attest import text_of
from tests.web.support import Provider, register
from tests.web.test_pages import Page, html

KBO = "0403170701"
NUMBER = "DV.O000001"


async def registered(api: httpx.AsyncClient, clock: FixedClock) -> None:
    await register(api, clock, [Provider(KBO, "Vinçotte Academy")])


async def test_the_form_asks_for_a_number_and_a_day_labelled_without_script(
    api: httpx.AsyncClient, clock: FixedClock
) -> None:
    clock.set(at(date(2026, 2, 3)))
    response = await api.get("/controle")
    page = html(response)
    fields = {attrs["name"]: attrs for attrs in page.all("input")}
    assert set(fields) == {"nummer", "datum"}
    assert fields["datum"]["type"] == "date"
    assert fields["datum"]["value"] == "2026-02-03"  # today in Belgium
    assert {f["id"] for f in fields.values()} <= {label["for"] for label in page.all("label")}
    assert [form["action"] for form in page.all("form")] == ["/controle"]
    assert page.all("script") == []
    assert "Was een dienstverlener geregistreerd?" in page.words
    assert {"href": "/controle"} in page.all("a")  # in the site's menu
    assert response.headers["cache-control"] == "public, no-cache"


async def test_it_answers_yes_with_the_kind_and_validity_and_no_without_a_reason(
    api: httpx.AsyncClient, clock: FixedClock
) -> None:
    await registered(api, clock)
    clock.set(at(date(2026, 3, 2)))
    ok(await api.post(f"/registrations/{NUMBER}/stop", json={"reason": "Misbruik"}, headers=AGENCY))
    clock.set(at(date(2026, 4, 1)))

    words = html(await api.get("/controle", params={"nummer": "dvo000001", "datum": "2026-03-01"}))
    assert "Ja, van kracht op 1 maart 2026" in words.words
    assert "Registratie DV.O000001 (opleiding) van Vinçotte Academy was op 1 maart 2026" in (
        words.words
    )
    assert "Soort registratie volledige registratie" in words.words
    assert "van 20 januari 2026 tot en met 19 januari 2031" in words.words
    assert "Ondernemingsnummer 0403.170.701" in words.words

    no = html(await api.get("/controle", params={"nummer": NUMBER, "datum": "2026-03-02"}))
    assert "Nee, niet van kracht op 2 maart 2026" in no.words
    assert "Vinçotte" not in no.words
    for leak in ("stopgezet", "Misbruik", "verlopen", "geweigerd", "audit"):
        assert leak not in no.words
    # Without a day: today.
    today = html(await api.get("/controle", params={"nummer": NUMBER}))
    assert "Nee, niet van kracht op 1 april 2026" in today.words


async def test_mistakes_are_explained_in_dutch(api: httpx.AsyncClient, clock: FixedClock) -> None:
    await registered(api, clock)
    bad = html(await api.get("/controle", params={"nummer": "DV.X1", "datum": "1-3-2026"}), 422)
    assert '"DV.X1" is geen geldig registratienummer' in bad.words
    assert '"1-3-2026" is geen datum' in bad.words
    assert {"href": "#veld-nummer"} in bad.all("a")
    future = html(await api.get("/controle", params={"nummer": NUMBER, "datum": "2027-01-01"}), 422)
    assert "1 januari 2027 ligt in de toekomst" in future.words
    unknown = html(await api.get("/controle", params={"nummer": "DV.A000009"}), 404)
    assert "DV.A000009 is geen registratienummer uit dit register" in unknown.words
    code = html(await api.get("/controle/DVO000001-XYZ"), 422)
    assert "is geen geldige controlecode" in code.words


async def test_an_attests_address_lands_on_the_answer_for_today(
    api: httpx.AsyncClient, clock: FixedClock
) -> None:
    await registered(api, clock)
    pdf = (await api.get(f"/registrations/{NUMBER}/attest", headers=AGENCY)).content
    code = re.search(r"/controle/(DVO000001-[A-Z2-7]{8})", text_of(pdf))
    assert code is not None
    clock.set(at(date(2026, 9, 1)))
    page: Page = html(await api.get(f"/controle/{code.group(1).lower()}"))
    assert "Deze controlecode hoort bij een attest van registratie" in page.words
    assert "Ja, van kracht op 1 september 2026" in page.words
    # The form below holds the question, to ask about another day.
    values = {i["name"]: i["value"] for i in page.all("input")}
    assert values == {"nummer": NUMBER, "datum": ""}
    earlier = html(await api.get(f"/controle/{code.group(1)}", params={"datum": "2026-01-19"}))
    assert "Nee, niet van kracht op 19 januari 2026" in earlier.words


async def test_a_number_as_people_write_it_is_checked(
    api: httpx.AsyncClient, clock: FixedClock
) -> None:
    await registered(api, clock)
    for written in ("DV.O1", "dvo1", "1"):
        page = html(await api.get("/controle", params={"nummer": written}))
        assert f"Registratie {NUMBER} (opleiding) van Vinçotte Academy" in page.words, written
    unknown = html(await api.get("/controle", params={"nummer": "7"}), 404)
    assert "DV.O000007 of DV.A000007 is geen registratienummer uit dit register" in unknown.words
