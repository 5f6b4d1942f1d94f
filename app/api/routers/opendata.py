"""The public register as open data: every registration in force today as one CSV or JSON file
(``/public/providers.csv``, ``/public/providers.json``), described in DCAT-AP
(``/public/dataset.jsonld``) under the Flemish Modellicentie Gratis Hergebruik.

One row per registration in force today (a provider registered for training and advice has two
rows), with the fields the public search shows (``search.PUBLIC_STATUS``, ``search.IN_FORCE``):
nothing else. The column names are stable (``COLUMNS``; README, "Open data"): a new column is
added at the end, none is renamed or removed.

**Streaming.** A file is written while it is read: one connection of the public search's pool
(``PublicPgDep``: the replica when KMOP_READ_DATABASE_URL is set;
``connection(custom_plans=True)``), one read-only REPEATABLE READ transaction, a
server-side cursor read ``FETCH`` rows at a time and sent in chunks of about ``CHUNK_BYTES``, so
the server's memory does not grow with the register (tests/api/test_opendata_100k.py measures
it). The validator is read in the same transaction as the rows, so the ETag names exactly the
rows sent.

**Validator.** ``ETag`` = a hash of the format version, the day (a registration leaves the file
at midnight when its validity ends: "in force today" changes with the date even when no event
is recorded) and where the event log stands in this transaction's snapshot. Event positions
are not given in commit order, so "the highest position" alone could stay the same while an
earlier position commits late. The feed's order, (transaction_id, position), is safe below the
snapshot's ``xmin``: every transaction below it has ended, so the events below it are a prefix
of that order that no later commit can enter, named by its last event ("settled"). Above
``xmin``, the events this snapshot sees are counted (that set only grows while the settled
prefix stays; usually it is empty). All are short index reads (``events_read_all_idx``, the
primary key). Any recorded event changes the ETag, and nothing else does except, briefly,
an event passing from the counted set into the settled prefix (a cache then fetches a file
that did not change, never keeps one that did). ``xmin`` itself, which any write in the
cluster moves, is not part of it.

``Last-Modified`` is the later of the last event's ``recorded_at`` and the day's start in
Belgium; it is informational: ``recorded_at`` is when the writing transaction began, not when
it committed, so ``If-Modified-Since`` is not evaluated (RFC 9110 lets a server ignore it; a
cache that stored an ETag sends ``If-None-Match``).
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from email.utils import format_datetime
from enum import Enum
from typing import Any

import anyio
import asyncpg
from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.types import Receive, Scope, Send

from app.api.http.deps import PublicPgDep
from app.api.queries import search
from app.domain.policies import BELGIUM, today
from app.services.registrations import RegistrationService

router = APIRouter(prefix="/public", tags=["public"])

FORMAT_VERSION = 1  # bump when a column's meaning or the files' shape changes
FETCH = 500  # cursor rows per round trip
CHUNK_BYTES = 64 * 1024  # about this much is written to the client at a time

LICENCE_NAME = "Modellicentie Gratis Hergebruik v1.0 (Vlaamse overheid)"
LICENCE_URL = (
    "https://overheid.vlaanderen.be/sites/default/files/documenten/ict-egov/licenties/"
    "hergebruik/modellicentie_gratis_hergebruik_v1_0.html"
)
ATTRIBUTION = "Bron: register van de dienstverleners van de kmo-portefeuille (VLAIO)"
TITLE = "Geregistreerde dienstverleners kmo-portefeuille"
PUBLISHER = "Agentschap Innoveren & Ondernemen (VLAIO)"


@dataclass(frozen=True, slots=True)
class Column:
    name: str
    description: str


# The files' columns, in order; the README's table lists them (tests/api/test_opendata.py).
COLUMNS: tuple[Column, ...] = (
    Column("registration_number", "DV.O (training) or DV.A (advice) and six digits"),
    Column("service_type", "opleiding or advies"),
    Column("status", "registered, registered_conditionally or registered_starter"),
    Column("status_label", "the status in Dutch words"),
    Column("valid_from", "first day of the registration's validity (YYYY-MM-DD)"),
    Column("valid_until", "last day of its validity (YYYY-MM-DD)"),
    Column("enterprise_number", "the provider's Belgian enterprise number, 10 digits"),
    Column("name", "the provider's name"),
    Column("description", "the provider's own description; empty when none"),
    Column("website", "empty when none"),
    Column("themes", "eligible themes; CSV: separated by ' | '"),
    Column(
        "locations",
        "CSV: 'street, postal_code municipality (province)' separated by ' | '; "
        "JSON: objects with name, street, postal_code, municipality, province",
    ),
    Column("rating_average", "average client rating, 1 to 5, one decimal; empty when none"),
    Column("rating_count", "how many ratings; 0 when none"),
)
FIELDS = tuple(column.name for column in COLUMNS)
SEPARATOR = " | "

_ROWS = f"""
    SELECT r.registration_number, r.service_type, r.status, r.valid_from, r.valid_until,
        p.enterprise_number, p.name, p.description, p.website, p.themes, p.locations,
        pr.rating_count, pr.rating_sum
    FROM registrations r
    JOIN public_providers p ON p.enterprise_number = r.enterprise_number
    LEFT JOIN provider_ratings pr ON pr.enterprise_number = r.enterprise_number
    WHERE {search._IN_FORCE_SQL.replace(":today", "$1")}
        AND r.registration_number IS NOT NULL
    ORDER BY r.registration_number
