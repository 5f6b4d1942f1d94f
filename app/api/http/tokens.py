"""Bearer tokens as a client-credentials flow issues them: the roles and minting (development
and tests). Verification, with FastAPI's security scheme, is ``app.api.http.auth``'s.

No FastAPI, no SQLAlchemy here: ``kmop token`` imports only this, the settings and the
enterprise number, so it starts in a fraction of a second (``tests/unit/test_cli.py``)."""

from __future__ import annotations

import time
from typing import Any

import jwt

from app.domain.identifiers import EnterpriseNumber
from app.domain.roles import Role


def default_subject(role: Role, bureau_id: str | None, enterprise_number: str | None) -> str:
    """A client id of its own per bound identity (``kmop token`` without ``--sub``): tokens for
    two enterprises or two bureaus are two clients, as a real client-credentials flow makes
    them; one shared id would let them be taken for one caller."""
    if role is Role.BUREAU and bureau_id:
        return f"bureau-{bureau_id}"
    if role is Role.PROVIDER and enterprise_number:
        return f"provider-{EnterpriseNumber.parse(enterprise_number)}"
    return f"{role.value}-dev"


def mint_token(
    secret: str,
    *,
    subject: str,
    role: Role,
    bureau_id: str | None = None,
    enterprise_number: str | None = None,
    audience: str = "kmop-registry",
    ttl_seconds: int = 3600,
    issuer: str | None = None,
) -> str:
    """An HS256 token as a client-credentials flow would issue it (development and tests)."""
    now = int(time.time())
    claims: dict[str, Any] = {
        "sub": subject,
        "role": role.value,
        "aud": audience,
        "iat": now,
        "exp": now + ttl_seconds,
    }
    if issuer:
        claims["iss"] = issuer
    if bureau_id is not None:
        claims["bureau_id"] = bureau_id
    if enterprise_number is not None:
        claims["enterprise_number"] = str(EnterpriseNumber.parse(enterprise_number))
    return jwt.encode(claims, secret, algorithm="HS256")
