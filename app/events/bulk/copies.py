"""Empty copies of the live projection tables in another schema (``create_tables``, then
``index_and_analyze`` after the load), for a rebuild, and the tables alone for ``projections
verify``."""

from __future__ import annotations

import asyncio
import re

import asyncpg
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from app.events.projections import PROJECTION_TABLES

# --- empty copies of the live tables --------------------------------------------------------

_LIVE_SCHEMA = text(
    "SELECT relnamespace::regnamespace::text FROM pg_class WHERE oid = CAST(:t AS regclass)"
)
_TABLE = text(
    """
    SELECT c.relpersistence::text AS relpersistence, c.reloptions, c.relacl IS NOT NULL AS has_acl,
           pg_get_userbyid(c.relowner) AS owner,
           c.relreplident::text AS relreplident,  -- "char": bytes unless cast
           quote_literal(obj_description(c.oid, 'pg_class')) AS comment
    FROM pg_class c WHERE c.oid = CAST(:t AS regclass)
    """
)
_ACL = text(
    """
    SELECT a.privilege_type, a.is_grantable,
           CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE quote_ident(pg_get_userbyid(a.grantee)) END
    FROM pg_class c, aclexplode(c.relacl) a WHERE c.oid = CAST(:t AS regclass)
    """
)
_TRIGGERS = text(
    "SELECT tgname, pg_get_triggerdef(oid), tgenabled::text FROM pg_trigger"
    " WHERE tgrelid = CAST(:t AS regclass) AND NOT tgisinternal ORDER BY tgname"
)
_INDEXED_CONSTRAINTS = text(
    "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint"
    " WHERE conrelid = CAST(:t AS regclass) AND contype IN ('p', 'u', 'x') ORDER BY conname"
)
_OTHER_INDEXES = text(
    """
    SELECT pg_get_indexdef(i.indexrelid) FROM pg_index i
    WHERE i.indrelid = CAST(:t AS regclass)
      AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)
    ORDER BY i.indexrelid::regclass::text
    """
)
_REPLICA_INDEX = text(
    "SELECT indexrelid::regclass::text FROM pg_index"
    " WHERE indrelid = CAST(:t AS regclass) AND indisreplident"
)
# What a copy made this way would not carry faithfully: refused rather than lost.
_UNSUPPORTED = text(
    """
    SELECT 'a view or rule uses it' FROM pg_depend d JOIN pg_rewrite r ON r.oid = d.objid
    WHERE d.refobjid = CAST(:t AS regclass) AND r.ev_class <> d.refobjid
    UNION ALL
    SELECT 'a foreign key refers to it or from it' FROM pg_constraint
    WHERE (confrelid = CAST(:t AS regclass) OR conrelid = CAST(:t AS regclass)) AND contype = 'f'
    UNION ALL
    SELECT 'a column takes its values from a sequence' FROM pg_attribute a
    LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
    WHERE a.attrelid = CAST(:t AS regclass) AND NOT a.attisdropped
      AND (a.attidentity <> '' OR pg_get_expr(d.adbin, d.adrelid) LIKE 'nextval(%')
    UNION ALL
    SELECT 'it has row-level security or column privileges' FROM pg_class c
    WHERE c.oid = CAST(:t AS regclass) AND (c.relrowsecurity OR EXISTS (
        SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attacl IS NOT NULL))
    """
)


async def live_schema(conn: AsyncConnection) -> str:
    """The schema of the live projection tables (as the connection's search path finds them)."""
    return str(await conn.scalar(_LIVE_SCHEMA, {"t": PROJECTION_TABLES[0]}))


async def create_tables(conn: AsyncConnection, live: str, schema: str) -> None:
    """Empty copies of the live projection tables in ``schema``: columns, defaults, generated
    columns, check constraints, storage, comments, triggers, owner and privileges; the indexes
    and the constraints that have one come after the load (``index_and_analyze``)."""
    for table in PROJECTION_TABLES:
        source = f"{live}.{table}"
        for (reason,) in await conn.execute(_UNSUPPORTED, {"t": source}):
            raise RuntimeError(f"cannot rebuild {source} beside the live one: {reason}")
        info = (await conn.execute(_TABLE, {"t": source})).one()
        unlogged = "UNLOGGED " if info.relpersistence == "u" else ""
        options = f" WITH ({', '.join(info.reloptions)})" if info.reloptions else ""
        await conn.execute(
            text(
                f"CREATE {unlogged}TABLE {schema}.{table} (LIKE {source} INCLUDING DEFAULTS"
                " INCLUDING GENERATED INCLUDING CONSTRAINTS INCLUDING STORAGE"
                f" INCLUDING COMPRESSION INCLUDING COMMENTS){options}"
            )
        )
        if info.comment is not None:  # LIKE copies the columns' comments, not the table's
            await conn.execute(text(f"COMMENT ON TABLE {schema}.{table} IS {info.comment}"))
        # LIKE copies no triggers; those that fill derived columns must run on the copy too.
        enable = {"D": "DISABLE", "R": "ENABLE REPLICA", "A": "ENABLE ALWAYS"}
        for name, definition, enabled in await conn.execute(_TRIGGERS, {"t": source}):
            await conn.execute(text(_on(definition, live, table, schema)))
            if enabled in enable:
                await conn.execute(
                    text(f"ALTER TABLE {schema}.{table} {enable[enabled]} TRIGGER {name}")
                )
        await conn.execute(text(f'ALTER TABLE {schema}.{table} OWNER TO "{info.owner}"'))
        if info.has_acl:
            await conn.execute(text(f'REVOKE ALL ON {schema}.{table} FROM PUBLIC, "{info.owner}"'))
            for privilege, grantable, grantee in await conn.execute(_ACL, {"t": source}):
                option = " WITH GRANT OPTION" if grantable else ""
                await conn.execute(
                    text(f"GRANT {privilege} ON {schema}.{table} TO {grantee}{option}")
                )


