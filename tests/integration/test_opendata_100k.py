"""The open-data files at 100,000 providers, from a real `kmop serve`: they load with the standard
library's CSV and JSON readers, hold exactly the registrations in force today, and the server's
memory stays flat while it streams them (app/api/routers/opendata/).

The providers are the search benchmark's (``bench.search_data.make_profile``: names with
accents, Dutch descriptions, 1-3 locations, training, advice or both), written straight into
the projections the files read (``public_providers``, ``registrations``, ``provider_ratings``)
with COPY: the files read projections only, and making 100,000 providers' histories through
the deciders takes a quarter of an hour (BENCHMARKS.md) where this takes seconds. Three in ten
providers are not in force today (stopped; validity ran out yesterday, before the deadline job
noticed; valid from tomorrow): the files must leave them out.

Memory: the server's peak resident set (``VmHWM``, reset through ``/proc/<pid>/clear_refs``
once the server is warm) while a client downloads the CSV (gzip) and then the JSON, against the
files' sizes. A server that fetched the rows before writing them grows by about 100 MiB here.
"""

from __future__ import annotations

import csv
import json
import random
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest

from app.api.routers.opendata import FIELDS
from app.domain.policies import today
from app.domain.regions import province_of, region_key
from app.runtime.pg import asyncpg_dsn
from bench.search_data import enterprise_number, make_profile
from tests.integration.serving import Server, free_port, spawn_serve, wait_ready

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="reads /proc of the server")

PROVIDERS = 100_000
MiB = 1024 * 1024


def _rows(day: Any) -> Iterator[tuple[str, tuple[Any, ...], list[tuple[Any, ...]]]]:
    """Per provider: its kbo, its public_providers row, its registrations rows."""
    now = datetime.now(UTC)
    serial = 0
    for n in range(PROVIDERS):
        rng = random.Random(n)
        profile = make_profile(rng)
        kbo = str(enterprise_number(n))
        locations = [
            {**loc.model_dump(), "province": province_of(loc.postal_code).value}
            for loc in profile.locations
        ]
        regions = sorted(
            {loc["province"] for loc in locations}
            | {region_key(loc["municipality"]) for loc in locations}
            | {loc["postal_code"] for loc in locations}
        )
        public = (
            kbo, profile.name, profile.description, profile.website, list(profile.themes),
            list(profile.themes), json.dumps(locations, ensure_ascii=False), regions, 1, now,
        )  # fmt: skip
        units = []
        for service in profile.services:
            serial += 1
            number = f"DV.{'O' if service.value == 'opleiding' else 'A'}{serial:06d}"
            fate = n % 10
            status = "stopped" if fate == 3 else ("registered", "registered_conditionally",
                                                  "registered_starter")[n % 3]  # fmt: skip
            valid_from = day - timedelta(days=400 + n % 700)
            valid_until = valid_from + timedelta(days=1826)
            if fate == 6:  # ran out yesterday, before the deadline job noticed
                valid_until = day - timedelta(days=1)
            if fate == 9:  # decided for tomorrow
                valid_from = day + timedelta(days=1)
            units.append(
                (
                    f"{kbo}:-:{service.value}", kbo, service.value, profile.name, status,
                    serial, number, valid_from, valid_from, valid_until, 1, now, status,
                )
            )  # fmt: skip
        yield kbo, public, units


PUBLIC_COLUMNS = (
    "enterprise_number", "name", "description", "website", "application_themes",
    "profile_themes", "locations", "regions", "profile_version", "updated_at",
)  # fmt: skip
UNIT_COLUMNS = (
    "unit_key", "enterprise_number", "service_type", "provider_name", "status",
    "registration_serial", "registration_number", "first_registered_on", "valid_from",
    "valid_until", "stream_version", "updated_at", "registration_status",
)  # fmt: skip


