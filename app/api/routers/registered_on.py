"""Was this registration in force on that day? (DOMAIN.md: "Anyone can check, for a
registration number and a date, whether that registration was in force on that day.")

For anyone, without login: an enterprise about to buy a training, its accountant, the agency's
kmo-portefeuille application. The answer is the unit's state folded from the events recorded up
to the end of that day in Belgium, the same fold as the agency's ``as_of``
(``queries.unit_state_as_of``), judged by ``app.domain.attest.in_force_on``: a later stop or
expiry does not rewrite the past. "Not in force" says only that: no reason, no status, no audit.

A day in the future is refused (422 ``date-in-future``): the registry does not foretell. An
answer about a past day never changes (later events are recorded later); it is still cached
like every public answer (``KMOP_PUBLIC_MAX_AGE_SECONDS``, ETag, 304).
"""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import Response
from pydantic import AfterValidator, Field
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from app.api.http.deps import PublicEngineDep
from app.api.http.problems import problem_responses
from app.api.queries import registrations as queries
from app.api.routers.public import cacheable
from app.api.schemas import Day, View, registration_numbers
from app.domain.attest import KIND_WORDS, in_force_on
from app.domain.errors import ErrorKind, KmopError
from app.domain.events import RegistrationKind
from app.domain.identifiers import RegistrationNumber, ServiceType
from app.domain.policies import end_of_day, today
from app.services.registrations import RegistrationService, UnknownResource

router = APIRouter(prefix="/public", tags=["public"])


class DateInFuture(KmopError):
    code = "date-in-future"
    kind = ErrorKind.INVALID
    title = "The day asked about has not come yet"


class RegistrationCheck(View):
    """Whether a registration was in force on a day, with what was public of it then; when it
    was not, nothing but that."""

    registration_number: str = Field(examples=["DV.O236716"])
    service_type: ServiceType = Field(description="Follows from the number (O: opleiding)")
    on: date = Field(description="The day asked about (calendar day in Belgium)")
    in_force: bool
    provider_name: str | None = Field(None, description="When in force: as registered")
    enterprise_number: str | None = Field(None, description="When in force")
    registration_kind: RegistrationKind | None = Field(None, description="When in force")
    kind_label: str | None = Field(None, description="The kind in Dutch words, when in force")
    valid_from: date | None = Field(None, description="When in force: as it stood that day")
    valid_until: date | None = Field(None, description="When in force: as it stood that day")


NumberPath = Annotated[
    str,
    # The numbers meant, separated by a space: the digits alone may be either service type's.
    AfterValidator(lambda v: " ".join(map(str, registration_numbers(v)))),
    Path(
        max_length=40,
        description="A registration number in any written form: DV.O236716, dvo236716, DV.O17 "
        "(DV.O000017), or the digits alone (17: DV.O000017 or DV.A000017, one counter serves "
        "both service types)",
        examples=["DV.O236716"],
    ),
]


def belgian_today(request: Request) -> date:
    service: RegistrationService = request.app.state.service
    return today(service.clock.now())


async def unit_key_of(conn: AsyncConnection, number: RegistrationNumber) -> str | None:
    """The unit that holds ``number`` (for life), if any does."""
    found = await conn.scalar(
        text("SELECT unit_key FROM registrations WHERE registration_number = :number"),
        {"number": str(number)},
    )
    return str(found) if found is not None else None


async def check_any(
    conn: AsyncConnection, numbers: list[RegistrationNumber], on: date
) -> RegistrationCheck:
    """The answer for whichever of ``numbers`` this registry gave (at most one: the digits alone
    mean DV.O or DV.A, and one counter serves both); ``UnknownResource`` when none."""
    for number in numbers[:-1]:
        try:
            return await check(conn, number, on)
        except UnknownResource:
            continue
    return await check(conn, numbers[-1], on)


async def check(conn: AsyncConnection, number: RegistrationNumber, on: date) -> RegistrationCheck:
    """The answer for ``number`` on ``on``; ``UnknownResource`` when no unit ever had it."""
    unit_key = await unit_key_of(conn, number)
    if unit_key is None:
        raise UnknownResource(f"{number} is not a registration number this registry gave")
    folded = await queries.unit_state_as_of(conn, unit_key, end_of_day(on))
    state = folded.state
    registration = in_force_on(state, on)
    answer = RegistrationCheck(
        registration_number=str(number),
        service_type=number.service_type,
        on=on,
        in_force=registration is not None,
    )
    if registration is None or state.unit is None or state.registered is None:
        return answer
    return answer.model_copy(
        update={
            "provider_name": state.registered.provider_name,
            "enterprise_number": str(state.unit.enterprise_number),
            "registration_kind": registration.kind,
            "kind_label": KIND_WORDS[registration.kind],
            "valid_from": registration.valid_from,
            "valid_until": registration.valid_until,
        }
    )


def refuse_future(on: date, today: date) -> None:
    if on > today:
        raise DateInFuture(
            f"{on} has not come yet (today is {today} in Belgium): ask about today or a past day"
        )


@router.get(
    "/registrations/{number}",
    response_model=RegistrationCheck,
    responses={
        304: {"description": "Not modified (If-None-Match)"},
        **problem_responses(404, 422),
    },
    summary="Was this registration in force on that day? (kind and validity as they stood)",
)
async def registered_on(
    request: Request,
    number: NumberPath,
    engine: PublicEngineDep,
    on: Annotated[
        Day | None,
        Query(description="The day (YYYY-MM-DD); default today in Belgium; not in the future"),
    ] = None,
) -> Response:
    current = belgian_today(request)
    day = on or current
    refuse_future(day, current)
    async with engine.connect() as conn:
        answer = await check_any(conn, [RegistrationNumber.parse(n) for n in number.split()], day)
    return cacheable(request, answer, max_age=request.app.state.settings.public_max_age_seconds)
