"""The public check on the web page: "was this registration in force on that day?", and where
an attest's verification address lands (``/controle/{code}``). Server-rendered, Dutch, no
JavaScript, like the rest of the page (``app.web.pages``: its templates, rendering and error
pages); the answer is the API's (``app.api.routers.registered_on.check``)."""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from app.api.http.deps import public_engine
from app.api.routers import registered_on
from app.documents.dutch import dutch_date
from app.domain.attest import attests_over_time, matches, parse_code
from app.domain.identifiers import (
    InvalidIdentifier,
    RegistrationNumber,
    written_registration_numbers,
)
from app.events import EventStore
from app.events.catalog import REGISTRY, unit_stream_id
from app.services.registrations import UnknownResource
from app.web.pages import friendly, render

router = APIRouter(include_in_schema=False)

NUMBER_ERROR = (
    "{value} is geen geldig registratienummer. Een registratienummer is DV.O (opleiding) of "
    "DV.A (advies) met een nummer, bijvoorbeeld DV.O236716 of DV.O17, of alleen het nummer."
)
DATE_ERROR = "{value} is geen datum. Geef een datum als 2026-03-01 (jaar-maand-dag)."
FUTURE_ERROR = "{value} ligt in de toekomst. Kies vandaag of een dag in het verleden."
CODE_ERROR = (
    "{value} is geen geldige controlecode. Een controlecode staat op het attest, bijvoorbeeld "
    "DVO000001-K7QM3TXA."
)


def _read_date(given: str, today: date) -> tuple[date | None, str | None]:
    if not given:
        return today, None
    try:
        day = date.fromisoformat(given)
    except ValueError:
        return None, DATE_ERROR.format(value=f'"{given[:20]}"')
    if day > today:
        return None, FUTURE_ERROR.format(value=dutch_date(day))
    if day.year < 1900:
        return None, DATE_ERROR.format(value=f'"{given[:20]}"')
    return day, None


async def _answer(
    request: Request, raw: dict[str, str], code: dict[str, Any] | None = None
) -> Response:
    """The form with ``raw`` in it, answered when its fields are right."""
    today = registered_on.belgian_today(request)
    context: dict[str, Any] = {"raw": raw, "errors": {}, "answer": None, "code": code}
    if not raw["nummer"] and not raw["datum"] and code is None:
        return render(request, "check.html", context | {"raw": {**raw, "datum": today.isoformat()}})
    errors = {}
    numbers: tuple[RegistrationNumber, ...] = ()
    try:
        numbers = written_registration_numbers(raw["nummer"][:40])
    except InvalidIdentifier:
        errors["nummer"] = NUMBER_ERROR.format(value=f'"{raw["nummer"][:40]}"')
    day, date_error = _read_date(raw["datum"], today)
    if date_error:
        errors["datum"] = date_error
    if errors or day is None:
        return render(request, "check.html", context | {"errors": errors}, status=422)
    async with public_engine(request).connect() as conn:
        try:
            answer = await registered_on.check_any(conn, list(numbers), day)
        except UnknownResource:
            said = " of ".join(map(str, numbers))
            errors["nummer"] = f"{said} is geen registratienummer uit dit register."
            return render(request, "check.html", context | {"errors": errors}, status=404)
    return render(request, "check.html", context | {"answer": answer, "today": today})


@friendly
async def check_page(request: Request) -> Response:
    """``/controle?nummer=DV.O000001&datum=2026-03-01``: empty, the form; else the answer."""
    raw = {name: request.query_params.get(name, "").strip() for name in ("nummer", "datum")}
    return await _answer(request, raw)


@friendly
async def code_page(request: Request) -> Response:
    """``/controle/{code}``, the address on an attest: is the code one of an attest this
    registry gave for that number, and is the registration in force today (or ``?datum=``)?"""
    given = str(request.path_params["code"])[:60]
    datum = request.query_params.get("datum", "").strip()
    try:
        number, digest = parse_code(given)
    except InvalidIdentifier:
        raw = {"nummer": "", "datum": datum}
        errors = {"code": CODE_ERROR.format(value=f'"{given}"')}
        context = {"raw": raw, "errors": errors, "answer": None, "code": None}
        return render(request, "check.html", context, status=422)
    async with public_engine(request).connect() as conn:
        unit_key = await registered_on.unit_key_of(conn, number)
        events = (
            await EventStore(conn, REGISTRY).read_stream(unit_stream_id(unit_key))
            if unit_key is not None
            else []
        )
    genuine = matches(digest, attests_over_time((e.event for e in events), number))
    code = {"text": given.strip().upper(), "genuine": genuine, "number": str(number)}
    return await _answer(request, {"nummer": str(number), "datum": datum}, code)


router.add_route("/controle", check_page, methods=["GET"], name="check_page")
router.add_route("/controle/{code}", code_page, methods=["GET"], name="code_page")
