"""The public search, in SQL: who is registered today, found by text, number, theme, service type
and region, with what the public may see of them.

Everything is PostgreSQL's work, on indexes (migration 0004):

* free text matches the name and description through full-text search (``simple`` for the
  name, ``dutch`` for the description, both over ``unaccent``) **or** the name through trigram
  word similarity (``<%``, ``pg_trgm``), which forgives small typos ("kiwa belgum"); it ranks
  by the better of ``ts_rank`` and the similarity;
* a registration number in any written form is parsed and matched exactly;
* theme and region are array containment on GIN indexes (``regions`` holds the provinces,
  municipalities and postal codes of the provider's locations);
* a provider is listed only while one of its registrations is in force on the day of the
  query (status registered, conditionally or as starter, and today within its validity):
  stopped, expired and refused ones drop out with the event that ends them, and one whose
  validity ran out drops out that day even before the deadline job records the expiry.

The page's registrations and rating come in the same statement (lateral subqueries), so a
search is one round trip, plus a capped count when the page does not tell the total.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from app.domain.identifiers import RegistrationNumber, ServiceType
from app.domain.regions import postal_code, province_named, region_key

IN_FORCE = ("registered", "registered_conditionally", "registered_starter")
PUBLIC_STATUS: dict[str, tuple[str, str]] = {
    "registered": ("registered", "geregistreerd"),
    "registered_conditionally": ("registered-conditionally", "voorwaardelijk geregistreerd"),
    "registered_starter": ("registered-starter", "geregistreerd als starter"),
}
COUNT_CAP = 1000  # a total beyond this is reported as "more than 1000"

_IN_FORCE_SQL = (
    "r.status IN ('registered', 'registered_conditionally', 'registered_starter')"
    " AND r.valid_from <= :today AND r.valid_until >= :today"
)

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


@dataclass(frozen=True, slots=True)
class Query:
    text: str | None = None
    number: RegistrationNumber | None = None
    theme: str | None = None
    service_type: ServiceType | None = None
    region: str | None = None


def region_term(region: str) -> str:
    """The key of ``public_providers.regions`` a region search means: a postal code, a
    province slug, or a municipality."""
    try:
        return postal_code(region)
    except ValueError:
        pass
    province = province_named(region)
    return province.value if province is not None else region_key(region)


def _conditions(query: Query, params: dict[str, Any]) -> tuple[list[str], str]:
    """WHERE conditions and the rank expression."""
    exists = [f"r.enterprise_number = p.enterprise_number AND {_IN_FORCE_SQL}"]
    if query.service_type is not None:
        exists.append("r.service_type = :service_type")
        params["service_type"] = query.service_type.value
    if query.number is not None:
        exists.append("r.registration_number = :number")
        params["number"] = str(query.number)
    where = [f"EXISTS (SELECT 1 FROM registrations r WHERE {' AND '.join(exists)})"]
    rank = "0"
    if query.text:
        params["q"] = query.text
        where.append("(p.document @@ q.tsquery OR q.words <% p.search_name)")
        rank = "greatest(ts_rank(p.document, q.tsquery), word_similarity(q.words, p.search_name))"
    if query.theme is not None:
        where.append("p.themes @> ARRAY[CAST(:theme AS text)]")
        params["theme"] = query.theme
    if query.region is not None:
        where.append("p.regions @> ARRAY[CAST(:region AS text)]")
        params["region"] = region_term(query.region)
    return where, rank


# The query's terms, computed once per statement: ``unaccent`` is only STABLE, so written inline
# ``websearch_to_tsquery(..., unaccent(:q))`` and ``lower(unaccent(:q))`` are computed again for
# every candidate row, in the recheck and in the rank (about 15 us a row, half the cost of a
# common word; BENCHMARKS.md, "Public search"). As a one-row derived table (OFFSET 0 keeps the
# planner from inlining it back) they are computed once and the scans and the rank read them.
_TERMS = (
    "(SELECT websearch_to_tsquery('simple', unaccent(:q))"
    " || websearch_to_tsquery('dutch', unaccent(:q)) AS tsquery,"
    " lower(unaccent(:q)) AS words OFFSET 0) q"
)


@dataclass(frozen=True, slots=True)
class Found:
    items: list[dict[str, Any]]
    total: int
    exact: bool
    more: bool


async def search(
    conn: AsyncConnection, query: Query, *, today: date, page: int, limit: int
) -> Found:
    params: dict[str, Any] = {"today": today, "limit": limit + 1, "offset": (page - 1) * limit}
    where, rank = _conditions(query, params)
    condition = " AND ".join(where)
    source = f"{_TERMS}, public_providers p" if query.text else "public_providers p"
    rows = (
        await conn.execute(
            text(
                f"SELECT {_COLUMNS}, {_DETAILS} FROM ("
                f" SELECT p.*, {rank} AS rank FROM {source} WHERE {condition}"
                " ORDER BY rank DESC, p.search_name, p.enterprise_number"
                " LIMIT :limit OFFSET :offset) p"
                " ORDER BY p.rank DESC, p.search_name, p.enterprise_number"
            ),
            params,
        )
    ).mappings()
    items = [_public(row) for row in rows]
    more = len(items) > limit
    items = items[:limit]
    if not more and (page == 1 or items):
        return Found(items, (page - 1) * limit + len(items), True, False)
    params["cap"] = COUNT_CAP + 1
    counted = await conn.scalar(
        text(f"SELECT count(*) FROM (SELECT 1 FROM {source} WHERE {condition} LIMIT :cap) c"),
        params,
    )
    total = int(counted or 0)
    return Found(items, min(total, COUNT_CAP), total <= COUNT_CAP, more)


async def provider(
    conn: AsyncConnection, enterprise_number: str, *, today: date
) -> dict[str, Any] | None:
    """A listed provider's public page, or None when it is not registered today."""
    row = (
        (
            await conn.execute(
                text(
                    f"SELECT {_COLUMNS}, {_DETAILS} FROM public_providers p"
                    " WHERE p.enterprise_number = :kbo"
                ),
                {"kbo": enterprise_number, "today": today},
            )
        )
        .mappings()
        .first()
    )
    if row is None:
        return None
    found = _public(row)
    return found if found["registrations"] else None


def _public(row: Any) -> dict[str, Any]:
    """The row in the public's words: the view ``schemas.PublicProvider``, and nothing more."""
    registrations = row["registrations"]
    if isinstance(registrations, str):
        registrations = json.loads(registrations)
    rating = row["rating"]
    if isinstance(rating, str):
        rating = json.loads(rating)
    return {
        "enterprise_number": row["enterprise_number"],
        "name": row["name"],
        "description": row["description"],
        "website": row["website"],
        "themes": list(row["themes"] or ()),
        "locations": row["locations"],
        "registrations": [
            {
                "number": r["number"],
                "service_type": r["service_type"],
                "status": PUBLIC_STATUS[r["status"]][0],
                "status_label": PUBLIC_STATUS[r["status"]][1],
                "valid_from": r["valid_from"],
                "valid_until": r["valid_until"],
            }
            for r in registrations
        ],
        "rating": {
            "average": round(rating["sum"] / rating["count"], 1),
            "count": rating["count"],
        }
        if rating and rating["count"]
        else None,
    }
