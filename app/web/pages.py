"""The public web page: the public search module (DOMAIN.md, "What the public search module
offers") for people rather than programs, server-rendered in Dutch.

No login, no JavaScript and nothing fetched from elsewhere (fonts, scripts, styles): the Jinja2
templates and one stylesheet are served by the app, so the page works offline. It runs the same
SQL as the API (``app.api.queries.search``, on the process's asyncpg pool) and checks its input
with the
API's validators; what differs is the answer to a mistake: a page in Dutch (422, 404, 500,
503), never a problem+json document.

The routes are plain Starlette routes, like the docs: they are not part of the API, its OpenAPI
document or its role matrix.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Awaitable, Callable, Mapping
from datetime import date
from functools import wraps
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    field_validator,
)
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.staticfiles import StaticFiles

from app.api import schemas
from app.api.http import problems
from app.api.http.deps import public_pool
from app.api.http.problems import database_unavailable
from app.api.queries import search
from app.api.routers.public import OPTIONS, RegionParam, SearchText
from app.api.schemas import Theme
from app.documents.dutch import dutch_date
from app.domain.identifiers import (
    EnterpriseNumber,
    InvalidIdentifier,
    ServiceType,
)
from app.domain.policies import today
from app.domain.regions import Province, is_known_region
from app.services.registrations import RegistrationService

log = logging.getLogger(__name__)

HERE = Path(__file__).parent
PAGE_SIZE = 10  # short pages: ten cards fit a phone in a few screens
SEARCH_FIELDS = ("q", "number", "theme", "service_type", "region", "min_rating", "sort")
SORTS = {
    search.Sort.RELEVANCE: "Best passend",
    search.Sort.NAME: "Naam",
    search.Sort.RATING: "Beoordeling",
    search.Sort.VALIDITY: "Langst geldig",
}
MIN_RATINGS = (1, 2, 3, 4, 5)

router = APIRouter(include_in_schema=False)
router.mount("/static", StaticFiles(directory=HERE / "static"), name="static")

SERVICE_TYPES = {ServiceType.TRAINING: "opleiding", ServiceType.ADVICE: "advies"}

# What a mistake in each field means, in the words of the page (the API's own messages are for
# programmers, in English).
FIELD_ERRORS = {
    "q": "De zoektekst mag hoogstens 200 tekens tellen, zonder stuurtekens.",
    "number": "{value} is geen geldig registratienummer. Een registratienummer is DV.O "
    "(opleiding) of DV.A (advies) met een nummer, bijvoorbeeld DV.O236716 of DV.O17, of "
    "alleen het nummer.",
    "theme": "Kies een vakgebied uit de lijst.",
    "service_type": "Kies als type dienst opleiding of advies.",
    "region": "De regio mag hoogstens 100 tekens tellen, zonder stuurtekens. Geef een "
    "provincie, een gemeente of een postcode.",
    "min_rating": "Kies een minimale beoordeling uit de lijst.",
    "sort": "Kies een volgorde uit de lijst.",
    "page": "Het paginanummer moet een getal van 1 tot 1000 zijn.",
}

# No script runs and nothing loads from elsewhere, whatever a provider writes in its profile.
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'self'; img-src 'self'; "
    "form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}


def rating_text(rating: schemas.PublicRating | None) -> str:
    """``4,3 / 5 (12 beoordelingen)``."""
    if rating is None:
        return "Nog geen beoordelingen"
    count = "1 beoordeling" if rating.count == 1 else f"{rating.count} beoordelingen"
    return f"{rating.average:.1f}".replace(".", ",") + f" / 5 ({count})"


def web_link(url: str | None) -> str | None:
    """The provider's website as a link target, only when it is a web address: a profile's
    ``javascript:`` must not become something to click."""
    if url and url.lower().startswith(("https://", "http://")):
        return url
    return None


def municipalities(provider: schemas.PublicProvider) -> list[str]:
    return sorted({location.municipality for location in provider.locations}, key=str.casefold)


def province_label(slug: str) -> str:
    try:
        return Province(slug).label
    except ValueError:
        return slug


def enterprise_number_text(digits: str) -> str:
    return EnterpriseNumber(digits).formatted


templates = Environment(
    loader=FileSystemLoader(HERE / "templates"),
    autoescape=select_autoescape(default=True, default_for_string=True),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
templates.filters.update(
    dutch_date=dutch_date,
    rating_text=rating_text,
    web_link=web_link,
    municipalities=municipalities,
    province_label=province_label,
    enterprise_number=enterprise_number_text,
    service_type=lambda value: SERVICE_TYPES[ServiceType(value)],
)
templates.globals.update(
    options=OPTIONS, service_types=SERVICE_TYPES, sorts=SORTS, min_ratings=MIN_RATINGS
)


class SearchForm(BaseModel):
    """The search form's fields, checked as the API checks its query parameters."""

    model_config = ConfigDict(frozen=True)

    q: SearchText = None
    number: Annotated[str | None, StringConstraints(max_length=40)] = None
    theme: Theme | None = None
    service_type: ServiceType | None = None
    region: RegionParam = None
    min_rating: Annotated[int | None, Field(ge=1, le=5)] = None
    sort: search.Sort | None = None
    page: Annotated[int, Field(ge=1, le=1000)] = 1

    @field_validator("number")
    @classmethod
    def _registration_number(cls, value: str | None) -> str | None:
        if value:
            schemas.registration_numbers(value)  # raises on a mistake
        return value

    def query(self) -> search.Query:
        return search.Query(
            text=self.q,
            numbers=schemas.registration_numbers(self.number) if self.number else (),
            theme=self.theme,
            service_type=self.service_type,
            region=self.region,
            min_rating=self.min_rating,
            sort=self.sort or search.Sort.RELEVANCE,
        )

    def url(self, root: str, page: int | None = None, path: str = "/") -> str:
        """This search's address (at ``page``), or ``path`` with this search in its query."""
        fields = self.model_dump(include=set(SEARCH_FIELDS), exclude_none=True, mode="json")
        if page is not None:
            fields["page"] = page
        return f"{root}{path}" + (f"?{urlencode(fields)}" if fields else "")


