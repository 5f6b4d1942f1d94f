"""Who may see what, in one place: the SQL condition that limits each kind of resource to the
caller. The agency sees everything; a provider its own enterprise's units, applications and
audits; a bureau the audits assigned to it, the applications they are for, and the units it
audits or audited (of a unit another bureau audits now, only what is not that bureau's business:
see "what a bureau sees of a unit it audited" below). Lists are filtered by it and
single resources are looked up through it, so another's resource is simply not found (404, no
existence leak)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from app.api.http.auth import Principal, Role


@dataclass(frozen=True, slots=True)
class Scope:
    condition: str
    params: dict[str, Any]


EVERYTHING = Scope("true", {})


def _by_role(principal: Principal, provider: str, bureau: str) -> Scope:
    if principal.role is Role.AGENCY:
        return EVERYTHING
    if principal.role is Role.PROVIDER:
        return Scope(provider, {"scope_enterprise": principal.enterprise_number})
    return Scope(bureau, {"scope_bureau": principal.bureau_id})


def registrations(principal: Principal) -> Scope:
    """On ``registrations r``."""
    return _by_role(
        principal,
        "r.enterprise_number = :scope_enterprise",
        "EXISTS (SELECT 1 FROM audits x WHERE x.unit_key = r.unit_key"
        " AND x.bureau_id = :scope_bureau)",
    )


def applications(principal: Principal) -> Scope:
    """On ``applications a``."""
    return _by_role(
        principal,
        "a.enterprise_number = :scope_enterprise",
        "EXISTS (SELECT 1 FROM audits x WHERE x.application_id = a.application_id"
        " AND x.bureau_id = :scope_bureau)",
    )


def audits(principal: Principal) -> Scope:
    """On ``audits au`` joined with ``registrations r``."""
    return _by_role(
        principal, "r.enterprise_number = :scope_enterprise", "au.bureau_id = :scope_bureau"
    )


# --- what a bureau sees of a unit it audited -----------------------------------------------
#
# A bureau may see a registration unit once an audit of it was assigned to the bureau: the unit
# (numbers, enterprise, service type, name) and its registration (kind, validity, and its status
# as a registration: registered, stopped, expired, refused). What goes on now belongs to the
# bureau the provider chose for it: while that is another bureau (or none yet), a former one
# does not see the open application, the current audit or bureau, the status of that audit
# (in audit, failed, awaiting the decision: ``registration_status`` instead) nor a deadline
# other than the registration's own. Lists filter on what the caller sees, so a filter cannot
# reveal what a field hides.

CURRENT_PROCESS = ("application_id", "application_track", "current_audit_id", "current_bureau_id")
REGISTRATION_DEADLINES = ("expiry", "follow_up")  # the registration's; "reaction" is an audit's
_CURRENT = "r.current_bureau_id IS NOT DISTINCT FROM :scope_bureau"
_SHOWN_DEADLINE = f"({_CURRENT} OR r.deadline_kind IN {REGISTRATION_DEADLINES!r})"
_COLUMNS = ", ".join(
    [
        "r.unit_key, r.enterprise_number, r.department, r.service_type, r.provider_name",
        f"CASE WHEN {_CURRENT} THEN r.status ELSE r.registration_status END AS status",
        "r.registration_status, r.registration_kind, r.registration_serial",
        "r.registration_number, r.first_registered_on, r.valid_from, r.valid_until",
        f"CASE WHEN {_SHOWN_DEADLINE} THEN r.pending_deadline END AS pending_deadline",
        f"CASE WHEN {_SHOWN_DEADLINE} THEN r.deadline_kind END AS deadline_kind",
        *(f"CASE WHEN {_CURRENT} THEN r.{column} END AS {column}" for column in CURRENT_PROCESS),
        "r.stream_version, r.updated_at",
    ]
)


def registration_source(principal: Principal) -> str:
    """The ``FROM`` of a registrations query, as ``r``: for a bureau, the rows as it sees them."""
    if principal.role is Role.BUREAU:
        return f"(SELECT {_COLUMNS} FROM registrations r) r"
    return "registrations r"


def registration_as_seen(principal: Principal, row: Mapping[str, Any]) -> dict[str, Any]:
    """One row as the caller sees it (a row computed from the events, e.g. as of a past date):
    the same rule as ``registration_source``."""
    seen = dict(row)
    if principal.role is not Role.BUREAU or row["current_bureau_id"] == principal.bureau_id:
        return seen
    seen["status"] = row["registration_status"]
    if row["deadline_kind"] not in REGISTRATION_DEADLINES:
        seen["pending_deadline"] = seen["deadline_kind"] = None
    for column in CURRENT_PROCESS:
        seen[column] = None
    return seen


def projects(principal: Principal) -> Scope:
    """On ``projects p``: a provider sees the projects filed with its own registrations (a
    project naming a number no unit holds is nobody's but the agency's); a bureau none (its
    routes refuse it)."""
    return _by_role(principal, "p.provider_enterprise_number = :scope_enterprise", "false")
