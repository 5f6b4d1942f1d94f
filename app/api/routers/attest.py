"""The attest of registration as a PDF (brochure step 4: "Bij een positieve beslissing ontvangt
u het attest van registratie"), for the provider (its own units) and the agency.

The document is the registry's state at one version of the unit's stream (``app.domain.attest``
says what it states, ``app.documents.attest`` draws it): the same version gives the same bytes,
and a later renewal, follow-up or stop gives a new document. A registration that ended still
gets its attest, saying since when it is no longer in force; a unit that was never registered
has none (409 ``not-registered``).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response

from app.api.http.auth import Principal, Role, require
from app.api.http.commands import etag
from app.api.http.deps import EngineDep
from app.api.http.params import RegistrationRef
from app.api.http.problems import problem_responses
from app.api.queries import registrations as queries
from app.documents import attest as document
from app.domain.attest import attest_of
from app.domain.errors import NotRegistered
from app.domain.identifiers import RegistrationNumber

router = APIRouter(tags=["provider", "agency"])
AttestReader = Annotated[Principal, Depends(require(Role.PROVIDER, Role.AGENCY))]
PDF = "application/pdf"


@router.get(
    "/registrations/{ref}/attest",
    response_class=Response,
    responses={
        200: {
            "description": "The attest, a PDF in Dutch (ETag: the unit's stream version)",
            "content": {PDF: {"schema": {"type": "string", "format": "binary"}}},
        },
        304: {"description": "Not modified (If-None-Match)"},
        **problem_responses(401, 403, 404, 409, 422),
    },
    summary="The attest of registration (PDF, Dutch) with its verification code",
)
async def download_attest(
    ref: RegistrationRef, principal: AttestReader, engine: EngineDep, request: Request
) -> Response:
    async with engine.connect() as conn:
        live = await queries.find_unit(conn, ref, principal)
        folded = await queries.unit_state_as_of(conn, live["unit_key"], None)
    number = live["registration_number"]
    stated = attest_of(folded.state, RegistrationNumber.parse(number)) if number else None
    if stated is None or folded.last_recorded_at is None:
        raise NotRegistered(f"{ref} was never registered: an attest follows a granting decision")
    tag = etag(folded.version)
    headers = {
        "ETag": tag,
        "Cache-Control": "private, no-cache",
        "Content-Disposition": f'attachment; filename="attest-{number}.pdf"',
    }
    if tag in (t.strip() for t in request.headers.get("if-none-match", "").split(",")):
        return Response(status_code=304, headers=headers)
    content = document.render(
        stated,
        stated_at=folded.last_recorded_at,
        base_url=request.app.state.settings.public_base_url,
    )
    return Response(content, media_type=PDF, headers=headers)
