from __future__ import annotations

from sqlalchemy import text

from app.runtime import db
from tests.conftest import PgServer


async def test_migrations_run_up_down_and_up_again(pg_server: PgServer) -> None:
    name = await pg_server.create_database(from_template=False)
    url = pg_server.url(name)
    engine = db.make_engine(url)
    try:
        await db.upgrade_async(url)
        async with engine.connect() as conn:
            assert await db.current_revision(conn) == db.migration_head()
            triggers = (
                await conn.execute(
                    text(
                        "SELECT tgname, tgenabled::text FROM pg_trigger"
                        " WHERE tgrelid = 'events'::regclass AND NOT tgisinternal"
                    )
                )
            ).all()
            assert dict(triggers) == {  # 'A': fires always, in replica mode too
                "events_stamp_transaction": "A",
                "events_no_update_or_delete": "A",
                "events_no_truncate": "A",
            }
        await db.downgrade_async(url, "base")
        async with engine.connect() as conn:
            assert await conn.scalar(text("SELECT to_regclass('events')")) is None
        await db.upgrade_async(url)
        async with engine.connect() as conn:
            assert await db.current_revision(conn) == db.migration_head()
    finally:
        await engine.dispose()
        await pg_server.drop_database(name)