def read_form(params: Mapping[str, str]) -> tuple[SearchForm | None, dict[str, str]]:
    """The form, or the Dutch message per field at fault. Blank fields are left out."""
    given = {
        name: value.strip()
        for name in (*SEARCH_FIELDS, "page")
        if (value := params.get(name)) is not None and value.strip()
    }
    try:
        return SearchForm.model_validate(given), {}
    except ValidationError as exc:
        fields = {str(error["loc"][0]) for error in exc.errors() if error["loc"]}
        return None, {
            name: message.format(value=f'"{given.get(name, "")}"')
            for name, message in FIELD_ERRORS.items()
            if name in fields
        }


Page = Callable[[Request], Awaitable[Response]]


def friendly(page: Page) -> Page:
    """Whatever fails, the visitor gets a page in Dutch: 503 when the database does not answer,
    500 for anything else; the details go to the log, not to the page."""

    @wraps(page)
    async def answer(request: Request) -> Response:
        try:
            return await page(request)
        except Exception as exc:
            if database_unavailable(exc):
                log.exception("the public web page could not reach the database")
                title, message, status = (
                    "De zoekdienst is even niet beschikbaar",
                    "We kunnen het register op dit moment niet raadplegen. "
                    "Probeer het over enkele minuten opnieuw.",
                    503,
                )
            else:
                log.exception("the public web page failed")
                title, message, status = (
                    "Er ging iets mis",
                    "Er ging bij ons iets mis. Probeer het later opnieuw.",
                    500,
                )
            context = {"title": title, "message": message}
            return render(request, "error.html", context, status=status)

    return answer


def render(
    request: Request, template: str, context: dict[str, Any], *, status: int = 200
) -> Response:
    """The page; a 200 carries an ``ETag`` and the public API's ``Cache-Control``, and a
    conditional GET that still matches gets 304."""
    root = request.scope.get("root_path", "")
    html = templates.get_template(template).render(root=root, **context).encode()
    headers = dict(SECURITY_HEADERS)
    if status != 200:
        headers["Cache-Control"] = "no-store"
        return HTMLResponse(html, status_code=status, headers=headers)
    tag = f'W/"{hashlib.sha256(html).hexdigest()[:32]}"'
    max_age = request.app.state.settings.public_max_age_seconds
    headers |= {
        "ETag": tag,
        "Cache-Control": f"public, max-age={max_age}" if max_age > 0 else "public, no-cache",
        "Vary": "Accept-Encoding",
    }
    wanted = request.headers.get("if-none-match", "")
    if tag in (t.strip() for t in wanted.split(",")):
        return Response(status_code=304, headers=headers)
    return HTMLResponse(html, headers=headers)


def _today(request: Request) -> date:
    service: RegistrationService = request.app.state.service
    return today(service.clock.now())


def page_numbers(page: int, last: int) -> list[int | None]:
    """The page numbers to offer: the first, the last, and two either side of ``page``; None
    where numbers are left out (``1 … 4 5 6 7 8 … 20``)."""
    shown = sorted({1, last, *range(max(1, page - 2), min(last, page + 2) + 1)})
    numbers: list[int | None] = []
    for n in shown:
        if numbers and numbers[-1] is not None and n - numbers[-1] > 1:
            numbers.append(None)
        numbers.append(n)
    return numbers