"""

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


class Format(Enum):
    CSV = "csv"
    JSON = "json"


MEDIA_TYPES = {
    Format.CSV: "text/csv; charset=utf-8; header=present",
    Format.JSON: "application/json",
}


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


def row_values(record: Any) -> dict[str, Any]:
    """A row in the public's words, for JSON (lists and objects kept)."""
    count = record["rating_count"] or 0
    status, label = search.PUBLIC_STATUS[record["status"]]
    locations = record["locations"]
    if isinstance(locations, str):
        locations = json.loads(locations)
    return {
        "registration_number": record["registration_number"],
        "service_type": record["service_type"],
        "status": status,
        "status_label": label,
        "valid_from": record["valid_from"].isoformat(),
        "valid_until": record["valid_until"].isoformat(),
        "enterprise_number": record["enterprise_number"],
        "name": record["name"],
        "description": record["description"],
        "website": record["website"],
        "themes": list(record["themes"] or ()),
        "locations": [
            {
                "name": location.get("name"),
                "street": location["street"],
                "postal_code": location["postal_code"],
                "municipality": location["municipality"],
                "province": location["province"],
            }
            for location in locations
        ],
        "rating_average": round(record["rating_sum"] / count, 1) if count else None,
        "rating_count": count,
    }


def _location_text(location: dict[str, Any]) -> str:
    place = f"{location['street']}, {location['postal_code']} {location['municipality']}"
    named = f"{location['name']}: {place}" if location.get("name") else place
    return f"{named} ({location['province']})"


def csv_values(values: dict[str, Any]) -> list[Any]:
    flat = {
        **values,
        "themes": SEPARATOR.join(values["themes"]),
        "locations": SEPARATOR.join(_location_text(loc) for loc in values["locations"]),
    }
    return ["" if flat[name] is None else flat[name] for name in FIELDS]


def description(base_url: str, day: date) -> dict[str, Any]:
    """What the JSON file says of itself (its ``dataset`` member)."""
    return {
        "title": TITLE,
        "in_force_on": day.isoformat(),
        "licence": {"name": LICENCE_NAME, "url": LICENCE_URL, "attribution": ATTRIBUTION},
        "description": f"{base_url}/public/dataset.jsonld",
        "columns": [{"name": c.name, "description": c.description} for c in COLUMNS],
    }


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


@router.get(
    "/providers.csv",
    response_class=Response,
    responses={
        200: {
            "description": "Every registration in force today, one row each (README, "
            '"Open data"); streamed',
            "content": {"text/csv": {"schema": {"type": "string"}}},
        },
        **_FILE_RESPONSES,
    },
    summary="The register as open data: CSV",
)
async def open_data_csv(request: Request, pg: PublicPgDep) -> Response:
    return OpenDataFile(request, pg, Format.CSV)


