"""Every status the app answers through the API tests is one its OpenAPI document promises.

The api fixtures route their requests through ``StatusRecorder``; after each test the (method,
route, status) it saw are checked against the committed document (``openapi/openapi.json``,
itself checked against the app by tests/test_openapi.py). A route
that answers a status it does not document (as ``POST /bureaus`` answered 200 when it appointed
a bureau again) fails whichever test made it answer so. Not checked: methods the document does
not list (HEAD, OPTIONS, and 405s: no operation), paths outside it (the web pages, routes a test
adds), and 5xx (an outage or a bug, which other tests catch)."""

from __future__ import annotations

import json
from functools import cache
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.api.http.access import route_template
from app.cli.openapi import OPENAPI_PATH


@cache
def documented_paths() -> dict[str, Any]:
    paths: dict[str, Any] = json.loads(OPENAPI_PATH.read_text(encoding="utf-8"))["paths"]
    return paths


class StatusRecorder:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.seen: list[tuple[str, str, int]] = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        status = 0

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            if scope["type"] == "http" and status:
                self.seen.append((scope["method"], route_template(scope), status))


def undocumented(seen: list[tuple[str, str, int]]) -> set[tuple[str, str, int]]:
    paths = documented_paths()
    found = set()
    for method, path, status in seen:
        operation = paths.get(path, {}).get(method.lower())
        if operation is None or status >= 500:
            continue
        if str(status) not in operation["responses"]:
            found.add((method, path, status))
    return found


def assert_documented(recorder: StatusRecorder) -> None:
    missing = undocumented(recorder.seen)
    assert not missing, f"statuses answered but not in the OpenAPI document: {sorted(missing)}"
