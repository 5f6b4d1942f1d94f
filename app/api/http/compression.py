"""gzip for large answers (``KMOP_GZIP_MINIMUM_BYTES``), for clients that send
``Accept-Encoding: gzip``.

Starlette's ``GZipMiddleware`` compresses a streamed answer chunk by chunk (a sync flush after
each), so the open-data files stay streamed, and it never touches ``text/event-stream`` (the
event stream's events are not held back). It runs inside ``MethodsMiddleware`` so that a
``HEAD`` answers the headers its ``GET`` would (``Content-Encoding`` included). This wrapper
only keeps ``Vary`` tidy: a route that already says ``Vary: Accept-Encoding`` does not get it
twice.
"""

from __future__ import annotations

from starlette.middleware.gzip import GZipMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

COMPRESS_LEVEL = 6  # zlib's default: most of level 9's gain for a third of its CPU


class Compression:
    def __init__(self, app: ASGIApp, minimum_size: int) -> None:
        self.gzip = GZipMiddleware(app, minimum_size=minimum_size, compresslevel=COMPRESS_LEVEL)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.gzip.app(scope, receive, send)
            return

        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": _one_vary(message.get("headers", []))}
            await send(message)

        await self.gzip(scope, receive, sending)


def _one_vary(headers: list[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    values: list[str] = []
    others = []
    for key, value in headers:
        if key.lower() == b"vary":
            for item in value.decode("latin-1").split(","):
                if item.strip() and item.strip().lower() not in (v.lower() for v in values):
                    values.append(item.strip())
        else:
            others.append((key, value))
    return [*others, (b"vary", ", ".join(values).encode())] if values else others
