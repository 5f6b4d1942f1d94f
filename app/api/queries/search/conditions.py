"""What the public asks and which providers it matches: the registrations in force, the columns
shown, the query (``Query``, ``Sort``), how free text is searched (``TextMode``), and the
conditions, ranks and sort keys of the statements."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import Enum, StrEnum
from typing import Any

from app.domain.identifiers import RegistrationNumber, ServiceType
from app.domain.regions import region_terms

IN_FORCE = ("registered", "registered_conditionally", "registered_starter")
PUBLIC_STATUS: dict[str, tuple[str, str]] = {
    "registered": ("registered", "geregistreerd"),
    "registered_conditionally": ("registered_conditionally", "voorwaardelijk geregistreerd"),
    "registered_starter": ("registered_starter", "geregistreerd als starter"),
}
COUNT_CAP = 1000  # a total beyond this is reported as "more than 1000"

_IN_FORCE_SQL = (
    "r.status IN ('registered', 'registered_conditionally', 'registered_starter')"
    " AND r.valid_from <= :today AND r.valid_until >= :today"
)

_LISTED_TODAY = "p.listed @> CAST(:today AS date)"

_DETAILS = f"""
    (SELECT coalesce(json_agg(json_build_object(
            'number', r.registration_number, 'service_type', r.service_type,
            'status', r.status, 'valid_from', r.valid_from, 'valid_until', r.valid_until)
            ORDER BY r.service_type, r.registration_number), '[]')
        FROM registrations r
        WHERE r.enterprise_number = p.enterprise_number AND {_IN_FORCE_SQL}
            AND r.registration_number IS NOT NULL) AS registrations,
    (SELECT json_build_object('count', pr.rating_count, 'sum', pr.rating_sum)
        FROM provider_ratings pr WHERE pr.enterprise_number = p.enterprise_number) AS rating
