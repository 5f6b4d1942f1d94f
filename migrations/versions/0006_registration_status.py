"""The status of a registration apart from the application in progress, for those who may see
the registration but not that application (a bureau that audited the unit before).

``registrations.registration_status``: what ``status`` would be without the open application
(registered, conditionally or as starter, stopped, expired, refused, none). Filled here from the
columns at hand; where an application is open on a unit no longer in force, the columns cannot
tell a stop from an expiry: ``kmop projections rebuild`` (or ``projections verify`` to see)
makes every row what the events say.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-27
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute("ALTER TABLE registrations ADD COLUMN registration_status text")
    op.execute(
        """
        UPDATE registrations r SET registration_status = CASE
            WHEN r.status NOT IN ('applied', 'in_audit', 'audit_failed', 'awaiting_decision')
                THEN r.status
            WHEN r.registration_kind IS NOT NULL
                THEN CASE WHEN r.valid_until < current_date THEN 'expired' ELSE 'stopped' END
            WHEN EXISTS (SELECT 1 FROM applications a WHERE a.unit_key = r.unit_key
                         AND a.status = 'refused') THEN 'refused'
            ELSE 'none'
        END
        """
    )
    op.execute("ALTER TABLE registrations ALTER COLUMN registration_status SET NOT NULL")


def downgrade() -> None:
    op.execute("ALTER TABLE registrations DROP COLUMN registration_status")
