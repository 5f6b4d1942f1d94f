"""CORS for the public routes only (``/public/...``): a web page of another origin may read the
public search and the open data from a browser (``KMOP_CORS_ORIGINS``); nothing else is shared.

Starlette's ``CORSMiddleware`` does the work for a request from an allowed origin. A request
from any other origin, or a preflight for a method the public routes do not have, goes on
untouched: it gets the app's own answer without CORS headers (so the browser keeps it from the
page), never Starlette's plain-text 400.
"""

from __future__ import annotations

from starlette.datastructures import Headers
from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send

PUBLIC_PREFIX = "/public/"
METHODS = ("GET", "HEAD", "OPTIONS")
# What a page may read of a response besides the CORS-safelisted headers.
EXPOSED = ("ETag", "Last-Modified", "Link", "Content-Disposition", "Retry-After")


class PublicCorsMiddleware:
    def __init__(self, app: ASGIApp, origins: list[str]) -> None:
        self.app = app
        self.any_origin = "*" in origins
        self.origins = frozenset(origins)
        self.cors = CORSMiddleware(
            app,
            allow_origins=["*"] if self.any_origin else sorted(self.origins),
            allow_methods=list(METHODS),
            allow_headers=["*"],
            expose_headers=list(EXPOSED),
            max_age=86400,
        )

    def _shared(self, scope: Scope) -> bool:
        if scope["type"] != "http" or not scope["path"].startswith(PUBLIC_PREFIX):
            return False
        headers = Headers(scope=scope)
        origin = headers.get("origin")
        if origin is None or not (self.any_origin or origin in self.origins):
            return False
        wanted = headers.get("access-control-request-method")
        return not (scope["method"] == "OPTIONS" and wanted and wanted.upper() not in METHODS)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.origins and self._shared(scope):
            await self.cors(scope, receive, send)
        else:
            await self.app(scope, receive, send)
