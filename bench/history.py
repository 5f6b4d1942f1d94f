"""A store of a given size, fast: realistic histories made by the deciders, COPYed in big batches.

``load_store(dsn, events, audits, today)`` fills a migrated, empty database with

* the audit bureaus and the providers of ``bench/search_data.py`` (every command of each unit's
  story decided in-process by the real deciders: application, sworn declaration, bureau chosen,
  audit planned, report with the norm's scores, decision, and for some a stop, an expiry or a
  profile), as many providers as it takes to reach ``events`` events;
* ``audits`` units that stop at a planned audit (visit a few days before ``today``), so that a
  benchmark can push their reports: their audit ids and bureaus are returned.

Rows are written with ``COPY`` in transactions of ``BATCH`` events, each with its hash chained
to the previous event of its stream exactly as ``EventStore.append`` does (``app.events.hashing``),
so the database is one the service could have written. The projections are left empty:
``rebuild_projections`` makes them all (what ``bench/rebuild.py`` times), or ``project`` only
those of the bureaus and the planned audits (what ``bench/commands.py`` needs).
"""

from __future__ import annotations

import json
import random
import sys
import time
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import asyncpg
from sqlalchemy.ext.asyncio import AsyncEngine

from app.domain.decider import (
    ChooseAuditBureau,
    Command,
    Context,
    PlanAudit,
    RecordSwornDeclaration,
    SubmitApplication,
    decide,
)
from app.domain.events import Track
from app.domain.identifiers import EnterpriseNumber, RegistrationUnit, ServiceType
from app.domain.registration import UnitState, evolve
from app.events import Actor, EventMetadata
from app.events.catalog import REGISTRY, UNIT_STREAM, unit_key_from_stream, unit_stream_id
from app.events.hashing import GENESIS, chain_hash, event_digest
from app.events.projections import Projected, Projector
from bench.search_data import AGENCY, BUREAUS, Append, bank_account, bureaus, provider_history

SEED = 20261125
BATCH = 50_000  # events per COPY transaction
COLUMNS = (
    "event_id",
    "stream_id",
    "stream_type",
    "version",
    "event_type",
    "schema_version",
    "data",
    "metadata",
    "recorded_at",
    "previous_hash",
    "hash",
)


def enterprise_number(n: int) -> EnterpriseNumber:
    """The n-th made-up, valid enterprise number of this benchmark (0600.000.0xx, ...), apart
    from those of ``bench/search_data.py`` (0500...)."""
    return EnterpriseNumber.with_check_digits(6_000_000 + n)


@dataclass(frozen=True, slots=True)
class PlannedAudit:
    audit_id: str
    bureau_id: str
    unit: RegistrationUnit
    visit: date


@dataclass
class Loaded:
    events: int = 0
    providers: int = 0
    seconds: float = 0.0
    audits: list[PlannedAudit] = field(default_factory=list)
    own: list[Append] = field(default_factory=list)  # the bureaus' and the planned audits'


def planned_audit(n: int, today: date, context: Context) -> tuple[list[Append], PlannedAudit]:
    """A unit that applied two weeks ago and whose audit visit was three days ago."""
    kbo = enterprise_number(n)
    unit = RegistrationUnit(kbo, ServiceType.TRAINING)
    bureau = BUREAUS[n % len(BUREAUS)].bureau_id
    application_id, audit_id = f"application-bench-{n}", f"audit-bench-{n}"
    provider = Actor(id=f"provider-{kbo}", role="provider")
    bureau_actor = Actor(id=f"{bureau}-software", role="bureau")
    visit = today - timedelta(days=3)
    steps: list[tuple[Command, int, Actor]] = [
        (
            SubmitApplication(
                application_id=application_id,
                unit=unit,
                provider_name=f"Opleidingen Benchmark {n}",
                bank_account=bank_account(random.Random(n)),
                activities="Opleidingen digitale vaardigheden voor kmo's",
                themes=("digitalisering",),
                track=Track.BASIC,
            ),
            14,
            provider,
        ),
        (RecordSwornDeclaration(application_id), 13, AGENCY),
        (ChooseAuditBureau(audit_id, bureau), 12, provider),
        (PlanAudit(audit_id, bureau, visit, Decimal(6)), 11, bureau_actor),
    ]
    state, version, appends = UnitState(), 0, []
    stream = unit_stream_id(unit.key)
    for command, days_ago, actor in steps:
        at = datetime.combine(today - timedelta(days=days_ago), datetime.min.time(), UTC)
        at += timedelta(hours=9, seconds=n % 3600)
        events = tuple(decide(command, state, at, context))
        for event in events:
            state = evolve(state, event)
        metadata = EventMetadata(actor=actor, correlation_id="bench-commands")
        appends.append(Append(stream, UNIT_STREAM, version, events, metadata, at))
        version += len(events)
    return appends, PlannedAudit(audit_id, bureau, unit, visit)


