"""The public search's name-ordered index carries the themes and regions (issue 12).

When more providers match a theme/region/service-type search than the total is counted to
(``COUNT_CAP``), its page is walked in name order along ``public_providers_sort_idx`` until a
page's worth passes the filters. Until now each row walked was read from the table to test its
themes and regions (at 100,000 providers, 3,000 table rows for a page of a common theme in a
province); with them in the index (``INCLUDE``) the walk reads the index alone (an index-only
scan: the table's visibility map is kept by autovacuum). The in-force check stays a lookup in
``registrations_in_force_idx``, also index-only.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute("DROP INDEX public_providers_sort_idx")
    op.execute(
        "CREATE INDEX public_providers_sort_idx ON public_providers"
        " (search_name, enterprise_number) INCLUDE (themes, regions)"
    )


def downgrade() -> None:
    op.execute("DROP INDEX public_providers_sort_idx")
    op.execute(
        "CREATE INDEX public_providers_sort_idx ON public_providers"
        " (search_name, enterprise_number)"
    )
