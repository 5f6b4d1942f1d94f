"""Subsidy projects (issue 13): one row per project, from its events (``app/events/projections``).

``findings`` holds the findings as recorded (``ProjectRecorded``); ``unmet_findings`` their codes
that were not met, to list projects by finding. ``filed_on`` and ``checked_on`` say how long a
project waited for the provider; ``rating_*`` the client's rating of it (``RatingRecorded``).
Existing databases get the table empty: no project was recorded before this revision.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE projects (
            project_id                  text          PRIMARY KEY,
            client_enterprise_number    text          NOT NULL,
            registration_number         text          NOT NULL,
            provider_enterprise_number  text,
            service_type                text          NOT NULL,
            theme                       text          NOT NULL,
            start_date                  date          NOT NULL,
            end_date                    date          NOT NULL,
            price_excluding_vat         numeric(14,2) NOT NULL,
            vat                         numeric(14,2) NOT NULL,
            participants                integer,
            training_days               numeric(8,2),
            catering_cost               numeric(14,2),
            eligible_amount             numeric(14,2) NOT NULL,
            findings                    jsonb         NOT NULL,
            unmet_findings              text[]        NOT NULL,
            filed_on                    date          NOT NULL,
            status                      text          NOT NULL,
            checked_on                  date,
            dispute_reason              text,
            dispute_comment             text,
            decided_on                  date,
            decision_reason             text,
            rating_reference            text,
            rating_score                integer,
            rated_on                    date,
            stream_version              integer       NOT NULL,
            updated_at                  timestamptz   NOT NULL
        )
        """
    )
    op.execute(
        "CREATE INDEX projects_provider_idx ON projects (provider_enterprise_number, project_id)"
    )
    op.execute("CREATE INDEX projects_status_idx ON projects (status, project_id)")
    op.execute("CREATE INDEX projects_number_idx ON projects (registration_number, project_id)")
    # a finding rarely not met is found without reading every project (``unmet_findings @>``)
    op.execute("CREATE INDEX projects_unmet_findings_idx ON projects USING gin (unmet_findings)")


def downgrade() -> None:
    op.execute("DROP TABLE projects")
