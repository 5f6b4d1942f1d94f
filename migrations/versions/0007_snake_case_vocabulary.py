"""One vocabulary: enumerated values are snake_case in the projections too.

Audit types (``starter_follow_up``, ``conditional_follow_up``), the audit result
``conditionally_passed`` and the province slugs (``oost_vlaanderen``) lost their hyphens. The
events keep what they stored (upcasters read them in the new words, the hash chain is over what
is stored); the projections, which a rebuild would write anew, are brought to the new words here
so the live rows equal a replay.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The hyphenated provinces; every other value is one word in both spellings.
_PROVINCES = ("waals-brabant", "vlaams-brabant", "west-vlaanderen", "oost-vlaanderen")


def _respell(old: str, new: str) -> None:
    op.execute(f"UPDATE audits SET audit_type = replace(audit_type, '{old}', '{new}')")
    op.execute(f"UPDATE audits SET result = replace(result, '{old}', '{new}')")
    for hyphenated in _PROVINCES:
        before = hyphenated if old == "-" else hyphenated.replace("-", "_")
        after = before.replace(old, new)
        op.execute(
            f"UPDATE public_providers SET regions = array_replace(regions, '{before}', '{after}')"
            f" WHERE '{before}' = ANY (regions)"
        )
        op.execute(
            "UPDATE public_providers SET locations = (SELECT jsonb_agg(CASE"
            f" WHEN l->>'province' = '{before}'"
            f" THEN jsonb_set(l, '{{province}}', '\"{after}\"') ELSE l END)"
            " FROM jsonb_array_elements(locations) AS l)"
            f' WHERE locations @> \'[{{"province": "{before}"}}]\''
        )


def upgrade() -> None:
    _respell("-", "_")


def downgrade() -> None:
    _respell("_", "-")
