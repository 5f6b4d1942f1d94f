"""Tamper evidence: a per-stream hash chain on the events, and signed checkpoints of the log.

``events.hash`` = SHA-256(previous_hash || SHA-256(canonical content)), ``previous_hash`` the
hash of the stream's previous event (32 zero bytes for version 1); the canonical form is
documented in ``app.events.hashing``. Existing events are hashed here, stream by stream in
version order, with a frozen copy of that form (version 1), so this migration means the same
whatever the code later becomes.

``event_checkpoints``: a running hash over the hashes of all events in the global order up to
a position, HMAC-signed by the service (``app.events.checkpoints``); append-only like events.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-26
"""

import hashlib
import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PAGE = 5000
GENESIS = bytes(32)


def _json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str | bytes) else value


def _hash(row: Any, previous: bytes) -> bytes:
    recorded_at: datetime = row.recorded_at
    content = {
        "data": _json(row.data),
        "event_id": str(row.event_id),
        "event_type": row.event_type,
        "metadata": _json(row.metadata),
        "recorded_at": recorded_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        "schema_version": row.schema_version,
        "stream_id": row.stream_id,
        "stream_type": row.stream_type,
        "version": row.version,
    }
    canonical = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(previous + hashlib.sha256(canonical.encode()).digest()).digest()


def _backfill() -> None:
    bind = op.get_bind()
    select = sa.text(
        "SELECT position, event_id, stream_id, stream_type, version, event_type, schema_version,"
        " data, metadata, recorded_at FROM events"
        " WHERE (stream_id, version) > (:stream, :version)"
        " ORDER BY stream_id, version LIMIT :limit"
    )
    update = sa.text(
        "UPDATE events SET previous_hash = :previous, hash = :hash WHERE position = :p"
    )
    stream, version, previous = "", 0, GENESIS
    while rows := bind.execute(select, {"stream": stream, "version": version, "limit": PAGE}).all():
        changes = []
        for row in rows:
            if row.stream_id != stream:
                stream, previous = row.stream_id, GENESIS
            current = _hash(row, previous)
            changes.append({"previous": previous, "hash": current, "p": row.position})
            previous, version = current, row.version
        bind.execute(update, changes)


def upgrade() -> None:
    op.execute("ALTER TABLE events ADD COLUMN previous_hash bytea, ADD COLUMN hash bytea")
    # The only UPDATE events ever get, in this migration's own transaction.
    op.execute("ALTER TABLE events DISABLE TRIGGER events_no_update_or_delete")
    _backfill()
    op.execute("ALTER TABLE events ENABLE ALWAYS TRIGGER events_no_update_or_delete")
    # Nullable: a row written past the store (by hand, by a script) has no hash, and
    # `kmop events verify` names it; the store always writes both.
    op.execute(
        """
        ALTER TABLE events ADD CONSTRAINT events_hash_length
            CHECK ((hash IS NULL) = (previous_hash IS NULL)
                   AND octet_length(hash) = 32 AND octet_length(previous_hash) = 32)
        """
    )
    op.execute(
        """
        CREATE TABLE event_checkpoints (
            -- 1, 2, 3, ... without gaps: a removed checkpoint in the middle shows.
            sequence            bigint      PRIMARY KEY CHECK (sequence >= 1),
            -- The last event covered, in the global order (transaction_id, position).
            last_transaction_id xid8        NOT NULL,
            last_position       bigint      NOT NULL,
            event_count         bigint      NOT NULL CHECK (event_count >= 1),
            -- SHA-256(previous checkpoint's running_hash || hashes of the events after it).
            running_hash        bytea       NOT NULL CHECK (octet_length(running_hash) = 32),
            key_id              text        NOT NULL,  -- which key signed (not the key)
            signature           bytea       NOT NULL CHECK (octet_length(signature) = 32),
            recorded_at         timestamptz NOT NULL
        )
        """
    )
    op.execute(
        """
        CREATE FUNCTION event_checkpoints_refuse_change() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION 'checkpoints are immutable: % on table event_checkpoints is refused',
                TG_OP USING ERRCODE = 'insufficient_privilege';
        END
        $$
        """
    )
    op.execute(
        """
        CREATE TRIGGER event_checkpoints_no_update_or_delete
        BEFORE UPDATE OR DELETE ON event_checkpoints
        FOR EACH ROW EXECUTE FUNCTION event_checkpoints_refuse_change()
        """
    )
    op.execute(
        """
        CREATE TRIGGER event_checkpoints_no_truncate
        BEFORE TRUNCATE ON event_checkpoints
        FOR EACH STATEMENT EXECUTE FUNCTION event_checkpoints_refuse_change()
        """
    )
    for trigger in ("event_checkpoints_no_update_or_delete", "event_checkpoints_no_truncate"):
        op.execute(f"ALTER TABLE event_checkpoints ENABLE ALWAYS TRIGGER {trigger}")


def downgrade() -> None:
    op.execute("DROP TABLE event_checkpoints")
    op.execute("DROP FUNCTION event_checkpoints_refuse_change()")
    op.execute(
        "ALTER TABLE events DROP CONSTRAINT events_hash_length,"
        " DROP COLUMN previous_hash, DROP COLUMN hash"
    )
