"""Every audience follows its own events (issue 14): the index the bureaus' feed filter probes,
and the webhooks with their delivery log.

A bureau sees an event of a registration unit when an ``AuditBureauChosen`` of that stream names
it (``app.events.audience``): one probe per event the feed looks at, into this partial index of
the choices alone (a few per unit), instead of a walk along the stream's events.

A webhook belongs to one client (its identity: client id, role, and the bureau or enterprise it
is bound to) and follows the events that client may see. Its cursor (``after``) is the position
of the last event delivered, in the feed's global order: the dispatcher moves it only after the
receiver accepted the event, so a crash delivers again (at least once), never skips. A lease
(``leased_until``, ``lease_token``) lets one dispatcher at a time work on a webhook, however
many run; ``failures`` and ``next_attempt_at`` are the backoff. The secret signs deliveries
(HMAC-SHA256) and is shown to the client once.

Revision ID: 0011
Revises: 0009
Create Date: 2026-12-01
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute(
        "CREATE INDEX events_bureau_chosen_idx ON events"
        " (stream_id, (data->>'bureau_id'), version) WHERE event_type = 'AuditBureauChosen'"
    )
    op.execute(
        """
        CREATE TABLE webhooks (
            webhook_id      uuid        PRIMARY KEY,
            client_id       text        NOT NULL,
            role            text        NOT NULL CHECK (role IN ('agency', 'bureau', 'provider')),
            bound_to        text        NOT NULL,  -- the bureau id or enterprise number; ''
            url             text        NOT NULL,
            secret          text        NOT NULL,
            created_at      timestamptz NOT NULL DEFAULT now(),
            after_position  bigint      NOT NULL CHECK (after_position >= 0),
            delivered       bigint      NOT NULL DEFAULT 0,
            failures        integer     NOT NULL DEFAULT 0,
            next_attempt_at timestamptz NOT NULL DEFAULT now(),
            leased_until    timestamptz,
            lease_token     uuid
        )
        """
    )
    op.execute("CREATE INDEX webhooks_owner_idx ON webhooks (client_id, role, bound_to)")
    op.execute("CREATE INDEX webhooks_due_idx ON webhooks (next_attempt_at)")
    op.execute(
        """
        CREATE TABLE webhook_deliveries (
            delivery_id   bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            webhook_id    uuid        NOT NULL REFERENCES webhooks ON DELETE CASCADE,
            position      bigint      NOT NULL,
            event_id      uuid        NOT NULL,
            event_type    text        NOT NULL,
            attempt       integer     NOT NULL,
            attempted_at  timestamptz NOT NULL DEFAULT now(),
            status_code   integer,
            error         text,
            succeeded     boolean     NOT NULL,
            duration_ms   integer     NOT NULL
        )
        """
    )
    op.execute(
        "CREATE INDEX webhook_deliveries_log_idx ON webhook_deliveries (webhook_id, delivery_id)"
    )


def downgrade() -> None:
    op.execute("DROP TABLE webhook_deliveries")
    op.execute("DROP TABLE webhooks")
    op.execute("DROP INDEX events_bureau_chosen_idx")
