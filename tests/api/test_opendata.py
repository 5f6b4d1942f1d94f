"""The register as open data over HTTP (app/api/routers/opendata/): the CSV and JSON files read
by the
standard readers, one row per registration in force today with the public fields and nothing
else; their validators (ETag across events, late commits and midnight; HEAD); the DCAT-AP
description and its licence; gzip (never on the event stream) and CORS on the public routes."""

from __future__ import annotations

import csv
import gzip
import io
import json
import re
import uuid
from datetime import date, timedelta
from pathlib import Path

import asyncpg
import httpx
import pytest
from fastapi import FastAPI
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncEngine

from app.api.routers.opendata import FIELDS, LICENCE_URL
from app.api.routers.opendata import files as opendata_files
from app.main import create_app
from app.runtime.pg import asyncpg_dsn
from app.runtime.settings import Settings
from app.services.clock import FixedClock
from tests.api.support import AGENCY, at, ok
from tests.api.test_public import KIWA_KBO, VINCOTTE_KBO, ZUID_KBO
from tests.api.test_public import world as public_world

world = public_world  # the public search's world: four registrations in force, one not

IN_FORCE = ["DV.A000003", "DV.O000001", "DV.O000002", "DV.O000004"]  # the world's, by number


def fine(response: httpx.Response) -> httpx.Response:
    assert response.status_code == 200, response.text
    return response


async def csv_rows(api: httpx.AsyncClient) -> list[dict[str, str]]:
    answer = fine(await api.get("/public/providers.csv"))
    reader = csv.DictReader(io.StringIO(answer.text, newline=""))
    assert tuple(reader.fieldnames or ()) == FIELDS
    return list(reader)


async def test_the_csv_has_one_row_per_registration_in_force_with_the_public_fields(
    api: httpx.AsyncClient, world: dict[str, str]
) -> None:
    answer = await api.get("/public/providers.csv")
    assert answer.headers["content-type"] == "text/csv; charset=utf-8; header=present"
    rows = await csv_rows(api)
    # Noord is audited but not decided: not in force, not in the file.
    assert [row["registration_number"] for row in rows] == IN_FORCE
    vincotte = rows[1]
    assert vincotte == {
        "registration_number": "DV.O000001",
        "service_type": "opleiding",
        "status": "registered",
        "status_label": "geregistreerd",
        "valid_from": "2026-01-20",
        "valid_until": vincotte["valid_until"],
        "enterprise_number": VINCOTTE_KBO,
        "name": "Vinçotte Academy",
        "description": "Wij geven opleidingen over duurzaam ondernemen.",
        "website": "https://www.example.be",
        "themes": "duurzaamheid | innovatie",
        "locations": "Stationsstraat 1, 9000 Gent (oost_vlaanderen)"
        " | Stationsstraat 1, 8500 Kortrijk (west_vlaanderen)",
        "rating_average": "4.5",
        "rating_count": "2",
    }
    zuid = rows[3]  # registered, no profile, no rating
    assert (zuid["enterprise_number"], zuid["description"], zuid["locations"]) == (ZUID_KBO, "", "")
    assert (zuid["themes"], zuid["rating_average"], zuid["rating_count"]) == (
        "bedrijfsstrategie | innovatie",
        "",
        "0",
    )
    assert [r["enterprise_number"] for r in rows[:3]] == [KIWA_KBO, VINCOTTE_KBO, KIWA_KBO]


async def test_the_json_file_says_what_it_is_and_matches_the_public_pages(
    api: httpx.AsyncClient, world: dict[str, str]
) -> None:
    answer = fine(await api.get("/public/providers.json"))
    assert answer.headers["content-type"] == "application/json"
    document = json.loads(answer.content)
    assert set(document) == {"dataset", "registrations"}
    dataset = document["dataset"]
    assert dataset["licence"]["url"] == LICENCE_URL
    assert "Modellicentie Gratis Hergebruik" in dataset["licence"]["name"]
    assert dataset["in_force_on"] == "2026-02-01"
    assert [c["name"] for c in dataset["columns"]] == list(FIELDS)
    registrations = document["registrations"]
    assert [r["registration_number"] for r in registrations] == IN_FORCE
    assert all(tuple(r) == FIELDS for r in registrations)
    for row in registrations:  # the same as the public search's page of that provider
        page = ok(await api.get(f"/public/providers/{row['enterprise_number']}"))
        assert (row["name"], row["description"], row["website"]) == (
            page["name"],
            page["description"],
            page["website"],
        )
        assert row["themes"] == page["themes"]
        assert row["locations"] == page["locations"]
        numbered = {r["number"]: r for r in page["registrations"]}
        shown = numbered[row["registration_number"]]
        assert {k: row[k] for k in ("service_type", "status", "status_label")} == {
            k: shown[k] for k in ("service_type", "status", "status_label")
        }
        assert (row["valid_from"], row["valid_until"]) == (
            shown["valid_from"],
            shown["valid_until"],
        )
        rating = page["rating"] or {"average": None, "count": 0}
        assert (row["rating_average"], row["rating_count"]) == (rating["average"], rating["count"])
    # The CSV holds the same registrations.
    assert [r["registration_number"] for r in await csv_rows(api)] == IN_FORCE


