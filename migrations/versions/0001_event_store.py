"""The event store: one append-only events table.

Revision ID: 0001
Revises:
Create Date: 2026-11-22
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE events (
            -- Global position: unique and increasing in insert order, but NOT in commit order.
            position        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            -- The writing transaction; readers of all events order by (transaction_id, position)
            -- and never read past pg_snapshot_xmin, so a late commit cannot be skipped.
            transaction_id  xid8        NOT NULL DEFAULT pg_current_xact_id(),
            event_id        uuid        NOT NULL,
            stream_id       text        NOT NULL CHECK (stream_id <> ''),
            stream_type     text        NOT NULL CHECK (stream_type <> ''),
            version         integer     NOT NULL CHECK (version >= 1),
            event_type      text        NOT NULL CHECK (event_type <> ''),
            schema_version  integer     NOT NULL CHECK (schema_version >= 1),
            data            jsonb       NOT NULL CHECK (jsonb_typeof(data) = 'object'),
            metadata        jsonb       NOT NULL DEFAULT '{}'
                                        CHECK (jsonb_typeof(metadata) = 'object'),
            recorded_at     timestamptz NOT NULL DEFAULT now(),
            CONSTRAINT events_event_id_key UNIQUE (event_id),
            -- Optimistic concurrency: two writers of the same version cannot both commit.
            -- Also the index for reading a stream in order.
            CONSTRAINT events_stream_version_key UNIQUE (stream_id, version)
        )
        """
    )
    op.execute("CREATE INDEX events_read_all_idx ON events (transaction_id, position)")
    op.execute(
        """
        CREATE FUNCTION events_refuse_change() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION 'events are immutable: % on table events is refused', TG_OP
                USING ERRCODE = 'insufficient_privilege',
                      HINT = 'Record a new event that corrects or compensates instead.';
        END
        $$
        """
    )
    # The feed's order rests on transaction_id: never take it from the client of the insert.
    op.execute(
        """
        CREATE FUNCTION events_stamp_transaction() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            NEW.transaction_id := pg_current_xact_id();
            RETURN NEW;
        END
        $$
        """
    )
    op.execute(
        """
        CREATE TRIGGER events_stamp_transaction
        BEFORE INSERT ON events
        FOR EACH ROW EXECUTE FUNCTION events_stamp_transaction()
        """
    )
    op.execute(
        """
        CREATE TRIGGER events_no_update_or_delete
        BEFORE UPDATE OR DELETE ON events
        FOR EACH ROW EXECUTE FUNCTION events_refuse_change()
        """
    )
    op.execute(
        """
        CREATE TRIGGER events_no_truncate
        BEFORE TRUNCATE ON events
        FOR EACH STATEMENT EXECUTE FUNCTION events_refuse_change()
        """
    )
    # ALWAYS: the triggers fire in replica mode too (session_replication_role = replica).
    for trigger in ("events_stamp_transaction", "events_no_update_or_delete", "events_no_truncate"):
        op.execute(f"ALTER TABLE events ENABLE ALWAYS TRIGGER {trigger}")


def downgrade() -> None:
    # Dropping the table is the only way to remove events, and only by a deliberate downgrade.
    op.execute("DROP TABLE events")
    op.execute("DROP FUNCTION events_refuse_change()")
    op.execute("DROP FUNCTION events_stamp_transaction()")
