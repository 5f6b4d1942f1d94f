"""The public web page over the ASGI app: the form, results, the empty and error states, a
provider's page, escaping, and nothing fetched from elsewhere."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import httpx
import pytest
from fastapi import FastAPI

from app.main import create_app
from app.runtime.db import make_engine
from app.runtime.settings import Settings
from app.services.clock import FixedClock
from app.web import pages
from tests.integration.scenarios import enterprise_number
from tests.web.support import Provider, register

VINCOTTE = str(enterprise_number(11))
ACADEMY = str(enterprise_number(12))
NOBODY = str(enterprise_number(13))

PROVIDERS = [
    Provider(
        VINCOTTE,
        "Vinçotte Academy",
        service_types=("opleiding", "advies"),
        profile={
            "description": "Opleidingen rond veiligheid en digitalisering voor kmo's.",
            "themes": ["digitalisering", "innovatie"],
            "locations": [
                {
                    "name": "Campus Gent",
                    "street": "Kortrijksesteenweg 1",
                    "postal_code": "9000",
                    "municipality": "Gent",
                },
                {"street": "Diestsevest 2", "postal_code": "3000", "municipality": "Leuven"},
            ],
            "website": "https://www.vincotte.example",
        },
        scores=(4, 5),
    ),
    Provider(
        ACADEMY,
        "Groen Advies",
        profile={
            "description": "Advies over duurzaamheid.",
            "themes": ["duurzaamheid"],
            "locations": [{"street": "Markt 1", "postal_code": "3500", "municipality": "Hasselt"}],
        },
    ),
]


class Page(HTMLParser):
    """What the tests look at in a page: every tag's attributes, the labels' targets, the text."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str]]] = []
        self.text: list[str] = []
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, {name: value or "" for name, value in attrs}))

    def handle_data(self, data: str) -> None:
        self.text.append(data)

    def all(self, tag: str) -> list[dict[str, str]]:
        return [attrs for name, attrs in self.tags if name == tag]

    @property
    def words(self) -> str:
        return " ".join(" ".join(self.text).split())


def html(response: httpx.Response, status: int = 200) -> Page:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("text/html")
    return Page(response.text)


async def test_the_form_is_labelled_semantic_and_cacheable(api: httpx.AsyncClient) -> None:
    response = await api.get("/")
    page = html(response)
    assert '<html lang="nl">' in response.text
    assert {"header", "nav", "main", "footer", "form", "h1"} <= {tag for tag, _ in page.tags}
    assert page.all("a")[0] == {"class": "skip-link", "href": "#inhoud"}
    assert any(main.get("id") == "inhoud" for main in page.all("main"))
    assert any(m.get("name") == "viewport" for m in page.all("meta"))
    fields = {attrs["name"]: attrs["id"] for attrs in page.all("input") + page.all("select")}
    assert set(fields) == {"q", "number", "theme", "service_type", "region", "min_rating", "sort"}
    labelled = {label["for"] for label in page.all("label")}
    assert set(fields.values()) <= labelled
    themes = [o["value"] for o in page.all("option") if o.get("value")]
    assert "financiële geletterdheid" in themes
    assert "Naam of omschrijving" in page.words
    assert "gevonden" not in page.words  # nothing searched yet
    # Cached like the API: an ETag, and a conditional GET that still matches gets 304.
    assert response.headers["cache-control"] == "public, no-cache"
    assert "script-src" not in response.headers["content-security-policy"]
    assert "default-src 'none'" in response.headers["content-security-policy"]
    again = await api.get("/", headers={"If-None-Match": response.headers["etag"]})
    assert again.status_code == 304
    assert again.content == b""
    css = await api.get("/static/site.css")
    assert css.status_code == 200
    assert css.headers["content-type"].startswith("text/css")
    assert ":focus-visible" in css.text


