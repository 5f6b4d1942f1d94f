"""The public search benchmark's queries (``bench/search.py``): a sample of the listed
providers and the four kinds of query made from it (name, number, theme+region, combined)."""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from app.api.queries import search
from app.domain.identifiers import RegistrationNumber, ServiceType
from app.domain.policies import ELIGIBLE_THEMES
from app.domain.regions import PROVINCE_LABELS, Province
from bench.search_data import (
    LEGAL_FORM_WORDS,
    LOCATIONS,
    plain,
)
from bench.search_load import IN_FORCE

# --- the queries -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Listed:
    """A provider listed today, as the database has it: where queries come from."""

    name: str
    themes: list[str]
    regions: list[str]
    service_types: list[str]
    numbers: list[str]


async def listed_sample(conn: AsyncConnection, day: date, size: int = 3000) -> list[Listed]:
    await conn.execute(text("SELECT setseed(0.25)"))
    rows = await conn.execute(
        text(
            "SELECT p.name, p.themes, p.regions, array_agg(r.service_type) AS services,"
            " array_agg(r.registration_number) AS numbers"
            " FROM public_providers p JOIN registrations r"
            f" ON r.enterprise_number = p.enterprise_number AND {IN_FORCE}"
            " GROUP BY p.enterprise_number ORDER BY random() LIMIT :n"
        ),
        {"today": day, "n": size},
    )
    return [Listed(r.name, list(r.themes), list(r.regions), r.services, r.numbers) for r in rows]


def typo(rng: random.Random, word: str) -> str:
    """One slip of the finger: a letter dropped, doubled, swapped with the next, or replaced."""
    i = rng.randrange(1, len(word) - 1)
    match rng.randrange(4):
        case 0:
            return word[:i] + word[i + 1 :]
        case 1:
            return word[:i] + word[i] + word[i:]
        case 2:
            return word[:i] + word[i + 1] + word[i] + word[i + 2 :]
        case _:
            return word[:i] + rng.choice("aeiourstn") + word[i + 1 :]


def name_words(name: str) -> list[str]:
    return [w for w in name.split() if w not in LEGAL_FORM_WORDS and w != "&"]


def name_query(rng: random.Random, name: str) -> str:
    """What someone who knows the provider types: all of its name, two words or one; some
    without accents, in lower case, or with a typo."""
    words = name_words(name)
    roll = rng.random()
    if roll < 0.4 or len(words) < 2:
        chosen = words
    elif roll < 0.7:
        i = rng.randrange(len(words) - 1)
        chosen = words[i : i + 2]
    else:
        chosen = [rng.choice([w for w in words if len(w) >= 4] or words)]
    if rng.random() < 0.2:
        longest = max(range(len(chosen)), key=lambda i: len(chosen[i]))
        if len(chosen[longest]) >= 5:
            chosen = [*chosen[:longest], typo(rng, chosen[longest]), *chosen[longest + 1 :]]
    query = " ".join(chosen)
    if rng.random() < 0.5:
        query = plain(query)
    return query.lower() if rng.random() < 0.5 else query


def number_query(rng: random.Random, number: str) -> str:
    parsed = RegistrationNumber.parse(number)
    letter, serial = parsed.service_type.number_letter, f"{parsed.serial:06d}"
    form = rng.choice(
        (
            f"DV.{letter}{serial}",
            f"dv{letter.lower()}{serial}",
            f"dv.{letter.lower()} {serial}",
            f" DV {letter}{serial} ",
            f"Dv.{letter}{serial}",
        )
    )
    return form


def region_query(rng: random.Random, regions: Sequence[str]) -> str:
    """A region as people write it: a province (slug or name), a municipality or a code."""
    if not regions or rng.random() < 0.4:  # anywhere in the country
        province = rng.choice(list(LOCATIONS))
        code, town = rng.choice(LOCATIONS[province])
        regions = [province, code, town]
    value = rng.choice(list(regions))
    if value in Province.__members__.values():
        return rng.choice((value, PROVINCE_LABELS[Province(value)]))
    return value.title() if not value.isdigit() else value


def build_queries(rng: random.Random, kind: str, sample: Sequence[Listed]) -> dict[str, str]:
    provider = rng.choice(sample)
    if kind == "name":
        return {"q": name_query(rng, provider.name)}
    if kind == "number":
        return {"number": number_query(rng, rng.choice(provider.numbers))}
    if kind == "theme+region":
        return {
            "theme": rng.choice(sorted(ELIGIBLE_THEMES)),
            "region": region_query(rng, provider.regions),
        }
    # combined: mostly what one listed provider matches (one word of its name), else a guess
    own = rng.random() < 0.7
    word = rng.choice([w for w in name_words(provider.name) if len(w) >= 4] or [provider.name])
    return {
        "q": plain(word).lower() if rng.random() < 0.5 else word,
        "theme": rng.choice(provider.themes if own else sorted(ELIGIBLE_THEMES)),
        "service_type": rng.choice(
            provider.service_types if own else [s.value for s in ServiceType]
        ),
        "region": region_query(rng, provider.regions if own else []),
    }


def as_query(params: dict[str, str], page_number: int = 1) -> search.Query:
    """The query the API makes of these parameters (``app.api.routers.public``)."""
    return search.Query(
        text=params.get("q", "").strip() or None,
        numbers=(RegistrationNumber.parse(params["number"]),) if "number" in params else (),
        theme=params.get("theme"),
        service_type=ServiceType(params["service_type"]) if "service_type" in params else None,
        region=params.get("region", "").strip() or None,
    )
