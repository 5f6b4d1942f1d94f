"""One access-log line and one observation in the request metrics per HTTP request.

Pure ASGI (no BaseHTTPMiddleware): it must not buffer streamed responses. It runs inside
``CorrelationMiddleware``, so the request id is set while it logs. It records the route's
*template* (``/applications/{application_id}/decision``), never the raw path, which would carry
identifiers into the logs and an unbounded number of series into the metrics; a request that
matches no route is recorded as ``<unmatched>``. Only the fields below are logged: no headers
(``Authorization``), no query string, no body.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.runtime.metrics import Metrics

log = logging.getLogger("kmop.access")

UNMATCHED = "<unmatched>"


def route_template(scope: Scope) -> str:
    """The path template of the route that answered (set in the scope by the router)."""
    route = scope.get("route")
    template = getattr(route, "path_format", None) or getattr(route, "path", None)
    return str(template) if template else UNMATCHED


def client_id(scope: Scope) -> str | None:
    """The authenticated client (``app.api.http.auth.authenticate`` keeps its principal)."""
    principal: Any = scope.get("state", {}).get("principal")
    return getattr(principal, "client_id", None)


class AccessMiddleware:
    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500  # when the app raises before it answers, the server answers 500

        async def send_observed(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, send_observed)
        finally:
            seconds = time.perf_counter() - started
            method, path = scope["method"], route_template(scope)
            self.metrics.request(method, path, status, seconds)
            log.info(
                "%s %s %d",
                method,
                path,
                status,
                extra={
                    "method": method,
                    "path": path,
                    "status": status,
                    "duration_ms": round(seconds * 1000, 2),
                    "client_id": client_id(scope),
                },
            )
