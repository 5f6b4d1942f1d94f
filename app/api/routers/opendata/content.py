"""What the files hold: the licence, the columns (stable names; README, "Open data"), the rows
in force today, each row in the public's words (JSON) and flat (CSV), the JSON file's own
description, and the dataset in DCAT-AP."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from enum import Enum
from typing import Any

from app.api.queries import search

LICENCE_NAME = "Modellicentie Gratis Hergebruik v1.0 (Vlaamse overheid)"
LICENCE_URL = (
    "https://overheid.vlaanderen.be/sites/default/files/documenten/ict-egov/licenties/"
    "hergebruik/modellicentie_gratis_hergebruik_v1_0.html"
)
ATTRIBUTION = "Bron: register van de dienstverleners van de kmo-portefeuille (VLAIO)"
TITLE = "Geregistreerde dienstverleners kmo-portefeuille"
PUBLISHER = "Agentschap Innoveren & Ondernemen (VLAIO)"


@dataclass(frozen=True, slots=True)
class Column:
    name: str
    description: str


# The files' columns, in order; the README's table lists them (tests/api/test_opendata.py).
COLUMNS: tuple[Column, ...] = (
    Column("registration_number", "DV.O (training) or DV.A (advice) and six digits"),
    Column("service_type", "opleiding or advies"),
    Column("status", "registered, registered_conditionally or registered_starter"),
    Column("status_label", "the status in Dutch words"),
    Column("valid_from", "first day of the registration's validity (YYYY-MM-DD)"),
    Column("valid_until", "last day of its validity (YYYY-MM-DD)"),
    Column("enterprise_number", "the provider's Belgian enterprise number, 10 digits"),
    Column("name", "the provider's name"),
    Column("description", "the provider's own description; empty when none"),
    Column("website", "empty when none"),
    Column("themes", "eligible themes; CSV: separated by ' | '"),
    Column(
        "locations",
        "CSV: 'street, postal_code municipality (province)' separated by ' | '; "
        "JSON: objects with name, street, postal_code, municipality, province",
    ),
    Column("rating_average", "average client rating, 1 to 5, one decimal; empty when none"),
    Column("rating_count", "how many ratings; 0 when none"),
)
FIELDS = tuple(column.name for column in COLUMNS)
SEPARATOR = " | "

_ROWS = f"""
    SELECT r.registration_number, r.service_type, r.status, r.valid_from, r.valid_until,
        p.enterprise_number, p.name, p.description, p.website, p.themes, p.locations,
        pr.rating_count, pr.rating_sum
    FROM registrations r
    JOIN public_providers p ON p.enterprise_number = r.enterprise_number
    LEFT JOIN provider_ratings pr ON pr.enterprise_number = r.enterprise_number
    WHERE {search._IN_FORCE_SQL.replace(":today", "$1")}
        AND r.registration_number IS NOT NULL
    ORDER BY r.registration_number
"""


class Format(Enum):
    CSV = "csv"
    JSON = "json"


MEDIA_TYPES = {
    Format.CSV: "text/csv; charset=utf-8; header=present",
    Format.JSON: "application/json",
}


def row_values(record: Any) -> dict[str, Any]:
    """A row in the public's words, for JSON (lists and objects kept)."""
    count = record["rating_count"] or 0
    status, label = search.PUBLIC_STATUS[record["status"]]
    locations = record["locations"]
    if isinstance(locations, str):
        locations = json.loads(locations)
    return {
        "registration_number": record["registration_number"],
        "service_type": record["service_type"],
        "status": status,
        "status_label": label,
        "valid_from": record["valid_from"].isoformat(),
        "valid_until": record["valid_until"].isoformat(),
        "enterprise_number": record["enterprise_number"],
        "name": record["name"],
        "description": record["description"],
        "website": record["website"],
        "themes": list(record["themes"] or ()),
        "locations": [
            {
                "name": location.get("name"),
                "street": location["street"],
                "postal_code": location["postal_code"],
                "municipality": location["municipality"],
                "province": location["province"],
            }
            for location in locations
        ],
        "rating_average": round(record["rating_sum"] / count, 1) if count else None,
        "rating_count": count,
    }


