"""The files as they are sent: the validator (ETag, Last-Modified) read in the rows'
transaction, the rows written in chunks from a server-side cursor, and the streamed response
(304 when ``If-None-Match`` names its ETag)."""

from __future__ import annotations

import csv
import hashlib
import io
import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from email.utils import format_datetime
from typing import Any

import anyio
import asyncpg
from fastapi import Request
from fastapi.responses import Response
from starlette.types import Receive, Scope, Send

from app.api.routers.opendata.content import (
    _ROWS,
    FIELDS,
    LICENCE_URL,
    MEDIA_TYPES,
    Format,
    csv_values,
    description,
    row_values,
)
from app.domain.policies import BELGIUM, today
from app.services.registrations import RegistrationService

FORMAT_VERSION = 1  # bump when a column's meaning or the files' shape changes
FETCH = 500  # cursor rows per round trip
CHUNK_BYTES = 64 * 1024  # about this much is written to the client at a time

_VALIDATOR = """
    SELECT s.horizon::text AS horizon,
        (SELECT e.transaction_id::text || '/' || e.position FROM events e
            WHERE e.transaction_id < s.horizon
            ORDER BY e.transaction_id DESC, e.position DESC LIMIT 1) AS settled,
        (SELECT count(*) FROM events e WHERE e.transaction_id >= s.horizon) AS recent,
        (SELECT max(e.position) FROM events e WHERE e.transaction_id >= s.horizon) AS newest,
        (SELECT e.recorded_at FROM events e ORDER BY e.position DESC LIMIT 1) AS last_recorded
    FROM (SELECT pg_snapshot_xmin(pg_current_snapshot()) AS horizon) s
"""


@dataclass(frozen=True, slots=True)
class Validator:
    etag: str
    last_modified: datetime


async def validator(conn: asyncpg.Connection, day: date) -> Validator:
    """Where the register stands for ``day``, in ``conn``'s snapshot (module docstring)."""
    row = await conn.fetchrow(_VALIDATOR)
    assert row is not None
    recent = f"{row['recent']}:{row['newest']}" if row["recent"] else "0"
    seen = f"{FORMAT_VERSION}:{day.isoformat()}:{row['settled']}:{recent}"
    start_of_day = datetime.combine(day, time.min, BELGIUM)
    last = row["last_recorded"]
    modified = max(last, start_of_day) if last is not None else start_of_day
    return Validator(
        etag=f'W/"{hashlib.sha256(seen.encode()).hexdigest()[:32]}"',
        last_modified=modified.astimezone(UTC).replace(microsecond=0),
    )


def matches(if_none_match: str, etag: str) -> bool:
    """RFC 9110 weak comparison of ``If-None-Match`` against ``etag``."""
    if if_none_match.strip() == "*":
        return True
    bare = etag.removeprefix("W/")
    return any(t.strip().removeprefix("W/") == bare for t in if_none_match.split(","))


class _Chunks:
    """Text written in pieces, handed out about ``CHUNK_BYTES`` at a time."""

    def __init__(self) -> None:
        self.buffer = io.StringIO()

    def full(self) -> bool:
        return self.buffer.tell() >= CHUNK_BYTES

    def take(self) -> bytes:
        """What was written since the last take; the buffer is emptied in place (the CSV
        writer holds it)."""
        text = self.buffer.getvalue()
        self.buffer.seek(0)
        self.buffer.truncate()
        return text.encode()


async def _csv(conn: asyncpg.Connection, day: date, _base_url: str) -> AsyncIterator[bytes]:
    chunks = _Chunks()
    writer = csv.writer(chunks.buffer)  # RFC 4180: comma, double quotes, CRLF
    writer.writerow(FIELDS)
    async for record in conn.cursor(_ROWS, day, prefetch=FETCH):
        writer.writerow(csv_values(row_values(record)))
        if chunks.full():
            yield chunks.take()
    yield chunks.take()