async def test_a_search_lists_the_registered_providers_with_what_is_public(
    api: httpx.AsyncClient, clock: FixedClock
) -> None:
    numbers = await register(api, clock, PROVIDERS)
    assert numbers[VINCOTTE] == ["DV.A000002", "DV.O000001"]

    page = html(await api.get("/", params={"q": "vincotte"}))
    words = page.words
    assert "1 dienstverlener gevonden" in words
    assert "Vinçotte Academy" in words
    assert "Groen Advies" not in words
    assert "DV.O000001 opleiding geregistreerd geldig van 20 januari 2026 tot 19 januari 2031" in (
        words
    )
    assert "DV.A000002 advies geregistreerd" in words
    assert "Vakgebieden digitalisering, innovatie" in words
    assert "Gemeenten Gent, Leuven" in words
    assert "Beoordeling 4,5 / 5 (2 beoordelingen)" in words
    # The provider's page is linked with the search, so that it can lead back to it.
    assert {"href": f"/dienstverleners/{VINCOTTE}?q=vincotte&page=1"} in page.all("a")
    # The form keeps what was typed.
    assert {"vincotte"} == {i["value"] for i in page.all("input") if i["name"] == "q"}

    # Every filter of the API, through the form's fields.
    async def names(**params: str) -> set[str]:
        found = html(await api.get("/", params=params))
        return {h.removeprefix("dv-") for h in (a.get("id", "") for a in found.all("h3")) if h}

    assert await names(number="dv.a 000002") == {VINCOTTE}
    assert await names(theme="duurzaamheid") == {ACADEMY}
    assert await names(service_type="advies") == {VINCOTTE}
    assert await names(region="Limburg") == {ACADEMY}
    assert await names(region="9000") == {VINCOTTE}
    assert await names(q="", number="", theme="", service_type="", region="") == {
        VINCOTTE,
        ACADEMY,
    }
    assert "Nog geen beoordelingen" in html(await api.get("/", params={"q": "groen"})).words