def _paging(root: str, form: SearchForm, found: search.Found, shown: int) -> dict[str, Any]:
    """Where this page lies among the results: ``21-30 van 30``, and the links to the others."""
    first = (form.page - 1) * PAGE_SIZE + 1
    known_last = -(-found.total // PAGE_SIZE) if found.exact else None
    last = known_last or form.page + (1 if found.more else 0)
    return {
        "page": form.page,
        "first": first,
        "last_shown": first + shown - 1,
        "pages": [
            (n, form.url(root, n) if n is not None else None)
            for n in page_numbers(form.page, min(last, 1000))
        ]
        if last > 1
        else [],
        "previous_url": form.url(root, form.page - 1) if form.page > 1 else None,
        "next_url": form.url(root, form.page + 1) if found.more and form.page < 1000 else None,
    }


@friendly
async def search_page(request: Request) -> Response:
    """The search form; once submitted, one page of the providers registered today, shown
    before the form (folded away) so that a phone opens on the results."""
    raw = {name: request.query_params.get(name, "") for name in SEARCH_FIELDS}
    context: dict[str, Any] = {"raw": raw, "errors": {}, "searched": False}
    if not any(name in request.query_params for name in (*SEARCH_FIELDS, "page")):
        return render(request, "search.html", context)
    form, errors = read_form(request.query_params)
    if form is None:
        return render(request, "search.html", context | {"errors": errors}, status=422)
    async with public_pool(request).connection(custom_plans=True) as conn:
        found = await search.search(
            conn, form.query(), today=_today(request), page=form.page, limit=PAGE_SIZE
        )
    root = request.scope.get("root_path", "")
    items = [schemas.PublicProvider.model_validate(item) for item in found.items]
    context |= {
        "searched": True,
        "items": items,
        "total": found.total,
        "exact": found.exact,
        # The provider's page links back to this very search.
        "provider_url": lambda kbo: form.url(root, form.page, f"/dienstverleners/{kbo}"),
        "summary": search_summary(form),
        "unknown_region": form.region if form.region and not is_known_region(form.region) else None,
        **_paging(root, form, found, len(items)),
    }
    return render(request, "search.html", context)


def search_summary(form: SearchForm) -> list[str]:
    """What was searched, in words, for the folded form's summary."""
    said = []
    if form.q:
        said.append(f"“{form.q}”")
    if form.number:
        said.append(f"nummer {form.number}")
    if form.theme:
        said.append(form.theme)
    if form.service_type:
        said.append(SERVICE_TYPES[form.service_type])
    if form.region:
        said.append(f"in {form.region}")
    if form.min_rating:
        said.append(f"beoordeling {form.min_rating} of meer")
    return said


def back_to_search(request: Request) -> str:
    """The search the visitor came from (carried in the provider page's query), or the empty
    form: a query that is not a valid search is dropped, not echoed."""
    root = request.scope.get("root_path", "")
    if not any(name in request.query_params for name in (*SEARCH_FIELDS, "page")):
        return f"{root}/"
    form, _ = read_form(request.query_params)
    if form is None:
        return f"{root}/"
    return form.url(root, form.page) + "#resultaten"


@friendly
async def provider_page(request: Request) -> Response:
    """A registered provider's public page; 404 when it is not registered today, and a
    different answer (422) for what is no enterprise number at all."""
    given = str(request.path_params["enterprise_number"])[:40]
    try:
        kbo = str(EnterpriseNumber.parse(given))
    except InvalidIdentifier:
        return render(
            request,
            "error.html",
            {
                "title": "Geen geldig ondernemingsnummer",
                "message": f"“{given}” is geen geldig ondernemingsnummer. Een "
                "ondernemingsnummer heeft tien cijfers, bijvoorbeeld 0403.170.701; controleer "
                "of u het juist overnam.",
                "back": back_to_search(request),
            },
            status=422,
        )
    async with public_pool(request).connection(custom_plans=True) as conn:
        found = await search.provider(conn, kbo, today=_today(request))
    if found is None:
        return _not_registered(request, enterprise_number_text(kbo))
    provider = schemas.PublicProvider.model_validate(found)
    context = {"provider": provider, "back": back_to_search(request)}
    return render(request, "provider.html", context)


def _not_registered(request: Request, given: str) -> Response:
    return render(
        request,
        "error.html",
        {
            "title": "Geen geregistreerde dienstverlener",
            "message": f"{given} is vandaag geen geregistreerde dienstverlener voor de "
            "kmo-portefeuille. Het ondernemingsnummer is geldig: misschien is de registratie "
            "verlopen of stopgezet, of was de onderneming nooit geregistreerd.",
            "back": back_to_search(request),
        },
        status=404,
    )


def wants_html(request: Request) -> bool:
    """A browser's first choice is ``text/html``; a program's is JSON or ``*/*``."""
    first = request.headers.get("accept", "").split(",")[0]
    return first.split(";")[0].strip().lower() == "text/html"


async def http_error(request: Request, exc: Exception) -> Response:
    """An address with nothing behind it: a page in Dutch for a browser, the API's
    problem+json document for a program (``problems.http_error``)."""
    assert isinstance(exc, StarletteHTTPException)
    if exc.status_code == 404 and exc.detail == "Not Found" and wants_html(request):
        context = {
            "title": "Deze pagina bestaat niet",
            "message": f"Op het adres {request.url.path[:100]} staat geen pagina. Misschien is "
            "het adres verkeerd overgenomen.",
        }
        return render(request, "error.html", context, status=404)
    return await problems.http_error(request, exc)


router.add_route("/", search_page, methods=["GET"], name="search_page", include_in_schema=False)
router.add_route(
    "/dienstverleners/{enterprise_number}",
    provider_page,
    methods=["GET"],
    name="provider_page",
    include_in_schema=False,
)
