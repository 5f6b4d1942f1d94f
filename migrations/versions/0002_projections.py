"""Projections of the registration process: registrations, applications, audits, bureaus, ratings.

Derived data: every row can be rebuilt from the events (`kmop projections rebuild`).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE registrations (
            unit_key            text PRIMARY KEY,
            enterprise_number   text NOT NULL,
            department          text,
            service_type        text NOT NULL,
            provider_name       text NOT NULL,
            status              text NOT NULL,
            registration_kind   text,
            -- DV.O / DV.A numbers: the n-th first registration gets serial base + n - 1.
            registration_serial integer UNIQUE,
            registration_number text UNIQUE,
            first_registered_on date,
            valid_from          date,
            valid_until         date,
            pending_deadline    date,
            deadline_kind       text,
            application_id      text,
            application_track   text,
            current_audit_id    text,
            current_bureau_id   text,
            stream_version      integer NOT NULL,
            updated_at          timestamptz NOT NULL
        )
        """
    )
    op.execute("CREATE INDEX registrations_status_idx ON registrations (status)")
    op.execute("CREATE INDEX registrations_enterprise_idx ON registrations (enterprise_number)")
    op.execute(
        "CREATE INDEX registrations_deadline_idx ON registrations (pending_deadline)"
        " WHERE pending_deadline IS NOT NULL"
    )
    op.execute("CREATE INDEX registrations_bureau_idx ON registrations (current_bureau_id)")
    op.execute(
        """
        CREATE TABLE applications (
            application_id       text PRIMARY KEY,
            unit_key             text NOT NULL,
            enterprise_number    text NOT NULL,
            track                text NOT NULL,
            status               text NOT NULL,  -- open, granted, refused
            submitted_on         date NOT NULL,
            sworn_declaration_on date,
            decided_on           date
        )
        """
    )
    op.execute("CREATE INDEX applications_unit_idx ON applications (unit_key)")
    op.execute(
        """
        CREATE TABLE audits (
            audit_id        text PRIMARY KEY,
            unit_key        text NOT NULL,
            bureau_id       text NOT NULL,
            audit_type      text NOT NULL,
            status          text NOT NULL,  -- assigned, planned, reported, reacted
            assigned_on     date NOT NULL,
            visit_date      date,
            planned_hours   numeric,
            cost_estimate   numeric,
            report_id       text,
            result          text,
            reported_on     date
        )
        """
    )
    op.execute("CREATE INDEX audits_bureau_idx ON audits (bureau_id, status)")
    op.execute("CREATE INDEX audits_unit_idx ON audits (unit_key)")
    op.execute(
        """
        CREATE TABLE bureaus (
            bureau_id         text PRIMARY KEY,
            name              text NOT NULL,
            enterprise_number text NOT NULL,
            appointed_from    date NOT NULL,
            appointed_until   date,
            contact           text
        )
        """
    )
    op.execute(
        """
        CREATE TABLE provider_ratings (
            enterprise_number text PRIMARY KEY,
            rating_count      integer NOT NULL,
            rating_sum        integer NOT NULL
        )
        """
    )


def downgrade() -> None:
    for table in ("provider_ratings", "bureaus", "audits", "applications", "registrations"):
        op.execute(f"DROP TABLE {table}")
