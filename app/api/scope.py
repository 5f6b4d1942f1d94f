"""Who may see what, in one place: the SQL condition that limits each kind of resource to the
caller. The agency sees everything; a provider its own enterprise's units, applications and
audits; a bureau the audits assigned to it and the units it audits. Lists are filtered by it and
single resources are looked up through it, so another's resource is simply not found (404, no
existence leak)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from app.api.auth import Principal, Role


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
