"""Bounds on what a request may send, checked before anything reads it.

A pure ASGI middleware, so that an oversized body is refused while it streams in, never held in
memory whole:

* a body larger than ``KMOP_MAX_BODY_BYTES`` gets 413 ``body-too-large``: at once when its
  ``Content-Length`` says so, else as soon as the bytes received pass the bound;
* a body that is not JSON (``Content-Type`` other than ``application/json`` or ``…+json``) gets
  415 ``unsupported-media-type``: every request body of this API is JSON.
"""

from __future__ import annotations

from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.api.http.problems import problem_response

DEFAULT_MAX_BODY_BYTES = 1_048_576


def _is_json(content_type: str) -> bool:
    media = content_type.split(";", 1)[0].strip().lower()
    return media == "application/json" or (
        media.startswith("application/") and media.endswith("+json")
    )


class BodyLimitMiddleware:
    def __init__(self, app: ASGIApp, max_body_bytes: int = DEFAULT_MAX_BODY_BYTES) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS", "DELETE"):
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        length = headers.get("content-length")
        if length is not None and length.strip().isdigit():
            declared = int(length)
            if declared > self.max_body_bytes:
                await self._refuse_size(scope, receive, send)
                return
            if declared > 0 and not _is_json(headers.get("content-type", "")):
                await self._refuse_type(scope, receive, send, headers.get("content-type"))
                return
        elif "transfer-encoding" in headers and not _is_json(headers.get("content-type", "")):
            await self._refuse_type(scope, receive, send, headers.get("content-type"))
            return

        # Read the body here, up to the bound (so memory stays bounded), then hand it on.
        chunks: list[bytes] = []
        received = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                await self.app(scope, _replay([], message, receive), send)
                return
            chunk = message.get("body", b"")
            received += len(chunk)
            if received > self.max_body_bytes:
                await self._refuse_size(scope, receive, send)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        await self.app(scope, _replay(chunks, None, receive), send)

    async def _refuse_size(self, scope: Scope, receive: Receive, send: Send) -> None:
        detail = f"the request body is larger than {self.max_body_bytes} bytes"
        await _refuse(scope, receive, send, 413, "body-too-large", detail)

    async def _refuse_type(
        self, scope: Scope, receive: Receive, send: Send, content_type: Any
    ) -> None:
        detail = f"request bodies are JSON (Content-Type: application/json), not {content_type!r}"
        await _refuse(scope, receive, send, 415, "unsupported-media-type", detail)


_TITLES = {413: "Request body too large", 415: "Unsupported media type"}


async def _refuse(
    scope: Scope, receive: Receive, send: Send, status: int, code: str, detail: str
) -> None:
    response = problem_response(
        status, code, detail, title=_TITLES[status], instance=scope.get("path")
    )
    await response(scope, receive, send)


def _replay(chunks: list[bytes], pending: Message | None, receive: Receive) -> Receive:
    """A ``receive`` that gives the body read so far as one message, then the real one's."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            if pending is not None:
                return pending
            return {"type": "http.request", "body": b"".join(chunks), "more_body": False}
        return await receive()

    return replay