"""
_COLUMNS = "p.enterprise_number, p.name, p.description, p.website, p.themes, p.locations"


class Sort(StrEnum):
    """The order of the results: ``relevance`` (the best text match first; by name without
    text), ``name``, ``rating`` (the highest average first, unrated last) or ``validity`` (the
    registration that runs longest first)."""

    RELEVANCE = "relevance"
    NAME = "name"
    RATING = "rating"
    VALIDITY = "validity"


@dataclass(frozen=True, slots=True)
class Query:
    text: str | None = None
    # Any of these (the digits alone may be either service type's: ``schemas.registration_numbers``)
    numbers: tuple[RegistrationNumber, ...] = ()
    theme: str | None = None
    service_type: ServiceType | None = None
    region: str | None = None
    min_rating: int | None = None  # the average as shown (one decimal) at least this
    sort: Sort = Sort.RELEVANCE


# How free text is searched, by how many providers its words match exactly (full-text search
# over name and description, before the other filters that need a join):
#   * 1 to FOCUSED: those, ranked by relevance (the better of ts_rank and the name's trigram
#     word similarity), then by name;
#   * more than FOCUSED: those, by name: ranking thousands of rows costs more than it tells
#     (a word such as "opleidingen" is in half the descriptions);
#   * none: a typo, most likely: names whose trigram word similarity reaches pg_trgm's
#     threshold (0.6), ranked by it. At most FUZZY_CANDIDATES are ranked (the GIN index's first,
#     in the table's order), so a vague near-miss cannot make the database rank the whole table.
FOCUSED = 500
FUZZY_CANDIDATES = 1000


class TextMode(Enum):
    FOCUSED = "focused"
    BROAD = "broad"
    FUZZY = "fuzzy"


def _conditions(
    query: Query, params: dict[str, Any], mode: TextMode | None, *, pairs: bool = True
) -> tuple[list[str], str]:
    """WHERE conditions and the rank expression."""
    where = [_listed(query, params), *_row_filters(query, params, pairs=pairs)]
    if query.min_rating is not None:
        where.append(_MIN_RATING)
        params["min_rating"] = Decimal(query.min_rating)
    rank = "0"
    if query.text:
        if mode is TextMode.FUZZY:  # the candidates come from the FROM clause (_source)
            rank = "word_similarity(q.words, p.search_name)"
        else:
            where.append("p.document @@ q.tsquery")
            if mode is TextMode.FOCUSED:
                rank = (
                    "greatest(ts_rank(p.document, q.tsquery),"
                    " word_similarity(q.words, p.search_name))"
                )
    if query.sort is not Sort.RELEVANCE:
        rank = _SORT_KEYS[query.sort]
    return where, rank


# The average as the page shows it (rounded to one decimal), so "4 or more" keeps a 3,96 shown
# as "4,0". A semi-join on the (smaller) ratings table, not a subquery per provider.
_MIN_RATING = (
    "p.enterprise_number IN (SELECT pr.enterprise_number FROM provider_ratings pr"
    " WHERE pr.rating_count > 0"
    " AND round(pr.rating_sum::numeric / pr.rating_count, 1) >= :min_rating)"
)
# A sort other than relevance is the statement's rank (sorted descending, ties by name). The
# rating is read from a join. The validity is a subquery per row among the first thousand hits
# (cheap for a narrow filter), and a join on the registrations in force, aggregated once, when
# more match (a common filter sorts all its matches: 1.5 s as a subquery per row at 100,000
# providers, 0.46 s as the join; BENCHMARKS.md, issue 14).
_SORT_KEYS = {
    Sort.NAME: "0",
    Sort.RATING: "coalesce(round(sr.rating_sum::numeric / nullif(sr.rating_count, 0), 1), 0)",
    Sort.VALIDITY: (
        "(SELECT max(r.valid_until) - DATE '2000-01-01' FROM registrations r"
        f" WHERE r.enterprise_number = p.enterprise_number AND {_IN_FORCE_SQL})"
    ),
}
_BROAD_SORT_KEYS = {Sort.VALIDITY: "coalesce(sv.until - DATE '2000-01-01', 0)"}
_SORT_JOINS = {
    Sort.RATING: " LEFT JOIN provider_ratings sr ON sr.enterprise_number = p.enterprise_number",
    Sort.VALIDITY: (
        " LEFT JOIN (SELECT r.enterprise_number, max(r.valid_until) AS until FROM registrations r"
        f" WHERE {_IN_FORCE_SQL} GROUP BY r.enterprise_number) sv"
        " ON sv.enterprise_number = p.enterprise_number"
    ),
}


def _listed(query: Query, params: dict[str, Any]) -> str:
    """The condition that ``p`` is listed today (with the service type or number asked for):
    today among the days its registrations are in force (``listed``, migration 0015: on the row
    already read, and in the name index for a walk), else one with that type or number in force
    (a lookup in ``registrations``)."""
    if query.service_type is None and not query.numbers:
        return _LISTED_TODAY
    exists = [f"r.enterprise_number = p.enterprise_number AND {_IN_FORCE_SQL}"]
    if query.service_type is not None:
        exists.append("r.service_type = :service_type")
        params["service_type"] = query.service_type.value
    if query.numbers:
        exists.append("r.registration_number = ANY(CAST(:numbers AS text[]))")
        params["numbers"] = [str(number) for number in query.numbers]
    return f"EXISTS (SELECT 1 FROM registrations r WHERE {' AND '.join(exists)})"


def _row_filters(
    query: Query, params: dict[str, Any], alias: str = "p", *, pairs: bool = True
) -> list[str]:
    """The conditions on the provider's own row (GIN indexes, no join). A theme and a region
    together are one key of ``public_providers_theme_regions_idx`` (migration 0012): one posting
    list rather than two bitmaps of common keys and their intersection. Not where the rows are
    tested one by one rather than found by that index (``pairs=False``): the walk along the name
    index and the typo candidates, where the pairs would be made for every row read."""
    where = []
    if pairs and query.theme is not None and query.region is not None:
        pairs_asked = [f"{query.theme}|{term}" for term in region_terms(query.region)]
        params["theme_regions"] = pairs_asked
        return [
            f"public_providers_theme_regions({alias}.themes, {alias}.regions)"
            " && CAST(:theme_regions AS text[])"
        ]
    if query.theme is not None:
        where.append(f"{alias}.themes @> ARRAY[CAST(:theme AS text)]")
        params["theme"] = query.theme
    if query.region is not None:
        where.append(f"{alias}.regions && CAST(:region AS text[])")
        params["region"] = list(region_terms(query.region))
    return where
