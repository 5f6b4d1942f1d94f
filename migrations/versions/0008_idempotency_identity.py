"""Idempotency keys are scoped by the caller's whole identity, not by ``sub`` alone.

Two tokens may share a ``sub`` (a client id reused across enterprises, as ``kmop token`` once
minted ``provider-dev`` for every provider) while acting for different enterprises or bureaus:
scoped by ``sub`` alone, the second one's request was answered with the first one's response.
A key now belongs to (``client_id``, ``role``, ``bound_to``): ``bound_to`` is the bureau of a
bureau's token, the enterprise number of a provider's, ``''`` for the agency.

Existing rows are deleted, not mapped: a row does not record the role or enterprise of the
request that made it, so it cannot be told to whom it belongs, and replaying it to the wrong
caller is the bug this fixes. Keys live 48 hours; a retry of a request sent before the upgrade
is judged again by the rules (which refuse most duplicates: an open application, a declaration
already received, a rating reference already used).

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute("DELETE FROM idempotency_keys")
    op.execute(
        """
        ALTER TABLE idempotency_keys
            ADD COLUMN role     text NOT NULL,
            ADD COLUMN bound_to text NOT NULL,
            DROP CONSTRAINT idempotency_keys_pkey,
            ADD PRIMARY KEY (client_id, role, bound_to, key)
        """
    )


def downgrade() -> None:
    op.execute("DELETE FROM idempotency_keys")  # two identities' rows may share (client, key)
    op.execute(
        """
        ALTER TABLE idempotency_keys
            DROP CONSTRAINT idempotency_keys_pkey,
            DROP COLUMN role,
            DROP COLUMN bound_to,
            ADD PRIMARY KEY (client_id, key)
        """
    )