async def test_pages_go_back_and_forth(
    api: httpx.AsyncClient, clock: FixedClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    await register(api, clock, PROVIDERS)
    monkeypatch.setattr("app.web.pages.routes.PAGE_SIZE", 1)
    first = html(await api.get("/", params={"service_type": "opleiding"}))
    assert "2 dienstverleners gevonden" in first.words
    links = {a["rel"]: a["href"] for a in first.all("a") if "rel" in a}
    assert set(links) == {"next"}
    assert links["next"] == "/?service_type=opleiding&page=2"
    second = html(await api.get(links["next"]))
    links = {a["rel"]: a["href"] for a in second.all("a") if "rel" in a}
    assert links == {"prev": "/?service_type=opleiding&page=1"}
    assert "Pagina 2" in second.words
    assert {a["id"] for a in first.all("h3")} != {a["id"] for a in second.all("h3")}


async def test_nothing_found_says_so(api: httpx.AsyncClient, clock: FixedClock) -> None:
    await register(api, clock, PROVIDERS[:1])
    page = html(await api.get("/", params={"q": "bakkerij", "region": "Antwerpen"}))
    assert "Geen geregistreerde dienstverleners gevonden" in page.words
    assert not page.all("article")
    assert "Tips:" in page.words


@pytest.mark.parametrize(
    ("params", "field", "message"),
    [
        ({"number": "DV.X12"}, "number", '"DV.X12" is geen geldig registratienummer'),
        ({"theme": "<b>koken</b>"}, "theme", "Kies een vakgebied uit de lijst."),
        ({"service_type": "catering"}, "service_type", "Kies als type dienst opleiding of advies"),
        ({"region": "x" * 101}, "region", "De regio mag hoogstens 100 tekens tellen"),
        ({"q": "a\x01b"}, "q", "De zoektekst mag hoogstens 200 tekens tellen"),
        ({"q": "gent", "page": "nul"}, "page", "Het paginanummer moet een getal"),
    ],
)
async def test_a_mistake_in_the_form_is_explained_in_dutch(
    api: httpx.AsyncClient, params: dict[str, str], field: str, message: str
) -> None:
    response = await api.get("/", params=params)
    page = html(response, 422)
    assert message in page.words
    assert "Controleer uw zoekopdracht" in page.words
    assert response.headers["cache-control"] == "no-store"
    if field != "page":
        (control,) = [a for a in page.all("input") + page.all("select") if a["name"] == field]
        assert control["aria-invalid"] == "true"
        assert f"fout-{field}" in control["aria-describedby"].split()
    assert "<b>koken</b>" not in response.text  # what was typed comes back escaped


async def test_the_provider_page_shows_what_is_public(
    api: httpx.AsyncClient, clock: FixedClock
) -> None:
    await register(api, clock, PROVIDERS)
    response = await api.get(f"/dienstverleners/{VINCOTTE}")
    page = html(response)
    words = page.words
    assert len(page.all("h1")) == 1
    assert "Vinçotte Academy" in words
    assert "Opleidingen rond veiligheid en digitalisering voor kmo's." in words
    assert "DV.A000002 advies geregistreerd 20 januari 2026 19 januari 2031" in words
    assert "DV.O000001 opleiding geregistreerd 20 januari 2026 19 januari 2031" in words
    assert "4,5 / 5 (2 beoordelingen)" in words
    assert "Campus Gent Kortrijksesteenweg 1 9000 Gent Oost-Vlaanderen" in words
    assert "Diestsevest 2 3000 Leuven Vlaams-Brabant" in words
    assert "digitalisering innovatie" in words
    website = [a for a in page.all("a") if a["href"] == "https://www.vincotte.example"]
    assert [a["rel"] for a in website] == ["noopener nofollow external"]
    assert "etag" in response.headers
    # Any written form of the enterprise number leads to the same page.
    formatted = f"BE {VINCOTTE[:4]}.{VINCOTTE[4:7]}.{VINCOTTE[7:]}"
    assert html(await api.get(f"/dienstverleners/{formatted}")).words == words


async def test_who_is_not_registered_today_has_no_page(
    api: httpx.AsyncClient, clock: FixedClock
) -> None:
    await register(api, clock, PROVIDERS[:1])
    unknown = await api.get(f"/dienstverleners/{NOBODY}")
    assert "is vandaag geen geregistreerde dienstverlener" in html(unknown, 404).words
    assert unknown.headers["cache-control"] == "no-store"
    # What is no enterprise number at all is told as a typo, not as "not registered".
    typo = html(await api.get("/dienstverleners/12345"), 422).words
    assert "“12345” is geen geldig ondernemingsnummer" in typo
    assert "geregistreerde dienstverlener" not in typo
    assert "Naar het zoekformulier" in typo
    # Before the decision and after the validity the provider is not listed either.
    clock.set(clock.now().replace(year=2031, month=1, day=20))
    html(await api.get(f"/dienstverleners/{VINCOTTE}"), 404)
    gone = html(await api.get("/", params={"q": "vincotte"}))
    assert "Geen geregistreerde dienstverleners gevonden" in gone.words


async def test_what_providers_write_is_escaped(api: httpx.AsyncClient, clock: FixedClock) -> None:
    mischief = Provider(
        VINCOTTE,
        '<script>alert("naam")</script> BV',
        profile={
            "description": "<img src=x onerror=alert(1)> advies",
            "themes": [],
            "locations": [
                {"street": "<b>straat</b> 1", "postal_code": "9000", "municipality": "Gent"}
            ],
            "website": 'https://x.example/"><b>hi</b>',
        },
    )
    await register(api, clock, [mischief])
    for response in (
        await api.get("/", params={"q": "advies"}),
        await api.get(f"/dienstverleners/{VINCOTTE}"),
    ):
        page = html(response)
        assert "<script>" not in response.text
        assert "&lt;script&gt;alert(&#34;naam&#34;)&lt;/script&gt; BV" in response.text
        assert "<img" not in response.text
        assert "<b>" not in response.text
        assert not page.all("script")
    # The website stays one attribute of one link.
    assert {"href": 'https://x.example/"><b>hi</b>', "rel": "noopener nofollow external"} in (
        page.all("a")
    )


def test_only_web_addresses_become_links() -> None:
    """The domain refuses other websites already; the page does not rely on it."""
    assert pages.web_link("https://www.voorbeeld.be") == "https://www.voorbeeld.be"
    assert pages.web_link("HTTP://voorbeeld.be") == "HTTP://voorbeeld.be"
    assert pages.web_link("javascript:alert(1)") is None
    assert pages.web_link(None) is None


async def test_nothing_is_fetched_from_elsewhere(api: httpx.AsyncClient, clock: FixedClock) -> None:
    await register(api, clock, PROVIDERS)
    for path in (
        "/",
        "/?q=vincotte",
        f"/dienstverleners/{VINCOTTE}",
        "/?number=x",
        "/dienstverleners/0",
    ):
        response = await api.get(path)
        page = Page(response.text)
        urls = re.findall(r"https?://[^\s\"'<>]+", response.text)
        assert set(urls) <= {"https://www.vincotte.example"}, (path, urls)
        for tag, attr in (("link", "href"), ("script", "src"), ("img", "src")):
            for attrs in page.all(tag):
                assert attrs[attr].startswith("/"), (path, tag, attrs)
        assert {"href": "/static/site.css", "rel": "stylesheet"} in page.all("link")


async def test_a_database_that_does_not_answer_gets_a_friendly_page(clock: FixedClock) -> None:
    dead = make_engine("postgresql+asyncpg://postgres@127.0.0.1:9/nowhere")
    app: FastAPI = create_app(Settings(environment="test"), engine=dead, clock=clock)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            for path in ("/?q=gent", f"/dienstverleners/{VINCOTTE}"):
                page = html(await client.get(path), 503)
                assert "De zoekdienst is even niet beschikbaar" in page.words
                assert "Traceback" not in page.words
            assert (await client.get("/")).status_code == 200  # the form needs no database
    finally:
        await dead.dispose()


# --- issue 14: the page as an SME owner uses it -------------------------------------------


async def test_paging_tells_where_the_page_lies_and_numbers_the_pages(
    api: httpx.AsyncClient, clock: FixedClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    await register(api, clock, PROVIDERS)
    monkeypatch.setattr("app.web.pages.routes.PAGE_SIZE", 1)
    first = html(await api.get("/", params={"service_type": "opleiding"}))
    assert "2 dienstverleners gevonden" in first.words
    assert "1-1 van 2" in first.words
    second = html(await api.get("/", params={"service_type": "opleiding", "page": "2"}))
    # Page 2 no longer says what page 1 says.
    assert "2-2 van 2 dienstverleners" in second.words
    assert "gevonden" not in second.words
    numbered = {a["href"] for a in second.all("a") if a["href"].startswith("/?")}
    assert "/?service_type=opleiding&page=1" in numbered
    (current,) = [s for s in second.all("span") if s.get("aria-current") == "page"]
    assert current  # page 2 is marked, not linked
    assert "/?service_type=opleiding&page=2" not in numbered


def test_long_result_lists_offer_the_first_the_last_and_the_pages_around() -> None:
    assert pages.page_numbers(1, 1) == [1]
    assert pages.page_numbers(1, 3) == [1, 2, 3]
    assert pages.page_numbers(7, 20) == [1, None, 5, 6, 7, 8, 9, None, 20]
    assert pages.page_numbers(20, 20) == [1, None, 18, 19, 20]


async def test_after_a_search_the_results_come_before_the_folded_form(
    api: httpx.AsyncClient, clock: FixedClock
) -> None:
    await register(api, clock, PROVIDERS)
    empty = await api.get("/")
    assert "<details" not in empty.text  # nothing searched: the form itself
    searched = await api.get("/", params={"q": "vincotte", "region": "Gent"})
    page = Page(searched.text)
    assert [d for d in page.all("details") if "open" in d] == []  # folded away
    assert "Zoekopdracht aanpassen : “vincotte”, in Gent" in page.words
    assert searched.text.index('id="resultaten"') > searched.text.index("<details")
    assert [f["action"] for f in page.all("form")] == ["/"]
    # A mistake opens the form with the message, no results.
    wrong = html(await api.get("/", params={"number": "DV.X1"}), 422)
    assert not wrong.all("details")
    assert "resultaten" not in {a.get("id") for _, a in wrong.tags}


async def test_numbers_as_people_write_them_regions_sort_and_rating(
    api: httpx.AsyncClient, clock: FixedClock
) -> None:
    numbers = await register(api, clock, PROVIDERS)
    assert numbers[ACADEMY] == ["DV.O000003"]

    async def found(**params: str) -> list[str]:
        page = html(await api.get("/", params=params))
        return [h["id"].removeprefix("dv-") for h in page.all("h3") if h.get("id")]

    assert await found(number="DV.O1") == [VINCOTTE]
    assert await found(number="dvo3") == [ACADEMY]
    assert await found(number="2") == [VINCOTTE]  # DV.A000002
    assert await found(region="Provincie Limburg") == [ACADEMY]
    assert await found(region="Sint-Lambrechts-Herk") == [ACADEMY]  # a deelgemeente of Hasselt
    assert await found(region="Gand") == [VINCOTTE]
    unknown = html(await api.get("/", params={"region": "Atlantis"}))
    assert "“Atlantis” is geen Belgische provincie, gemeente, deelgemeente of postcode" in (
        unknown.words
    )
    assert "is geen Belgische" not in html(await api.get("/", params={"region": "Wilrijk"})).words
    # Groen Advies (unrated) comes first by name, last by rating.
    assert await found(sort="name") == [ACADEMY, VINCOTTE]
    assert await found(sort="rating") == [VINCOTTE, ACADEMY]
    assert await found(min_rating="4") == [VINCOTTE]
    assert await found(min_rating="5") == []
    page = html(await api.get("/", params={"sort": "rating", "min_rating": "4"}))
    selected = {o["value"] for o in page.all("option") if "selected" in o}
    assert {"rating", "4"} <= selected  # the form keeps the choices
    for params, field in (({"sort": "prijs"}, "sort"), ({"min_rating": "9"}, "min_rating")):
        wrong = html(await api.get("/", params=params), 422)
        (control,) = [s for s in wrong.all("select") if s["name"] == field]
        assert control["aria-invalid"] == "true"


async def test_the_provider_page_leads_back_to_the_search_and_to_the_check(
    api: httpx.AsyncClient, clock: FixedClock
) -> None:
    await register(api, clock, PROVIDERS)
    results = html(await api.get("/", params={"q": "vincotte", "sort": "rating"}))
    (link,) = [a["href"] for a in results.all("a") if a["href"].startswith("/dienstverleners/")]
    provider = html(await api.get(link))
    back = [a["href"] for a in provider.all("a")]
    assert "/?q=vincotte&sort=rating&page=1#resultaten" in back
    # Each registration can be checked on a day of one's choice.
    checks = {a["href"] for a in provider.all("a") if a["href"].startswith("/controle")}
    assert {"/controle?nummer=DV.O000001", "/controle?nummer=DV.A000002"} <= checks
    # A query that is no valid search leads back to the empty form, not echoed.
    odd = html(await api.get(f"/dienstverleners/{VINCOTTE}", params={"theme": "<b>x</b>"}))
    assert "<b>x</b>" not in str(odd.tags)
    assert {a["href"] for a in odd.all("a") if a["href"].startswith("/?")} == set()
    # Without a search, straight to the page: back to the empty form.
    direct = html(await api.get(f"/dienstverleners/{VINCOTTE}"))
    assert "/?" not in " ".join(a["href"] for a in direct.all("a"))


async def test_an_unknown_address_answers_a_browser_with_a_page_and_a_program_with_json(
    api: httpx.AsyncClient,
) -> None:
    browser = await api.get("/nergens", headers={"Accept": "text/html,application/xhtml+xml"})
    page = html(browser, 404)
    assert "Deze pagina bestaat niet" in page.words
    assert "Op het adres /nergens staat geen pagina." in page.words
    program = await api.get("/nergens", headers={"Accept": "application/json"})
    assert program.status_code == 404
    assert program.headers["content-type"] == "application/problem+json"
    assert (await api.get("/nergens")).headers["content-type"] == "application/problem+json"
    # Markup in the address comes back escaped.
    odd = await api.get("/<b>x</b>", headers={"Accept": "text/html"})
    assert "<b>x</b>" not in odd.text
