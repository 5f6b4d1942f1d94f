"""The request's correlation id: ``X-Request-ID`` as sent (when it is sane) or a new one,
echoed on the response and recorded in the metadata of every event the request causes."""

from __future__ import annotations

import re
import uuid

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.runtime.logs import request_id

HEADER = "X-Request-ID"
_SANE = re.compile(r"^[A-Za-z0-9._:/+=@-]{1,128}$")


class CorrelationMiddleware:
    """Pure ASGI (no BaseHTTPMiddleware): it must not buffer streamed responses."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        sent = next((v for k, v in scope["headers"] if k == b"x-request-id"), b"").decode("latin-1")
        rid = sent if _SANE.match(sent) else str(uuid.uuid4())
        token = request_id.set(rid)
        scope.setdefault("state", {})["request_id"] = rid

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                MutableHeaders(scope=message)[HEADER] = rid
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            request_id.reset(token)
