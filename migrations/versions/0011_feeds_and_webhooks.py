"""Every audience follows its own events (issue 14): the index the bureaus' feed filter probes.

A bureau sees an event of a registration unit when an ``AuditBureauChosen`` of that stream names
it (``app.events.audience``): one probe per event the feed looks at, into this partial index of
the choices alone (a few per unit), instead of a walk along the stream's events.

Revision ID: 0011
Revises: 0009
Create Date: 2026-12-01
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0011"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute(
        "CREATE INDEX events_bureau_chosen_idx ON events"
        " (stream_id, (data->>'bureau_id'), version) WHERE event_type = 'AuditBureauChosen'"
    )


def downgrade() -> None:
    op.execute("DROP INDEX events_bureau_chosen_idx")