@router.get(
    "/providers.json",
    response_class=Response,
    responses={
        200: {
            "description": "Every registration in force today: {dataset, registrations}; streamed",
            "content": {"application/json": {"schema": {"type": "object"}}},
        },
        **_FILE_RESPONSES,
    },
    summary="The register as open data: JSON",
)
async def open_data_json(request: Request, pg: PublicPgDep) -> Response:
    return OpenDataFile(request, pg, Format.JSON)


def dataset(base_url: str) -> dict[str, Any]:
    """The dataset in DCAT-AP (JSON-LD): what it is, who publishes it, under which licence,
    and its two distributions."""
    licence = {"@id": LICENCE_URL, "@type": "dct:LicenseDocument", "dct:title": LICENCE_NAME}
    columns = "; ".join(f"{c.name}: {c.description}" for c in COLUMNS)

    def distribution(kind: Format, media: str, title: str) -> dict[str, Any]:
        url = f"{base_url}/public/providers.{kind.value}"
        return {
            "@id": url,
            "@type": "dcat:Distribution",
            "dct:title": title,
            "dcat:accessURL": {"@id": url},
            "dcat:downloadURL": {"@id": url},
            "dcat:mediaType": {"@id": f"https://www.iana.org/assignments/media-types/{media}"},
            "dct:format": {
                "@id": f"http://publications.europa.eu/resource/authority/file-type/{kind.name}"
            },
            "dct:license": licence,
        }

    return {
        "@context": {
            "dcat": "http://www.w3.org/ns/dcat#",
            "dct": "http://purl.org/dc/terms/",
            "foaf": "http://xmlns.com/foaf/0.1/",
        },
        "@id": f"{base_url}/public/dataset.jsonld",
        "@type": "dcat:Dataset",
        "dct:title": {"@value": TITLE, "@language": "nl"},
        "dct:description": {
            "@value": "Alle registraties van dienstverleners voor de kmo-portefeuille die "
            "vandaag geldig zijn, één rij per registratie, met wat de publieke zoekmodule "
            f"toont. Kolommen: {columns}.",
            "@language": "nl",
        },
        "dct:publisher": {"@type": "foaf:Agent", "foaf:name": PUBLISHER},
        "dct:license": licence,
        "dct:rights": {"@value": ATTRIBUTION, "@language": "nl"},
        "dct:language": {"@id": "http://publications.europa.eu/resource/authority/language/NLD"},
        "dct:accrualPeriodicity": {
            "@id": "http://publications.europa.eu/resource/authority/frequency/CONT"
        },
        "dcat:theme": {"@id": "http://publications.europa.eu/resource/authority/data-theme/ECON"},
        "dcat:keyword": ["kmo-portefeuille", "dienstverleners", "opleiding", "advies"],
        "dcat:landingPage": {"@id": f"{base_url}/"},
        "dcat:distribution": [
            distribution(Format.CSV, "text/csv", "CSV (RFC 4180, UTF-8, header row)"),
            distribution(Format.JSON, "application/json", "JSON: {dataset, registrations}"),
        ],
    }


@router.get(
    "/dataset.jsonld",
    response_class=Response,
    responses={
        200: {
            "description": "The dataset's description in DCAT-AP: title, publisher, licence "
            "(Modellicentie Gratis Hergebruik), distributions",
            "content": {"application/ld+json": {"schema": {"type": "object"}}},
        },
        304: {"description": "Not modified (If-None-Match)"},
    },
    summary="The open data's description (DCAT-AP, JSON-LD)",
)
async def open_data_description(request: Request) -> Response:
    settings = request.app.state.settings
    content = json.dumps(
        dataset(str(settings.public_base_url).rstrip("/")), ensure_ascii=False, indent=1
    ).encode()
    tag = f'W/"{hashlib.sha256(content).hexdigest()[:32]}"'
    headers = {
        "ETag": tag,
        "Cache-Control": cache_control(settings.open_data_max_age_seconds),
        "Vary": "Accept-Encoding",
    }
    if matches(request.headers.get("if-none-match", ""), tag):
        return Response(status_code=304, headers=headers)
    return Response(content, media_type="application/ld+json", headers=headers)
