"""Replies of the command routes: the resulting state of the resource a command acted on,
rendered inside the command's transaction (``app.api.http.commands``).

A new application's reply, and an audit's after a command on it, are made from what is in hand
(the unit's state, the events, what the projections were just given, the row the command's read
found): no read. The others read the projections in the transaction, after its writes."""

from __future__ import annotations

from typing import Any

from app.api import schemas
from app.api.http.auth import Principal, Role
from app.api.http.commands import Render, Reply
from app.api.queries import registrations as queries
from app.domain.registration import ApplicationStatus, UnitState
from app.events.catalog import unit_key_from_stream
from app.services.registrations import Located, Outcome
from app.services.transaction import Transaction


def _open_application(
    application_id: str, principal: Principal, outcome: Outcome[Any]
) -> schemas.Application | None:
    """The unit's open application without an audit yet, as the projections show it, when the
    caller may see it (the agency, or the provider it belongs to); otherwise None."""
    state = outcome.state
    if not isinstance(state, UnitState) or state.unit is None:
        return None
    application = state.application
    if application is None or application.application_id != application_id or application.audit:
        return None
    enterprise_number = str(state.unit.enterprise_number)
    if principal.role is not Role.AGENCY and principal.enterprise_number != enterprise_number:
        return None
    return schemas.Application.model_construct(
        application_id=application_id,
        registration_id=unit_key_from_stream(outcome.stream_id),
        enterprise_number=enterprise_number,
        service_type=state.unit.service_type,
        track=application.track,
        status=ApplicationStatus.OPEN,
        submitted_on=application.submitted_on,
        sworn_declaration_on=application.sworn_declaration_on,
        decided_on=None,
        audit=None,
        registration_number=None,
        version=outcome.version,
    )


def application(application_id: str, principal: Principal, *, created: bool = False) -> Render:
    async def render(tx: Transaction, outcome: Any) -> Reply:
        view = _open_application(application_id, principal, outcome) or await queries.application(
            tx, application_id, principal
        )
        return Reply(
            201 if created else 200,
            view,
            location=f"/applications/{application_id}" if created else None,
            version=outcome.version,
        )

    return render


def located_audit(audit_id: str, located: Located | None, *, created: bool = False) -> Render:
    """The reply of a command on an audit ``located`` found (``queries.locate_audit``; None:
    the command made the audit): made from the audit's row as the command's read found it and
    the outcome, no read."""

    async def render(tx: Transaction, outcome: Any) -> Reply:
        found = located.value if located is not None else None
        return Reply(
            201 if created else 200,
            queries.audit_after(audit_id, found, outcome),
            location=f"/audits/{audit_id}" if created else None,
            version=outcome.version,
        )

    return render


def registration(unit_key: str, principal: Principal) -> Render:
    async def render(tx: Transaction, outcome: Any) -> Reply:
        row = await queries.find_unit(tx, unit_key, principal)
        return Reply(200, queries.registration_view(row), version=outcome.version)

    return render


def bureau(bureau_id: str) -> Render:
    async def render(tx: Transaction, outcome: Any) -> Reply:
        view = await queries.bureau(tx, bureau_id)
        created = outcome.version == 1
        return Reply(
            201 if created else 200,
            view,
            location=f"/bureaus/{bureau_id}" if created else None,
            version=outcome.version,
        )

    return render
