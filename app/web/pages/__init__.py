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

``form``: the search form, checked as the API checks its parameters, and what a mistake means
in Dutch; ``rendering``: the templates, their filters, a page's headers and the pages for what
fails (``render``, ``friendly``, ``http_error``); ``routes``: the search page and a provider's
page (``router``).

May import: ``app.domain``, ``app.runtime``, ``app.events``, ``app.services``, ``app.documents``
and ``app.api`` (as ``app.web``).
"""

from app.web.pages.rendering import friendly, http_error, render, web_link
from app.web.pages.routes import page_numbers, router

__all__ = ["friendly", "http_error", "page_numbers", "render", "router", "web_link"]
