"""The routes: the search page with its paging, and a provider's page (``router``)."""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.staticfiles import StaticFiles

from app.api import schemas
from app.api.http.deps import public_pool
from app.api.queries import search
from app.domain.identifiers import EnterpriseNumber, InvalidIdentifier
from app.domain.policies import today
from app.domain.regions import is_known_region
from app.services.registrations import RegistrationService
from app.web.pages.form import SEARCH_FIELDS, SearchForm, read_form, search_summary
from app.web.pages.rendering import HERE, enterprise_number_text, friendly, render

PAGE_SIZE = 10  # short pages: ten cards fit a phone in a few screens


router = APIRouter(include_in_schema=False)
router.mount("/static", StaticFiles(directory=HERE / "static"), name="static")


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


router.add_route("/", search_page, methods=["GET"], name="search_page", include_in_schema=False)
router.add_route(
    "/dienstverleners/{enterprise_number}",
    provider_page,
    methods=["GET"],
    name="provider_page",
    include_in_schema=False,
)
