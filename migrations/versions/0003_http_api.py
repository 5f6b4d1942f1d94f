"""What the HTTP API needs: remembered idempotent responses; the application an audit is for.

``idempotency_keys`` is not derived from the events (a rebuild leaves it alone): it holds, per
client and Idempotency-Key, the fingerprint of the request and the exact response it got, written
in the command's own transaction.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE idempotency_keys (
            client_id    text        NOT NULL,
            key          text        NOT NULL,
            fingerprint  text        NOT NULL,  -- sha256 of method, path and canonical body
            status_code  integer     NOT NULL,
            body         bytea       NOT NULL,  -- byte for byte what the first request got
            headers      jsonb       NOT NULL DEFAULT '{}',
            created_at   timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (client_id, key)
        )
        """
    )
    op.execute("CREATE INDEX idempotency_keys_created_idx ON idempotency_keys (created_at)")
    # The projection gains a column: `kmop projections rebuild` fills it for existing audits.
    op.execute("ALTER TABLE audits ADD COLUMN application_id text")
    op.execute("CREATE INDEX audits_application_idx ON audits (application_id)")
    op.execute("CREATE INDEX applications_enterprise_idx ON applications (enterprise_number)")


def downgrade() -> None:
    op.execute("DROP INDEX applications_enterprise_idx")
    op.execute("DROP INDEX audits_application_idx")
    op.execute("ALTER TABLE audits DROP COLUMN application_id")
    op.execute("DROP TABLE idempotency_keys")