async def test_a_file_written_in_many_chunks_holds_every_row(
    api: httpx.AsyncClient, world: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Rows are written to a buffer that is handed out and emptied chunk by chunk: with chunks
    smaller than a row, every row must still arrive once, in order."""
    whole = fine(await api.get("/public/providers.json")).json()
    monkeypatch.setattr(opendata_files, "CHUNK_BYTES", 100)
    assert [r["registration_number"] for r in await csv_rows(api)] == IN_FORCE
    assert fine(await api.get("/public/providers.json")).json() == whole


async def test_the_etag_holds_until_an_event_and_a_conditional_get_is_304(
    api: httpx.AsyncClient, world: dict[str, str]
) -> None:
    for url in ("/public/providers.csv", "/public/providers.json"):
        first = fine(await api.get(url))
        tag = first.headers["ETag"]
        assert first.headers["Last-Modified"].endswith(" GMT")
        assert "stale-if-error=86400" in first.headers["Cache-Control"]
        assert first.headers["Cache-Control"].startswith("public, no-cache")
        again = await api.get(url, headers={"If-None-Match": tag})
        assert (again.status_code, again.content, again.headers["ETag"]) == (304, b"", tag)
        assert (await api.get(url, headers={"If-None-Match": '"other"'})).status_code == 200
    tag = (await api.get("/public/providers.csv")).headers["ETag"]
    ok(await api.post("/registrations/DV.O000004/stop", json={"reason": "Stop"}, headers=AGENCY))
    changed = await api.get("/public/providers.csv", headers={"If-None-Match": tag})
    assert changed.status_code == 200
    assert changed.headers["ETag"] != tag
    assert "DV.O000004" not in changed.text


async def test_the_file_and_its_etag_change_at_midnight_without_any_event(
    api: httpx.AsyncClient, clock: FixedClock, world: dict[str, str]
) -> None:
    """A registration's validity ends with a day: the next day's file lacks it, though no event
    was recorded, so the day is part of the validator."""
    rows = await csv_rows(api)
    last_day = date.fromisoformat(rows[0]["valid_until"])
    clock.set(at(last_day, 22))  # 23:00 in Belgium: still that day
    evening = fine(await api.get("/public/providers.csv"))
    assert "DV.O000001" in evening.text
    clock.set(at(last_day + timedelta(days=1), 10))
    morning = await api.get(
        "/public/providers.csv", headers={"If-None-Match": evening.headers["ETag"]}
    )
    assert morning.status_code == 200
    assert morning.headers["ETag"] != evening.headers["ETag"]
    assert list(csv.reader(io.StringIO(morning.text))) == [list(FIELDS)]  # all ran out


async def test_a_late_commit_below_the_newest_position_changes_the_etag(
    api: httpx.AsyncClient, database_url: str, world: dict[str, str]
) -> None:
    """Positions are not given in commit order: an event whose transaction began first (lower
    position) and commits last must still change the ETag (the highest position does not)."""
    dsn = asyncpg_dsn(database_url)
    first, second = await asyncpg.connect(dsn), await asyncpg.connect(dsn)
    insert = (
        "INSERT INTO events (event_id, stream_id, stream_type, version, event_type,"
        " schema_version, data) VALUES ($1, $2, 'test', 1, 'TestNoted', 1, '{}')"
        " RETURNING position"
    )
    try:
        slow = first.transaction()
        await slow.start()
        low = await first.fetchval(insert, uuid.uuid4(), "late-1")
        high = await second.fetchval(insert, uuid.uuid4(), "late-2")  # autocommit
        assert high > low
        before = (await api.get("/public/providers.csv")).headers["ETag"]
        await slow.commit()
        after = await api.get("/public/providers.csv", headers={"If-None-Match": before})
        assert after.status_code == 200
        assert after.headers["ETag"] != before
    finally:
        await first.close()
        await second.close()


async def test_head_answers_the_get_s_headers_without_a_body(
    api: httpx.AsyncClient, world: dict[str, str]
) -> None:
    for url in ("/public/providers.csv", "/public/providers.json", "/public/dataset.jsonld"):
        got = await api.get(url, headers={"Accept-Encoding": "gzip"})
        head = await api.head(url, headers={"Accept-Encoding": "gzip"})
        assert head.status_code == 200
        assert head.content == b""
        for name in ("ETag", "Content-Type", "Cache-Control", "Content-Encoding", "Vary"):
            assert head.headers.get(name) == got.headers.get(name), (url, name)


async def test_the_dataset_is_described_in_dcat_ap_with_its_licence(
    api: httpx.AsyncClient,
) -> None:
    answer = fine(await api.get("/public/dataset.jsonld"))
    assert answer.headers["content-type"] == "application/ld+json"
    described = answer.json()
    assert described["@type"] == "dcat:Dataset"
    assert described["dct:license"]["@id"] == LICENCE_URL
    downloads = [d["dcat:downloadURL"]["@id"] for d in described["dcat:distribution"]]
    assert downloads == [
        "http://127.0.0.1:8000/public/providers.csv",
        "http://127.0.0.1:8000/public/providers.json",
    ]
    assert all(d["dct:license"]["@id"] == LICENCE_URL for d in described["dcat:distribution"])
    for column in FIELDS:
        assert column in described["dct:description"]["@value"]
    tag = answer.headers["ETag"]
    assert (
        await api.get("/public/dataset.jsonld", headers={"If-None-Match": tag})
    ).status_code == 304
    linked = await api.get("/public/providers.csv")
    assert 'rel="describedby"' in linked.headers["Link"]
    assert LICENCE_URL in linked.headers["Link"]


# --- gzip ----------------------------------------------------------------------------------


async def test_large_answers_are_gzipped_for_clients_that_ask_and_small_ones_are_not(
    api: httpx.AsyncClient, world: dict[str, str]
) -> None:
    plain = await api.get("/public/providers.json", headers={"Accept-Encoding": "identity"})
    assert "content-encoding" not in plain.headers
    zipped = await api.get("/public/providers.json", headers={"Accept-Encoding": "gzip"})
    assert zipped.headers["content-encoding"] == "gzip"
    assert zipped.content == plain.content  # httpx decoded it
    assert zipped.headers["vary"] == "Accept-Encoding"  # said once
    assert zipped.headers["ETag"] == plain.headers["ETag"]  # weak: the same representation
    small = await api.get("/healthz", headers={"Accept-Encoding": "gzip"})
    assert "content-encoding" not in small.headers


async def test_the_event_stream_is_never_gzipped(api: httpx.AsyncClient) -> None:
    """Compressing an event stream holds its events back; HEAD: the GET's headers."""
    answer = await api.head("/events/stream", headers={**AGENCY, "Accept-Encoding": "gzip"})
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/event-stream")
    assert "content-encoding" not in answer.headers


async def test_gzip_is_really_gzip(clocked_app: FastAPI, world: dict[str, str]) -> None:
    transport = httpx.ASGITransport(app=clocked_app)
    async with (
        httpx.AsyncClient(transport=transport, base_url="http://test") as raw,
        raw.stream("GET", "/public/providers.csv", headers={"Accept-Encoding": "gzip"}) as answer,
    ):
        body = b"".join([chunk async for chunk in answer.aiter_raw()])
    assert body[:2] == b"\x1f\x8b"
    assert gzip.decompress(body).decode().startswith(",".join(FIELDS))


# --- CORS ----------------------------------------------------------------------------------


async def test_public_routes_are_shared_with_any_origin_by_default(
    api: httpx.AsyncClient, world: dict[str, str]
) -> None:
    origin = {"Origin": "https://kaart.example.be"}
    answer = await api.get("/public/providers.csv", headers=origin)
    assert answer.headers["access-control-allow-origin"] == "*"
    exposed = answer.headers["access-control-expose-headers"].lower()
    assert "etag" in exposed
    assert "last-modified" in exposed
    preflight = await api.options(
        "/public/providers",
        headers={**origin, "Access-Control-Request-Method": "GET",
                 "Access-Control-Request-Headers": "if-none-match"},
    )  # fmt: skip
    assert preflight.status_code == 200
    assert "GET" in preflight.headers["access-control-allow-methods"]
    # Nothing else is shared: the agency's routes, a preflight for a method the public lacks.
    closed = await api.get("/registrations", headers={**AGENCY, **origin})
    assert "access-control-allow-origin" not in closed.headers
    post = await api.options(
        "/public/providers", headers={**origin, "Access-Control-Request-Method": "POST"}
    )
    assert post.status_code == 204
    assert "access-control-allow-origin" not in post.headers


async def test_configured_origins_alone_are_shared(engine: AsyncEngine) -> None:
    settings = Settings(environment="test", cors_origins="https://a.example.be, https://b.be:8443")
    app = create_app(settings, engine=engine)
    transport = httpx.ASGITransport(app=app)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            shared = await client.get("/public/options", headers={"Origin": "https://b.be:8443"})
            assert shared.headers["access-control-allow-origin"] == "https://b.be:8443"
            assert "origin" in shared.headers["vary"].lower()
            other = await client.get("/public/options", headers={"Origin": "https://evil.be"})
            assert other.status_code == 200
            assert "access-control-allow-origin" not in other.headers
    finally:
        await app.state.pg.close()


@pytest.mark.parametrize("origins", ["kaart.example.be", "https://a.be/path", "ftp://a.be"])
def test_a_malformed_origin_is_refused_at_start(origins: str) -> None:
    with pytest.raises(ValidationError, match="not an origin"):
        Settings(environment="test", cors_origins=origins)


def test_the_readme_documents_every_column_in_order() -> None:
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("Columns (the same names in both files") :]
    table = section[: section.index("\n\n", section.index("| column |"))]
    documented = [
        name
        for names in re.findall(r"^\| (`[a-z_]+`(?:, `[a-z_]+`)*) \|", table, re.MULTILINE)
        for name in re.findall(r"`([a-z_]+)`", names)
    ]
    assert tuple(documented) == FIELDS
