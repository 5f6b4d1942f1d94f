"""A rebuild is built beside the live tables and swapped in: commands go on meanwhile.

* On a database that has only its events (the projections emptied, as after a restore), the
  rebuild writes the rows live projection wrote, numbers included.
* With commands running all along (new units registered, so numbering too), every command
  succeeds; those issued while the new tables are built complete before the rebuild goes on
  (the build holds no lock they need); afterwards the projections equal a fresh fold of the
  events (``check_projections``) and the numbers follow the global order without a gap.
* The schema after a rebuild is the schema the migrations made (columns, defaults, indexes,
  constraints, triggers, owner, privileges, options): the next migration cannot silently
  diverge from what a rebuild makes.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from app.domain.decider import RecordDecision
from app.domain.identifiers import EnterpriseNumber, RegistrationUnit, ServiceType
from app.events.bulk import PRIMARY_KEYS
from app.events.projection_check import check_projections
from app.events.projections import PROJECTION_TABLES
from app.events.rebuild import REPLACED, SCHEMA, rebuild_projections
from app.services.clock import FixedClock
from app.services.registrations import RegistrationService
from tests.integration.scenarios import build_plan
from tests.integration.test_rebuild import (
    NUMBER_BASE,
    SEED,
    differences,
    run_history,
    snapshot,
)
from tests.integration.test_service import AGENCY, prepare

Catalog = dict[str, Any]


async def test_rebuild_of_a_database_with_only_its_events_gives_the_live_rows(
    engine: AsyncEngine,
) -> None:
    service, _ = await run_history(engine, build_plan(SEED + 2, size=270))
    live = await snapshot(engine)
    async with engine.begin() as conn:
        events = int(await conn.scalar(text("SELECT count(*) FROM events")) or 0)
        await conn.execute(text(f"TRUNCATE {', '.join(PROJECTION_TABLES)}"))
        await conn.execute(text(f"ANALYZE {', '.join(PROJECTION_TABLES)}"))  # empty statistics

    report = await rebuild_projections(engine, service.projector)

    assert events > 2000  # a few thousand
    assert report.events == events
    assert await snapshot(engine) == live, differences(live, await snapshot(engine))
    assert (await check_projections(engine, service.projector)).equal


def new_unit(n: int) -> RegistrationUnit:
    return RegistrationUnit(EnterpriseNumber.with_check_digits(7_000_000 + n), ServiceType.TRAINING)


async def test_commands_go_on_during_a_rebuild_and_nothing_is_lost_or_counted_twice(
    engine: AsyncEngine,
) -> None:
    service, _ = await run_history(engine, build_plan(SEED + 3, size=40))
    clock = FixedClock(datetime(2026, 2, 2, 9, tzinfo=UTC))
    live = RegistrationService(engine, clock=clock, projector=service.projector)
    # the history appointed "kiwa" (BUREAU_ID) in 2019, for good
    done: list[str] = []

    async def register(n: int) -> None:
        unit = new_unit(n)
        await prepare(live, clock, unit, f"online-{n}")
        decision = RecordDecision(f"app-online-{n}", granted=True, decision_date=clock.now().date())
        await live.execute(unit.key, decision, AGENCY)
        done.append(unit.key)

    during_build: list[str] = []

    async def phase(name: str) -> None:
        if name == "built":  # the new tables are written; the live ones still serve commands
            # units n = 2 (mod 3): the two background writers take n = 0 and n = 1 (mod 3), so
            # however far they get while the tables are built, no unit is registered twice
            await asyncio.gather(*(register(n) for n in range(2, 14, 3)))
            during_build.extend(done[-4:])

    stop = asyncio.Event()

    async def keep_registering(first: int) -> int:
        count = 0
        while not stop.is_set():
            await register(first + 3 * count)
            count += 1
        return count

    background = [asyncio.create_task(keep_registering(first)) for first in (0, 1)]
    await asyncio.sleep(0)
    try:
        await rebuild_projections(engine, service.projector, phase=phase)
    finally:
        stop.set()
        registered_alongside = await asyncio.gather(*background)  # a failed command raises

    assert len(during_build) == 4
    assert sum(registered_alongside) >= 2
    check = await check_projections(engine, service.projector)
    assert check.equal, [str(difference) for difference in check.shown]
    async with engine.connect() as conn:
        numbers = (
            await conn.execute(
                text(
                    "SELECT r.unit_key, r.registration_serial FROM events e"
                    " JOIN registrations r ON e.stream_id = 'unit:' || r.unit_key"
                    " WHERE e.event_type = 'RegistrationGranted' AND e.version = ("
                    "   SELECT min(version) FROM events f WHERE f.stream_id = e.stream_id"
                    "   AND f.event_type = 'RegistrationGranted')"
                    " ORDER BY e.transaction_id, e.position"
                )
            )
        ).all()
        schemas = await conn.scalar(
            text("SELECT count(*) FROM pg_namespace WHERE nspname IN (:a, :b)"),
            {"a": SCHEMA, "b": REPLACED},
        )
    assert {key for key, _ in numbers} >= set(done)
    assert [serial for _, serial in numbers] == list(range(NUMBER_BASE, NUMBER_BASE + len(numbers)))
    assert schemas == 0


_CATALOG = {
    "table": """
        SELECT c.relkind, c.relpersistence, c.reloptions, c.relacl::text,
               pg_get_userbyid(c.relowner), c.relreplident, c.relrowsecurity,
               obj_description(c.oid, 'pg_class'), c.relnamespace::regnamespace::text
        FROM pg_class c WHERE c.oid = CAST(:t AS regclass)
    """,
    "columns": """
        SELECT a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull,
               pg_get_expr(d.adbin, d.adrelid), a.attgenerated, a.attidentity,
               a.attcollation, a.attstorage, a.attcompression, a.attacl::text,
               col_description(a.attrelid, a.attnum)
        FROM pg_attribute a LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
        WHERE a.attrelid = CAST(:t AS regclass) AND a.attnum > 0 AND NOT a.attisdropped
        ORDER BY a.attnum
    """,
    "indexes": """
        SELECT c.relname, pg_get_indexdef(i.indexrelid), i.indisprimary, i.indisunique,
               i.indisreplident, c.reloptions
        FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
        WHERE i.indrelid = CAST(:t AS regclass) ORDER BY c.relname
    """,
    "constraints": """
        SELECT conname, contype, pg_get_constraintdef(oid), condeferrable, condeferred
        FROM pg_constraint WHERE conrelid = CAST(:t AS regclass) ORDER BY conname
    """,
    "triggers": """
        SELECT tgname, pg_get_triggerdef(oid), tgenabled FROM pg_trigger
        WHERE tgrelid = CAST(:t AS regclass) AND NOT tgisinternal ORDER BY tgname
    """,
    "policies": "SELECT polname FROM pg_policy WHERE polrelid = CAST(:t AS regclass)",
}


async def catalog(engine: AsyncEngine) -> Catalog:
    """What pg_catalog says of every projection table."""
    found: Catalog = {}
    async with engine.connect() as conn:
        for table in PROJECTION_TABLES:
            for what, sql in _CATALOG.items():
                rows = (await conn.execute(text(sql), {"t": table})).all()
                found[f"{table} {what}"] = [tuple(row) for row in rows]
    return found


async def test_an_unlogged_table_and_a_trigger_set_always_stay_so_after_a_rebuild(
    engine: AsyncEngine,
) -> None:
    """PostgreSQL's one-letter catalog columns ("char") reach the rebuild as bytes unless cast:
    compared with text they never matched, so an UNLOGGED table came back logged and a trigger
    set to fire ALWAYS came back as an ordinary one."""
    service, _ = await run_history(engine, build_plan(SEED + 7, size=10))
    async with engine.begin() as conn:
        await conn.execute(text("ALTER TABLE bureaus SET UNLOGGED"))
        await conn.execute(
            text(
                "ALTER TABLE public_providers ENABLE ALWAYS TRIGGER public_providers_search_columns"
            )
        )
    migrated = await catalog(engine)
    assert migrated["bureaus table"][0][1] == b"u"  # "char" comes as bytes
    assert [row[2] for row in migrated["public_providers triggers"]] == [b"A"]
    live = await snapshot(engine)

    await rebuild_projections(engine, service.projector)

    assert await catalog(engine) == migrated
    assert await snapshot(engine) == live


async def test_the_schema_after_a_rebuild_is_the_schema_the_migrations_made(
    engine: AsyncEngine,
) -> None:
    service, _ = await run_history(engine, build_plan(SEED + 4, size=10))
    async with engine.begin() as conn:  # what an operator may have added to the live tables
        await conn.execute(text("GRANT SELECT ON public_providers TO PUBLIC"))
        await conn.execute(text("ALTER TABLE audits SET (fillfactor = 90)"))
        await conn.execute(text("COMMENT ON TABLE bureaus IS 'appointed audit bureaus'"))
    migrated = await catalog(engine)

    await rebuild_projections(engine, service.projector)

    rebuilt = await catalog(engine)
    assert rebuilt == migrated, {
        k: (migrated[k], rebuilt[k]) for k in migrated if rebuilt[k] != migrated[k]
    }
    assert migrated["public_providers triggers"], "the search columns' trigger is there"
    async with engine.connect() as conn:  # the keys the fold in memory files rows by
        for table, key in PRIMARY_KEYS.items():
            found = await conn.scalar(
                text(
                    "SELECT a.attname FROM pg_index i JOIN pg_attribute a ON a.attrelid ="
                    " i.indrelid AND a.attnum = ANY(i.indkey) WHERE i.indisprimary"
                    " AND i.indrelid = CAST(:t AS regclass)"
                ),
                {"t": table},
            )
            assert found == key, table
    assert len(migrated["registrations indexes"]) >= 6