async def project(engine: AsyncEngine, appends: Iterable[Append]) -> None:
    """Project only these appends (in their order): the rows a benchmark's commands touch,
    without replaying the whole store (``bench/rebuild.py`` times that)."""
    units: dict[str, UnitState] = {}
    async with engine.begin() as conn:
        projector = Projector()
        for append in appends:
            for n, event in enumerate(append.events, start=1):
                unit = None
                if append.stream_type == UNIT_STREAM:
                    key = unit_key_from_stream(append.stream_id)
                    units[key] = evolve(units.get(key, UnitState()), event)
                    unit = (key, units[key])
                item = Projected(
                    append.stream_id, append.expected_version + n, event, append.recorded_at
                )
                await projector.apply(conn, item, unit)


class Rows:
    """Appends turned into ``events`` rows, hash-chained per stream."""

    def __init__(self) -> None:
        self.heads: dict[str, bytes] = {}

    def of(self, appends: Iterable[Append]) -> Iterator[tuple[Any, ...]]:
        for append in appends:
            meta_json = append.metadata.model_dump_json(exclude_none=True)
            meta = json.loads(meta_json)
            previous = self.heads.get(append.stream_id, GENESIS)
            for n, event in enumerate(append.events, start=1):
                event_type, schema_version, data = REGISTRY.serialize(event)
                event_id, version = uuid.uuid4(), append.expected_version + n
                digest = event_digest(
                    event_id=event_id,
                    stream_id=append.stream_id,
                    stream_type=append.stream_type,
                    version=version,
                    event_type=event_type,
                    schema_version=schema_version,
                    data=data,
                    metadata=meta,
                    recorded_at=append.recorded_at,
                )
                current = chain_hash(previous, digest)
                yield (
                    event_id,
                    append.stream_id,
                    append.stream_type,
                    version,
                    event_type,
                    schema_version,
                    json.dumps(data, separators=(",", ":"), ensure_ascii=False),
                    meta_json,
                    append.recorded_at,
                    previous,
                    current,
                )
                previous = current
            self.heads[append.stream_id] = previous


async def _copy(conn: asyncpg.Connection, rows: list[tuple[Any, ...]]) -> None:
    async with conn.transaction():
        await conn.copy_records_to_table("events", records=rows, columns=COLUMNS)


async def load_store(dsn: str, events: int, audits: int, today: date) -> Loaded:
    """Write about ``events`` events (at least the bureaus and the planned audits)."""
    started = time.perf_counter()
    loaded = Loaded()
    bureau_appends, context = bureaus(datetime(2019, 1, 2, 9, tzinfo=UTC))
    rows, pending = Rows(), list[tuple[Any, ...]]()
    conn = await asyncpg.connect(dsn)
    try:
        loaded.own += bureau_appends
        for n in range(audits):
            appends, audit = planned_audit(n, today, context)
            loaded.own += appends
            loaded.audits.append(audit)
        pending += rows.of(loaded.own)
        while loaded.events + len(pending) < events:
            history = provider_history(loaded.providers, SEED, today, context)
            loaded.providers += 1
            pending += rows.of(history.appends)
            if len(pending) >= BATCH:
                await _copy(conn, pending)
                loaded.events += len(pending)
                pending = []
                rate = loaded.events / (time.perf_counter() - started)
                print(f"\r  {loaded.events:,} events ({rate:,.0f}/s)", end="", file=sys.stderr)
        if pending:
            await _copy(conn, pending)
            loaded.events += len(pending)
        await conn.execute("ANALYZE")
    finally:
        await conn.close()
    print(file=sys.stderr)
    loaded.seconds = time.perf_counter() - started
    return loaded
