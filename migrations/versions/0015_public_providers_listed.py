"""Whether a provider is listed today, on its own row (issue 12).

The public search lists a provider while one of its registrations is in force on the day of the
query (status registered, conditionally or as starter, and the day within its validity). Until
now every candidate was looked up in ``registrations_in_force_idx`` for that: a broad query
checks up to a thousand providers to count its capped total, a typo up to a thousand trigram
candidates. ``listed`` holds the days on which one of the provider's registrations is in force
(the union of their validities, a ``datemultirange``), written by the projection with the
registrations (``app.events.projections``); the search compares it with the day of the query
(``listed @> today``), so nothing goes stale at midnight: a validity that ends yesterday is not
listed today, with no event in between. The service type and the registration number asked
for are still looked up in ``registrations``.

The name-ordered index carries it too (with the themes and regions, migration 0009), so that the
walk of a common filter in name order still reads the index alone.

Revision ID: 0015
Revises: 0012
Create Date: 2026-12-01
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0015"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute(
        "ALTER TABLE public_providers ADD COLUMN listed datemultirange NOT NULL DEFAULT '{}'"
    )
    op.execute(
        """
        UPDATE public_providers p SET listed = l.listed
        FROM (SELECT r.enterprise_number,
                     range_agg(daterange(r.valid_from, r.valid_until, '[]')) AS listed
              FROM registrations r
              WHERE r.status IN ('registered', 'registered_conditionally', 'registered_starter')
                AND r.valid_from IS NOT NULL AND r.valid_until IS NOT NULL
              GROUP BY r.enterprise_number) l
        WHERE p.enterprise_number = l.enterprise_number
        """
    )
    op.execute("DROP INDEX public_providers_sort_idx")
    op.execute(
        "CREATE INDEX public_providers_sort_idx ON public_providers"
        " (search_name, enterprise_number) INCLUDE (themes, regions, listed)"
    )
    op.execute("ANALYZE public_providers")


def downgrade() -> None:
    op.execute("DROP INDEX public_providers_sort_idx")
    op.execute(
        "CREATE INDEX public_providers_sort_idx ON public_providers"
        " (search_name, enterprise_number) INCLUDE (themes, regions)"
    )
    op.execute("ALTER TABLE public_providers DROP COLUMN listed")