def _location_text(location: dict[str, Any]) -> str:
    place = f"{location['street']}, {location['postal_code']} {location['municipality']}"
    named = f"{location['name']}: {place}" if location.get("name") else place
    return f"{named} ({location['province']})"


def csv_values(values: dict[str, Any]) -> list[Any]:
    flat = {
        **values,
        "themes": SEPARATOR.join(values["themes"]),
        "locations": SEPARATOR.join(_location_text(loc) for loc in values["locations"]),
    }
    return ["" if flat[name] is None else flat[name] for name in FIELDS]


def description(base_url: str, day: date) -> dict[str, Any]:
    """What the JSON file says of itself (its ``dataset`` member)."""
    return {
        "title": TITLE,
        "in_force_on": day.isoformat(),
        "licence": {"name": LICENCE_NAME, "url": LICENCE_URL, "attribution": ATTRIBUTION},
        "description": f"{base_url}/public/dataset.jsonld",
        "columns": [{"name": c.name, "description": c.description} for c in COLUMNS],
    }


def dataset(base_url: str) -> dict[str, Any]:
    """The dataset in DCAT-AP (JSON-LD): what it is, who publishes it, under which licence,
    and its two distributions."""
    licence = {"@id": LICENCE_URL, "@type": "dct:LicenseDocument", "dct:title": LICENCE_NAME}
    columns = "; ".join(f"{c.name}: {c.description}" for c in COLUMNS)

    def distribution(kind: Format, media: str, title: str) -> dict[str, Any]:
        url = f"{base_url}/public/providers.{kind.value}"
        return {
            "@id": url,
            "@type": "dcat:Distribution",
            "dct:title": title,
            "dcat:accessURL": {"@id": url},
            "dcat:downloadURL": {"@id": url},
            "dcat:mediaType": {"@id": f"https://www.iana.org/assignments/media-types/{media}"},
            "dct:format": {
                "@id": f"http://publications.europa.eu/resource/authority/file-type/{kind.name}"
            },
            "dct:license": licence,
        }

    return {
        "@context": {
            "dcat": "http://www.w3.org/ns/dcat#",
            "dct": "http://purl.org/dc/terms/",
            "foaf": "http://xmlns.com/foaf/0.1/",
        },
        "@id": f"{base_url}/public/dataset.jsonld",
        "@type": "dcat:Dataset",
        "dct:title": {"@value": TITLE, "@language": "nl"},
        "dct:description": {
            "@value": "Alle registraties van dienstverleners voor de kmo-portefeuille die "
            "vandaag geldig zijn, één rij per registratie, met wat de publieke zoekmodule "
            f"toont. Kolommen: {columns}.",
            "@language": "nl",
        },
        "dct:publisher": {"@type": "foaf:Agent", "foaf:name": PUBLISHER},
        "dct:license": licence,
        "dct:rights": {"@value": ATTRIBUTION, "@language": "nl"},
        "dct:language": {"@id": "http://publications.europa.eu/resource/authority/language/NLD"},
        "dct:accrualPeriodicity": {
            "@id": "http://publications.europa.eu/resource/authority/frequency/CONT"
        },
        "dcat:theme": {"@id": "http://publications.europa.eu/resource/authority/data-theme/ECON"},
        "dcat:keyword": ["kmo-portefeuille", "dienstverleners", "opleiding", "advies"],
        "dcat:landingPage": {"@id": f"{base_url}/"},
        "dcat:distribution": [
            distribution(Format.CSV, "text/csv", "CSV (RFC 4180, UTF-8, header row)"),
            distribution(Format.JSON, "application/json", "JSON: {dataset, registrations}"),
        ],
    }
