"""The public search: one row per provider with what the public may see, indexed for search.

``public_providers`` is a projection like the others (rebuilt from the events). Name search is
PostgreSQL's: ``unaccent`` + ``lower`` at write time into ``search_name`` (trigram index,
``pg_trgm``, for typos), and a ``tsvector`` over name (``simple``) and description (``dutch``).
Whether a provider is listed is decided at query time from ``registrations`` (in force on the
day of the query), through a partial index of the registered units.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Both are trusted extensions (PostgreSQL 13+): a database owner may create them.
    op.execute("CREATE EXTENSION IF NOT EXISTS unaccent")
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    op.execute(
        """
        CREATE TABLE public_providers (
            enterprise_number   text PRIMARY KEY,
            name                text NOT NULL DEFAULT '',
            description         text,
            website             text,
            application_themes  text[] NOT NULL DEFAULT '{}',
            profile_themes      text[],  -- NULL until the provider keeps a profile
            themes              text[] GENERATED ALWAYS AS
                                    (coalesce(profile_themes, application_themes)) STORED,
            locations           jsonb NOT NULL DEFAULT '[]',
            regions             text[] NOT NULL DEFAULT '{}',  -- provinces, municipalities, codes
            search_name         text NOT NULL DEFAULT '',  -- lower(unaccent(name))
            document            tsvector NOT NULL DEFAULT ''::tsvector,
            profile_version     integer NOT NULL DEFAULT 0,
            updated_at          timestamptz NOT NULL
        )
        """
    )
    # The search columns follow name and description, whoever writes the row.
    op.execute(
        """
        CREATE FUNCTION public_providers_search_columns() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            NEW.search_name := lower(unaccent(NEW.name));
            NEW.document :=
                setweight(to_tsvector('simple', unaccent(NEW.name)), 'A')
                || setweight(to_tsvector('dutch', unaccent(coalesce(NEW.description, ''))), 'B');
            RETURN NEW;
        END
        $$
        """
    )
    op.execute(
        "CREATE TRIGGER public_providers_search_columns BEFORE INSERT OR UPDATE OF name,"
        " description ON public_providers FOR EACH ROW"
        " EXECUTE FUNCTION public_providers_search_columns()"
    )
    op.execute(
        "CREATE INDEX public_providers_name_trgm_idx ON public_providers"
        " USING gin (search_name gin_trgm_ops)"
    )
    op.execute(
        "CREATE INDEX public_providers_document_idx ON public_providers USING gin (document)"
    )
    op.execute("CREATE INDEX public_providers_themes_idx ON public_providers USING gin (themes)")
    op.execute("CREATE INDEX public_providers_regions_idx ON public_providers USING gin (regions)")
    op.execute(
        "CREATE INDEX public_providers_sort_idx ON public_providers"
        " (search_name, enterprise_number)"
    )
    op.execute(
        "CREATE INDEX registrations_in_force_idx ON registrations (enterprise_number)"
        " INCLUDE (service_type, valid_from, valid_until)"
        " WHERE status IN ('registered', 'registered_conditionally', 'registered_starter')"
    )


def downgrade() -> None:
    op.execute("DROP INDEX registrations_in_force_idx")
    op.execute("DROP TABLE public_providers")
    op.execute("DROP FUNCTION public_providers_search_columns()")