async def load(database_url: str) -> set[str]:
    """The providers into the projections; the registration numbers in force today."""
    day = today(datetime.now(UTC))
    publics, units, ratings = [], [], []
    in_force: set[str] = set()
    for n, (kbo, public, unit_rows) in enumerate(_rows(day)):
        publics.append(public)
        units += unit_rows
        if n % 4 == 0:
            ratings.append((kbo, 1 + n % 7, 3 + n % 13))
        for unit in unit_rows:
            status, valid_from, valid_until = unit[4], unit[8], unit[9]
            if status != "stopped" and valid_from <= day <= valid_until:
                in_force.add(unit[6])
    conn = await asyncpg.connect(asyncpg_dsn(database_url))
    try:
        await conn.execute("SET synchronous_commit = off")
        await conn.copy_records_to_table(
            "public_providers", records=publics, columns=PUBLIC_COLUMNS
        )
        await conn.copy_records_to_table("registrations", records=units, columns=UNIT_COLUMNS)
        await conn.copy_records_to_table(
            "provider_ratings",
            records=[(kbo, count, count * 4 - (s % 3)) for kbo, count, s in ratings],
            columns=("enterprise_number", "rating_count", "rating_sum"),
        )
        await conn.execute("ANALYZE")
    finally:
        await conn.close()
    return in_force


def _status(pid: int) -> dict[str, int]:
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            fields[name] = int(value.split()[0]) * 1024
    return fields


def _reset_peak(pid: int) -> int:
    """The peak resident set starts again from the current one (Linux ``clear_refs`` 5)."""
    Path(f"/proc/{pid}/clear_refs").write_text("5")
    return _status(pid)["VmRSS"]


async def download(client: httpx.AsyncClient, url: str, to: Path, **headers: str) -> int:
    async with client.stream("GET", url, headers=headers) as answer:
        assert answer.status_code == 200
        size = 0
        with to.open("wb") as out:
            async for chunk in answer.aiter_bytes():
                out.write(chunk)
                size += len(chunk)
    return size


async def test_the_files_at_100k_providers_load_with_standard_readers_in_flat_memory(
    database_url: str, tmp_path: Path
) -> None:
    in_force = await load(database_url)
    assert len(in_force) > 80_000  # 70,000 providers, a fifth of them for both services
    port = free_port()
    process = await spawn_serve(port, KMOP_DATABASE_URL=database_url)
    server = Server(process)
    base = f"http://127.0.0.1:{port}"
    try:
        await wait_ready(f"{base}/readyz", server)
        async with httpx.AsyncClient(base_url=base, timeout=300) as client:
            # Warm, without touching the register: the pool of the public reads, the imports.
            # A big allocation now would stay in the process (freed memory is kept for reuse)
            # and hide what the downloads take.
            for path in ("/public/providers?limit=1", "/public/dataset.jsonld"):
                assert (await client.get(path)).status_code == 200
            before = _reset_peak(process.pid)
            growth: dict[str, int] = {}
            sizes: dict[str, int] = {}
            for name, encoding in (("csv", "gzip"), ("json", "identity")):
                sizes[name] = await download(
                    client, f"/public/providers.{name}", tmp_path / f"providers.{name}",
                    **{"Accept-Encoding": encoding},
                )  # fmt: skip
                growth[name] = _status(process.pid)["VmHWM"] - before  # since the warm-up
    finally:
        if process.returncode is None:
            process.terminate()
        await server.exited()

    with (tmp_path / "providers.csv").open(newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        assert tuple(reader.fieldnames or ()) == FIELDS
        numbers = [row["registration_number"] for row in reader]
    assert numbers == sorted(in_force)
    with (tmp_path / "providers.json").open(encoding="utf-8") as f:
        document = json.load(f)
    assert [r["registration_number"] for r in document["registrations"]] == sorted(in_force)

    report = {
        k: (f"{sizes[k] / MiB:.1f} MiB file", f"{growth[k] / MiB:.1f} MiB peak growth")
        for k in sizes
    }
    print(f"\nopen data at {PROVIDERS:,} providers, {len(in_force):,} rows: {report}")
    for name in sizes:
        assert sizes[name] > 30 * MiB, report  # the file is big enough for the bound to mean
        assert growth[name] < 16 * MiB, report  # flat: a fraction of what was sent
