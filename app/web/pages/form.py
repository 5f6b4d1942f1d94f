"""The search form: its fields, checked as the API checks its query parameters (``SearchForm``,
``read_form``), what a mistake in each means in the words of the page, and the search in words."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated
from urllib.parse import urlencode

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    field_validator,
)

from app.api import schemas
from app.api.queries import search
from app.api.routers.public import RegionParam, SearchText
from app.api.schemas import Theme
from app.domain.identifiers import ServiceType

SEARCH_FIELDS = ("q", "number", "theme", "service_type", "region", "min_rating", "sort")
SORTS = {
    search.Sort.RELEVANCE: "Best passend",
    search.Sort.NAME: "Naam",
    search.Sort.RATING: "Beoordeling",
    search.Sort.VALIDITY: "Langst geldig",
}
MIN_RATINGS = (1, 2, 3, 4, 5)


SERVICE_TYPES = {ServiceType.TRAINING: "opleiding", ServiceType.ADVICE: "advies"}

# What a mistake in each field means, in the words of the page (the API's own messages are for
# programmers, in English).
FIELD_ERRORS = {
    "q": "De zoektekst mag hoogstens 200 tekens tellen, zonder stuurtekens.",
    "number": "{value} is geen geldig registratienummer. Een registratienummer is DV.O "
    "(opleiding) of DV.A (advies) met een nummer, bijvoorbeeld DV.O236716 of DV.O17, of "
    "alleen het nummer.",
    "theme": "Kies een vakgebied uit de lijst.",
    "service_type": "Kies als type dienst opleiding of advies.",
    "region": "De regio mag hoogstens 100 tekens tellen, zonder stuurtekens. Geef een "
    "provincie, een gemeente of een postcode.",
    "min_rating": "Kies een minimale beoordeling uit de lijst.",
    "sort": "Kies een volgorde uit de lijst.",
    "page": "Het paginanummer moet een getal van 1 tot 1000 zijn.",
}


class SearchForm(BaseModel):
    """The search form's fields, checked as the API checks its query parameters."""

    model_config = ConfigDict(frozen=True)

    q: SearchText = None
    number: Annotated[str | None, StringConstraints(max_length=40)] = None
    theme: Theme | None = None
    service_type: ServiceType | None = None
    region: RegionParam = None
    min_rating: Annotated[int | None, Field(ge=1, le=5)] = None
    sort: search.Sort | None = None
    page: Annotated[int, Field(ge=1, le=1000)] = 1

    @field_validator("number")
    @classmethod
    def _registration_number(cls, value: str | None) -> str | None:
        if value:
            schemas.registration_numbers(value)  # raises on a mistake
        return value

    def query(self) -> search.Query:
        return search.Query(
            text=self.q,
            numbers=schemas.registration_numbers(self.number) if self.number else (),
            theme=self.theme,
            service_type=self.service_type,
            region=self.region,
            min_rating=self.min_rating,
            sort=self.sort or search.Sort.RELEVANCE,
        )

    def url(self, root: str, page: int | None = None, path: str = "/") -> str:
        """This search's address (at ``page``), or ``path`` with this search in its query."""
        fields = self.model_dump(include=set(SEARCH_FIELDS), exclude_none=True, mode="json")
        if page is not None:
            fields["page"] = page
        return f"{root}{path}" + (f"?{urlencode(fields)}" if fields else "")


def read_form(params: Mapping[str, str]) -> tuple[SearchForm | None, dict[str, str]]:
    """The form, or the Dutch message per field at fault. Blank fields are left out."""
    given = {
        name: value.strip()
        for name in (*SEARCH_FIELDS, "page")
        if (value := params.get(name)) is not None and value.strip()
    }
    try:
        return SearchForm.model_validate(given), {}
    except ValidationError as exc:
        fields = {str(error["loc"][0]) for error in exc.errors() if error["loc"]}
        return None, {
            name: message.format(value=f'"{given.get(name, "")}"')
            for name, message in FIELD_ERRORS.items()
            if name in fields
        }


def search_summary(form: SearchForm) -> list[str]:
    """What was searched, in words, for the folded form's summary."""
    said = []
    if form.q:
        said.append(f"“{form.q}”")
    if form.number:
        said.append(f"nummer {form.number}")
    if form.theme:
        said.append(form.theme)
    if form.service_type:
        said.append(SERVICE_TYPES[form.service_type])
    if form.region:
        said.append(f"in {form.region}")
    if form.min_rating:
        said.append(f"beoordeling {form.min_rating} of meer")
    return said