async def index_statements(conn: AsyncConnection, live: str, schema: str) -> dict[str, list[str]]:
    """Per table, in order, what gives its copy in ``schema`` the live table's indexes (with
    their names), the constraints that have one and its replica identity."""
    statements: dict[str, list[str]] = {}
    for table in PROJECTION_TABLES:
        source, target = f"{live}.{table}", f"{schema}.{table}"
        done = statements[table] = []
        for name, definition in await conn.execute(_INDEXED_CONSTRAINTS, {"t": source}):
            done.append(f'ALTER TABLE {target} ADD CONSTRAINT "{name}" {definition}')
        for (definition,) in await conn.execute(_OTHER_INDEXES, {"t": source}):
            done.append(_on(definition, live, table, schema))
        info = (await conn.execute(_TABLE, {"t": source})).one()
        if info.relreplident == "f":
            done.append(f"ALTER TABLE {target} REPLICA IDENTITY FULL")
        elif info.relreplident == "n":
            done.append(f"ALTER TABLE {target} REPLICA IDENTITY NOTHING")
        elif info.relreplident == "i":
            index = await conn.scalar(_REPLICA_INDEX, {"t": source})
            index_name = str(index).rsplit(".", 1)[-1]
            done.append(f"ALTER TABLE {target} REPLICA IDENTITY USING INDEX {index_name}")
    return statements


async def index_and_analyze(
    conn: AsyncConnection, dsn: str, live: str, schema: str, connections: int
) -> None:
    """Give each loaded copy in ``schema`` the live table's indexes, with their names, the
    constraints that have one and its replica identity (``index_statements``), then ``ANALYZE``
    it; the tables shared among ``connections`` sessions of their own, to ``dsn`` (each table
    whole on one, in its own transaction, the largest first): the server builds the indexes of
    several tables at once instead of one after the other. The definitions are read with
    ``conn`` (which takes no lock on the copies) and run with its search path."""
    statements = await index_statements(conn, live, schema)
    search_path = str(await conn.scalar(text("SELECT current_setting('search_path')")))
    sessions: list[asyncpg.Connection] = []
    try:
        for _ in range(max(1, connections)):
            sessions.append(await asyncpg.connect(dsn))
        sizes = dict(await sessions[0].fetch(_SIZES, schema, list(statements)))
        queue = sorted(statements, key=lambda table: -sizes.get(table, 0))

        async def build(pg: asyncpg.Connection) -> None:
            await pg.execute("SELECT set_config('search_path', $1, false)", search_path)
            while queue:
                table = queue.pop(0)
                async with pg.transaction():
                    for statement in statements[table]:
                        await pg.execute(statement)
                    await pg.execute(f"ANALYZE {schema}.{table}")

        try:
            async with asyncio.TaskGroup() as group:
                for pg in sessions:
                    group.create_task(build(pg))
        except ExceptionGroup as failures:  # the first session's error, as one session's
            raise failures.exceptions[0] from None
    finally:
        for pg in sessions:
            await pg.close()


# The copies' sizes, as loaded (in a statement of its own: pg_total_relation_size locks the
# table until its transaction ends, and the sessions' ALTER TABLEs would wait for that)
_SIZES = """
    SELECT t, pg_total_relation_size(format('%I.%I', $1::text, t)::regclass)
    FROM unnest($2::text[]) t
"""


def _on(definition: str, live: str, table: str, schema: str) -> str:
    """A trigger's or index's definition, on the copy of ``table`` in ``schema``."""
    on_table = re.compile(rf" ON (ONLY )?({re.escape(live)}\.)?{re.escape(table)} ")
    return on_table.sub(rf" ON \g<1>{schema}.{table} ", definition, count=1)
