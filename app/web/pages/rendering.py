"""Rendering a page in Dutch: the templates and their filters, the headers every page carries
(``render``), and the pages for what fails (``friendly``, ``http_error``)."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Awaitable, Callable
from functools import wraps
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, Response
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from starlette.exceptions import HTTPException as StarletteHTTPException

from app.api import schemas
from app.api.http import problems
from app.api.http.problems import database_unavailable
from app.api.routers.public import OPTIONS
from app.documents.dutch import dutch_date
from app.domain.identifiers import EnterpriseNumber, ServiceType
from app.domain.regions import Province
from app.web.pages.form import MIN_RATINGS, SERVICE_TYPES, SORTS

log = logging.getLogger(__name__)

HERE = Path(__file__).parents[1]  # app/web: its templates and static files


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