async def _json(conn: asyncpg.Connection, day: date, base_url: str) -> AsyncIterator[bytes]:
    chunks = _Chunks()
    head = json.dumps(description(base_url, day), ensure_ascii=False)
    chunks.buffer.write(f'{{"dataset": {head},\n"registrations": [')
    first = True
    async for record in conn.cursor(_ROWS, day, prefetch=FETCH):
        chunks.buffer.write("\n" if first else ",\n")
        first = False
        chunks.buffer.write(json.dumps(row_values(record), ensure_ascii=False))
        if chunks.full():
            yield chunks.take()
    chunks.buffer.write("\n]}\n")
    yield chunks.take()


Writer = Callable[[asyncpg.Connection, date, str], AsyncIterator[bytes]]
WRITERS: dict[Format, Writer] = {Format.CSV: _csv, Format.JSON: _json}


def cache_control(max_age: int) -> str:
    """Shared caches may serve a stale copy while they revalidate, and a day-old one when the
    service cannot answer (RFC 5861); without ``max_age`` every use is revalidated (a cheap
    304)."""
    fresh = f"max-age={max_age}" if max_age > 0 else "no-cache"
    return f"public, {fresh}, stale-while-revalidate=60, stale-if-error=86400"


class OpenDataFile(Response):
    """The file, streamed from one REPEATABLE READ transaction; 304 when ``If-None-Match``
    names its ETag. Headers are sent only once the validator is read, in that transaction."""

    def __init__(self, request: Request, pg: Any, kind: Format) -> None:
        super().__init__()
        service: RegistrationService = request.app.state.service
        settings = request.app.state.settings
        self.pg = pg
        self.kind = kind
        self.day = today(service.clock.now())
        self.base_url = str(settings.public_base_url).rstrip("/")
        self.max_age = settings.open_data_max_age_seconds
        self.if_none_match = request.headers.get("if-none-match", "")

    def _file_headers(self, found: Validator) -> dict[str, str]:
        return {
            "ETag": found.etag,
            "Last-Modified": format_datetime(found.last_modified, usegmt=True),
            "Cache-Control": cache_control(self.max_age),
            "Vary": "Accept-Encoding",
            "Link": f'<{self.base_url}/public/dataset.jsonld>; rel="describedby"; '
            'type="application/ld+json", '
            f'<{LICENCE_URL}>; rel="license"',
        }

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async with (
            self.pg.connection(custom_plans=True) as conn,
            conn.transaction(isolation="repeatable_read", readonly=True),
        ):
            found = await validator(conn, self.day)
            headers = self._file_headers(found)
            if matches(self.if_none_match, found.etag):
                await _start(send, 304, headers)
                await send({"type": "http.response.body", "body": b""})
                return
            extension = self.kind.value
            headers["Content-Type"] = MEDIA_TYPES[self.kind]
            headers["Content-Disposition"] = (
                f'inline; filename="kmop-providers-{self.day.isoformat()}.{extension}"'
            )
            await self._stream(conn, scope, receive, send, headers)

    async def _stream(
        self,
        conn: asyncpg.Connection,
        scope: Scope,
        receive: Receive,
        send: Send,
        headers: dict[str, str],
    ) -> None:
        gone = anyio.Event()

        async def watch() -> None:
            """A client that leaves (or a HEAD, answered once the headers are out) stops the
            file at the next chunk; the database call in flight is never cancelled."""
            while (await receive())["type"] != "http.disconnect":
                pass
            gone.set()

        async with anyio.create_task_group() as tasks:
            tasks.start_soon(watch)
            try:
                await _start(send, 200, headers)
                async for chunk in WRITERS[self.kind](conn, self.day, self.base_url):
                    if gone.is_set():
                        break
                    await send({"type": "http.response.body", "body": chunk, "more_body": True})
                else:
                    await send({"type": "http.response.body", "body": b""})
            except OSError:
                pass  # the client went away mid-file (the ASGI server says so on send)
            finally:
                tasks.cancel_scope.cancel()


async def _start(send: Send, status: int, headers: dict[str, str]) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
        }
    )


_FILE_RESPONSES: dict[int | str, dict[str, Any]] = {
    304: {"description": "Not modified (If-None-Match)"},
}
