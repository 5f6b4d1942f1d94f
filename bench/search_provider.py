"""The search benchmark's provider (``bench/search_data.py``): its name, description, themes and
locations, drawn from the words of ``bench/search_words.py``."""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass

from app.domain.events import ProfileLocation
from app.domain.identifiers import ServiceType
from bench.search_words import (
    ACTIVITIES,
    AREAS,
    CLOSINGS,
    FIRST_NAMES,
    LEGAL_FORMS,
    LOCATIONS,
    OPENINGS,
    PARTNER_SUFFIXES,
    PROVINCE_WEIGHTS,
    STREETS,
    SURNAMES,
    THEME_PHRASES,
    THEME_WEIGHTS,
    TOPICS,
    plain,
)

# --- the provider ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Profile:
    name: str
    description: str
    themes: tuple[str, ...]
    locations: tuple[ProfileLocation, ...]
    website: str
    services: tuple[ServiceType, ...]
    keeps_profile: bool  # else only what the application says is public


def _weighted(rng: random.Random, weights: dict[str, int]) -> str:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def _name(rng: random.Random, municipality: str) -> str:
    surname, activity = rng.choice(SURNAMES), rng.choice(ACTIVITIES)
    pattern = rng.randrange(7)
    if pattern <= 1:
        name = f"{activity} {surname}"
    elif pattern == 2:
        name = f"{surname} & {rng.choice(SURNAMES)} {rng.choice(PARTNER_SUFFIXES)}"
    elif pattern == 3:
        name = f"{activity} {rng.choice((*AREAS, municipality))}"
    elif pattern == 4:
        place = rng.choice(("", "", f" {municipality}", f" {rng.choice(AREAS)}"))
        name = f"{rng.choice(('Academie voor', 'Centrum voor', 'Huis van'))} {rng.choice(TOPICS)}"
        name += place
    elif pattern == 5:
        name = f"{surname} {rng.choice(TOPICS)} {rng.choice(PARTNER_SUFFIXES)}"
    else:
        name = f"{rng.choice(FIRST_NAMES)} {surname} {rng.choice(('Coaching', 'Consulting'))}"
    form = rng.choice(LEGAL_FORMS)
    return f"{name} {form}" if form else name


def _locations(rng: random.Random) -> tuple[ProfileLocation, ...]:
    province = _weighted(rng, PROVINCE_WEIGHTS)
    chosen: list[tuple[str, str]] = []
    for _ in range(rng.choices((1, 2, 3), weights=(60, 28, 12))[0]):
        if chosen and rng.random() < 0.4:
            province = _weighted(rng, PROVINCE_WEIGHTS)
        places = LOCATIONS[province]
        place = places[0] if rng.random() < 0.35 else rng.choice(places)
        if place not in chosen:
            chosen.append(place)
    return tuple(
        ProfileLocation(
            name=None if i == 0 else f"Vestiging {municipality}",
            street=f"{rng.choice(STREETS)} {rng.randint(1, 220)}",
            postal_code=code,
            municipality=municipality,
        )
        for i, (code, municipality) in enumerate(chosen)
    )


def _description(
    rng: random.Random, name: str, themes: Sequence[str], area: str, services: Sequence[str]
) -> str:
    phrases = [p for theme in themes for p in THEME_PHRASES[theme]]
    a, b = rng.sample(phrases, 2)
    service = "opleidingen" if "opleiding" in services else "adviestrajecten"
    people = "trainers" if "opleiding" in services else "adviseurs"
    sentences = [rng.choice(OPENINGS).format(name=name, area=area, a=a, b=b, service=service)]
    sentences += [c.format(people=people) for c in rng.sample(CLOSINGS, rng.randint(1, 2))]
    return " ".join(sentences)


def make_profile(rng: random.Random) -> Profile:
    locations = _locations(rng)
    name = _name(rng, locations[0].municipality)
    themes: set[str] = set()
    for _ in range(rng.choices((1, 2, 3), weights=(45, 38, 17))[0]):
        themes.add(_weighted(rng, THEME_WEIGHTS))
    services = rng.choices(
        (
            (ServiceType.TRAINING,),
            (ServiceType.ADVICE,),
            (ServiceType.TRAINING, ServiceType.ADVICE),
        ),
        weights=(45, 35, 20),
    )[0]
    ordered = tuple(sorted(themes))
    area = rng.choice((locations[0].municipality, rng.choice(AREAS), "heel Vlaanderen"))
    slug = "".join(
        c for c in plain(name.split(" ")[0] + name.split(" ")[-1]).lower() if c.isalnum()
    )
    return Profile(
        name=name,
        description=_description(rng, name, ordered, area, [s.value for s in services]),
        themes=ordered,
        locations=locations,
        website=f"https://www.{slug}.be",
        services=services,
        keeps_profile=rng.random() < 0.9,
    )
