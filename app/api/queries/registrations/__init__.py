"""The read side of the API: projections (and, where the detail lives only there, the events)
turned into response documents, always through the caller's scope (``app.api.queries.scope``).

``pages``: a listing's cursor and filters; ``units``: registration units (found, listed, as of
a moment, history); ``applications``; ``audits``; ``located``: what a command reads with its
one read, and the audit as a command left it; ``bureaus``. This package re-exports what the
routers and ``app.api.queries.projects`` use.

May import: ``app.domain``, ``app.runtime``, ``app.events``, ``app.services``, ``app.api.schemas``,
``app.api.http.auth``, ``app.api.queries.scope``; never ``app.api.routers``.
"""

from app.api.queries.registrations.applications import application, list_applications
from app.api.queries.registrations.audits import audit, list_audits
from app.api.queries.registrations.bureaus import bureau, list_bureaus
from app.api.queries.registrations.located import (
    audit_after,
    locate_application,
    locate_audit,
    locate_unit,
)
from app.api.queries.registrations.pages import Filters, _page, scoped
from app.api.queries.registrations.units import (
    find_unit,
    history,
    list_registrations,
    registration_as_of,
    registration_view,
    unit_state_as_of,
)

__all__ = [
    "Filters",
    "_page",
    "application",
    "audit",
    "audit_after",
    "bureau",
    "find_unit",
    "history",
    "list_applications",
    "list_audits",
    "list_bureaus",
    "list_registrations",
    "locate_application",
    "locate_audit",
    "locate_unit",
    "registration_as_of",
    "registration_view",
    "scoped",
    "unit_state_as_of",
]
