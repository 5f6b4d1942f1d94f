"""HTTP methods at the root: ``HEAD`` on every ``GET`` route, ``OPTIONS`` on every path, and a
complete ``Allow`` on every 405.

FastAPI's routes answer only the methods they declare, one route per method and path: ``HEAD``
was a 405, ``OPTIONS`` too, and a 405 named the methods of the first route on that path only
(``POST /bureaus`` is one route, ``GET /bureaus`` another). This middleware knows every route of
the app (however it was included, ``iter_route_contexts``) and, per path, the union of their
methods:

* ``HEAD`` where a ``GET`` route exists (and no route handles ``HEAD`` itself): the ``GET`` runs
  and its status and headers are sent, without a body, to a scope that says ``HEAD`` again (the
  ASGI server frames the answer by it: a streamed GET's chunked encoding would otherwise follow
  a HEAD's headers onto a kept-alive connection). The response ends as soon as its headers
  are known, so a ``HEAD`` of an event stream does not wait for events.
* ``OPTIONS`` on a path some route matches: 204 with ``Allow``.
* any 405: its ``Allow`` lists every method of the path, ``HEAD`` and ``OPTIONS`` included.

A path no route matches goes on to the app (a 404 problem).
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from fastapi.routing import iter_route_contexts
from starlette.routing import BaseRoute, Mount, compile_path
from starlette.types import ASGIApp, Message, Receive, Scope, Send

# Mounted apps of this service serve files (StaticFiles): GET (and HEAD, which runs their GET
# like any route's, so that a HEAD's headers are the GET's, gzip included:
# app/api/http/compression.py).
MOUNT_METHODS = frozenset({"GET"})
_ORDER = ("GET", "HEAD", "OPTIONS", "POST", "PUT", "PATCH", "DELETE")


@dataclass(frozen=True, slots=True)
class _PathMethods:
    pattern: re.Pattern[str]
    methods: frozenset[str]


def _table(routes: Iterable[BaseRoute]) -> list[_PathMethods]:
    table = []
    for context in iter_route_contexts(list(routes)):
        if context.path is None:
            continue
        if isinstance(context.original_route, Mount):
            prefix = re.escape(context.path.rstrip("/"))
            table.append(_PathMethods(re.compile(f"^{prefix}(/.*)?$"), MOUNT_METHODS))
        elif context.methods:
            pattern, _, _ = compile_path(context.path)
            table.append(_PathMethods(pattern, frozenset(m.upper() for m in context.methods)))
    return table


def allow_header(methods: Iterable[str]) -> str:
    """The ``Allow`` value: HEAD with GET, OPTIONS always, in a fixed order."""
    full = set(methods)
    if "GET" in full:
        full.add("HEAD")
    full.add("OPTIONS")
    ordered = [m for m in _ORDER if m in full] + sorted(full - set(_ORDER))
    return ", ".join(ordered)


class MethodsMiddleware:
    def __init__(self, app: ASGIApp, routes: Callable[[], Iterable[BaseRoute]]) -> None:
        self.app = app
        self._routes = routes
        self._cache: list[_PathMethods] | None = None  # routes are all added before serving

    def methods_for(self, path: str) -> set[str]:
        if self._cache is None:
            self._cache = _table(self._routes())
        found: set[str] = set()
        for entry in self._cache:
            if entry.pattern.match(path):
                found |= entry.methods
        return found

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        method = scope["method"]
        if method == "OPTIONS":
            methods = self.methods_for(scope["path"])
            if methods and "OPTIONS" not in methods:
                await _no_content(send, allow_header(methods))
                return
        elif method == "HEAD":
            methods = self.methods_for(scope["path"])
            if "GET" in methods and "HEAD" not in methods:
                await self._head(scope, receive, send)
                return
        await self.app(scope, receive, self._complete_allow(scope, send))

    def _complete_allow(self, scope: Scope, send: Send) -> Send:
        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start" and message["status"] == 405:
                allow = allow_header(self.methods_for(scope["path"])).encode()
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != b"allow"]
                message = {**message, "headers": [*headers, (b"allow", allow)]}
            await send(message)

        return sending

    async def _head(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Run the GET; send its status and headers, then end the response (no body). The app
        is told the client left once the headers are out, so a stream stops."""
        answered = asyncio.Event()

        async def sending(message: Message) -> None:
            if answered.is_set():
                return
            if message["type"] == "http.response.start":
                # The server writes what the scope's method says: a HEAD's answer ends at its
                # headers (no chunked framing, no body to match a Content-Length).
                scope["method"] = "HEAD"
                await send(message)
                await send({"type": "http.response.body", "body": b"", "more_body": False})
                answered.set()

        async def receiving() -> Message:
            if answered.is_set():
                return {"type": "http.disconnect"}
            waiting = asyncio.ensure_future(receive())
            done = asyncio.ensure_future(answered.wait())
            try:
                await asyncio.wait({waiting, done}, return_when=asyncio.FIRST_COMPLETED)
            finally:
                done.cancel()
            if waiting.done():
                return waiting.result()
            waiting.cancel()
            return {"type": "http.disconnect"}

        scope["method"] = "GET"  # in place: the router records the route in this same scope
        try:
            await self.app(scope, receiving, sending)
        finally:
            scope["method"] = "HEAD"  # what the access log and the metrics record


async def _no_content(send: Send, allow: str) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": 204,
            "headers": [(b"allow", allow.encode())],
        }
    )
    await send({"type": "http.response.body", "body": b"", "more_body": False})
