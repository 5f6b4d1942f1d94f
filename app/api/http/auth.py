"""Who is calling: bearer tokens (JWT) and the roles they carry.

A token is what an OAuth2 client-credentials flow hands a client: ``sub`` (the client id),
``role`` (``agency``, ``bureau`` or ``provider``), ``bureau_id`` for a bureau's software,
``enterprise_number`` for a provider, ``aud`` (``KMOP_JWT_AUDIENCE``) and ``exp``. It is verified
with a shared secret (HS256, ``KMOP_JWT_SECRET``; the development secret outside production) or
with public keys (RS256: ``KMOP_JWT_PUBLIC_KEY`` or ``KMOP_JWKS_URL``). Verification is PyJWT's.

A client sends the same token with every request until it expires, so a verified token is kept
(``TokenVerifier.cache_size`` of them, the oldest dropped first), keyed by the whole token
string, until its ``exp`` (with the clock skew): checking it again would give the same answer
until then, since its signature, audience, issuer and lifetime cannot change and ``nbf`` and
``iat`` only lie further in the past. Tokens verified with a JWKS URL's keys are not kept: a
key the server withdraws must stop its tokens at once.

No token or a bad one: 401 with ``WWW-Authenticate``. A role that may not use a route: 403.
A bureau or provider asking for another's resource gets 404 (``app.api.queries.scope``).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any

import jwt
from fastapi import Depends, Request, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from app.api.http.tokens import mint_token
from app.domain.errors import ErrorKind, KmopError
from app.domain.identifiers import EnterpriseNumber, InvalidIdentifier
from app.domain.roles import Role
from app.events import Actor
from app.runtime.settings import DEVELOPMENT_JWT_SECRET, Settings

__all__ = ["Principal", "Role", "TokenVerifier", "authenticate", "mint_token", "require"]

REALM = "kmop-registry"
CLOCK_SKEW_SECONDS = 30
# A JWT with the claims above is a few hundred bytes; a key's signature adds at most about 700
# (RS256 with a 4096-bit key). Anything longer is refused before it is parsed or verified.
MAX_TOKEN_BYTES = 8192
# NumericDate claims (RFC 7519 section 2): JSON numbers. PyJWT also takes "1700000000" (int()).
_TIME_CLAIMS = ("exp", "iat", "nbf")
KEYS_RETRY_AFTER_SECONDS = 30
# Verified tokens kept per process: a few hundred bytes each, so about a MiB at most in practice
# (8 KiB each at worst, the longest accepted).
VERIFIED_TOKENS_KEPT = 4096


class Unauthenticated(KmopError):
    code = "unauthenticated"
    kind = ErrorKind.UNAUTHENTICATED
    title = "Authentication required"

    def __init__(self, detail: str, *, invalid_token: bool = False) -> None:
        challenge = f'Bearer realm="{REALM}"'
        if invalid_token:
            challenge += ', error="invalid_token"'
        super().__init__(detail, headers={"WWW-Authenticate": challenge})


class Forbidden(KmopError):
    code = "forbidden"
    kind = ErrorKind.FORBIDDEN
    title = "Your role may not do this"


class TokenKeysUnavailable(KmopError):
    code = "token-keys-unavailable"
    kind = ErrorKind.UNAVAILABLE
    title = "The keys that verify tokens cannot be fetched"

    def __init__(self) -> None:
        super().__init__(
            "the token could not be checked: the key server (KMOP_JWKS_URL) is unreachable or "
            "serves no usable signing key; try again shortly",
            headers={"Retry-After": str(KEYS_RETRY_AFTER_SECONDS)},
        )


@dataclass(frozen=True, slots=True)
class Principal:
    client_id: str
    role: Role
    bureau_id: str | None = None  # role bureau: the one bureau it acts for
    enterprise_number: str | None = None  # role provider: its enterprise, canonical

    @property
    def identity(self) -> tuple[str, str, str]:
        """Who the caller is, whole: client id, role, and the bureau or enterprise it is bound
        to ('' for the agency). A client id alone does not say it: one may be reused across
        enterprises. What is remembered per caller (Idempotency-Keys) is keyed by this."""
        bound_to = self.bureau_id or self.enterprise_number or ""
        return (self.client_id, self.role.value, bound_to)

    @property
    def actor(self) -> Actor:
        return Actor(id=self.client_id, role=self.role.value)


class TokenVerifier:
    """Checks signatures and claims; built once per app from the settings."""

    def __init__(
        self,
        settings: Settings,
        *,
        cache_size: int = VERIFIED_TOKENS_KEPT,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.audience = settings.jwt_audience
        self.max_lifetime = settings.jwt_max_lifetime_seconds
        self.issuer = settings.jwt_issuer
        self._secret = settings.signing_secret()
        if settings.environment == "production" and self._secret == DEVELOPMENT_JWT_SECRET:
            raise ValueError("the development JWT secret cannot be used in production")
        self._public_key = settings.jwt_public_key
        self._jwks = jwt.PyJWKClient(settings.jwks_url) if settings.jwks_url else None
        if not (self._secret or self._public_key or self._jwks):
            raise ValueError(
                "no way to verify tokens: set KMOP_JWT_SECRET, KMOP_JWT_PUBLIC_KEY or KMOP_JWKS_URL"
            )
        # Only HS256 accepted: no need to read the header for the algorithm first (PyJWT parses
        # the whole token again for that); PyJWT refuses any other "alg" itself.
        self._hs256_only = bool(self._secret) and not (self._public_key or self._jwks)
        self.cache_size = cache_size
        self._clock = clock
        self._verified: dict[str, tuple[Principal, float]] = {}  # token -> (who, valid until)

    async def _key(self, token: str, algorithm: str) -> Any:
        if algorithm == "HS256" and self._secret:
            return self._secret
        if algorithm == "RS256" and self._public_key:
            return self._public_key
        if algorithm == "RS256" and self._jwks is not None:
            kid = jwt.get_unverified_header(token).get("kid")
            if not isinstance(kid, str) or not kid:
                raise jwt.InvalidTokenError("the token's header names no key id (kid)")
            return await asyncio.to_thread(_jwks_key, self._jwks, kid)
        raise jwt.InvalidAlgorithmError(f"tokens signed with {algorithm} are not accepted here")

    async def verify(self, token: str) -> Principal:
        if len(token) > MAX_TOKEN_BYTES:
            raise Unauthenticated(
                f"the bearer token is longer than {MAX_TOKEN_BYTES} bytes", invalid_token=True
            )
        kept = self._verified.get(token)
        if kept is not None:
            principal, valid_until = kept
            if self._clock() < valid_until:
                return principal
            del self._verified[token]
            raise Unauthenticated(
                "the bearer token is not valid: Signature has expired", invalid_token=True
            )
        key: Any
        try:
            if self._hs256_only:
                algorithm, key = "HS256", self._secret
            else:
                algorithm = jwt.get_unverified_header(token).get("alg", "")
                key = await self._key(token, algorithm)
            claims = jwt.decode(
                token,
                key,
                algorithms=[algorithm],
                audience=self.audience,
                issuer=self.issuer,
                leeway=CLOCK_SKEW_SECONDS,
                options={"require": ["exp", "sub", "aud"]},
            )
            self._check_lifetime(claims)
        except jwt.InvalidTokenError as exc:
            raise Unauthenticated(
                f"the bearer token is not valid: {exc}", invalid_token=True
            ) from None
        principal = _principal(claims)
        if algorithm == "HS256" or self._public_key:  # not a JWKS URL's key
            self._keep(token, principal, claims["exp"] + CLOCK_SKEW_SECONDS)
        return principal

    @property
    def kept(self) -> int:
        """How many verified tokens are kept."""
        return len(self._verified)

    def _keep(self, token: str, principal: Principal, valid_until: float) -> None:
        """PyJWT accepts a token while ``now < exp + leeway``: so does the kept one."""
        if self.cache_size <= 0:
            return
        while len(self._verified) >= self.cache_size:
            del self._verified[next(iter(self._verified))]  # the oldest kept
        self._verified[token] = (principal, valid_until)

    def _check_lifetime(self, claims: dict[str, Any]) -> None:
        """``exp``, ``iat`` and ``nbf`` are JSON numbers, and the token lives at most
        ``KMOP_JWT_MAX_LIFETIME_SECONDS``: from ``iat`` to ``exp`` when it says when it was
        issued, else from now to ``exp``. A token that may be used for ever is one that cannot be
        taken back."""
        for name in _TIME_CLAIMS:
            value = claims.get(name)
            if name in claims and (isinstance(value, bool) or not isinstance(value, int | float)):
                raise jwt.InvalidTokenError(f"the claim {name} must be a number (NumericDate)")
        issued = claims.get("iat", time.time())
        lifetime = claims["exp"] - issued
        if lifetime > self.max_lifetime + CLOCK_SKEW_SECONDS:
            raise jwt.InvalidTokenError(
                f"the token lives {int(lifetime)} s, longer than the {self.max_lifetime} s "
                "accepted here (KMOP_JWT_MAX_LIFETIME_SECONDS)"
            )


def _jwks_key(jwks: jwt.PyJWKClient, kid: str) -> Any:
    """The key ``kid`` from the JWKS URL. A key server that is down or serves nothing usable is
    our problem (503); a key id it does not know is the token's (401)."""
    try:
        keys = jwks.get_signing_keys()  # cached after the first fetch
    except (jwt.PyJWTError, ValueError):  # unreachable, no signing keys, not JSON, not a set
        raise TokenKeysUnavailable() from None
    known = jwks.match_kid(keys, kid)
    if known is not None:
        return known.key
    try:
        return jwks.get_signing_key(kid).key  # refetches once: the keys may have rotated
    except (jwt.PyJWKClientConnectionError, jwt.PyJWKSetError, ValueError):
        raise TokenKeysUnavailable() from None
    except jwt.PyJWKClientError:
        raise jwt.InvalidTokenError(f"no key with id {kid!r} signs tokens here") from None


def _principal(claims: dict[str, Any]) -> Principal:
    try:
        role = Role(str(claims.get("role")))
    except ValueError:
        raise Unauthenticated(
            "the token's role must be agency, bureau or provider", invalid_token=True
        ) from None
    client_id = claims["sub"]
    if not isinstance(client_id, str) or not client_id.strip():
        raise Unauthenticated("the token's sub (the client id) is empty", invalid_token=True)
    if role is Role.BUREAU:
        bureau_id = claims.get("bureau_id")
        if not isinstance(bureau_id, str) or not bureau_id:
            raise Unauthenticated("a bureau's token names its bureau_id", invalid_token=True)
        return Principal(client_id, role, bureau_id=bureau_id)
    if role is Role.PROVIDER:
        try:
            enterprise = EnterpriseNumber.parse(str(claims.get("enterprise_number", "")))
        except InvalidIdentifier:
            raise Unauthenticated(
                "a provider's token names a valid enterprise_number", invalid_token=True
            ) from None
        return Principal(client_id, role, enterprise_number=str(enterprise))
    return Principal(client_id, role)


bearer = HTTPBearer(
    auto_error=False,
    bearerFormat="JWT",
    scheme_name="bearer",
    description="A JWT with `sub`, `role` (agency, bureau, provider), `bureau_id` or "
    "`enterprise_number`, `aud` and `exp`. Development tokens: `kmop token --help`.",
)


async def authenticate(
    request: Request, credentials: HTTPAuthorizationCredentials | None = Security(bearer)
) -> Principal:
    if credentials is None:
        raise Unauthenticated("send a bearer token: Authorization: Bearer <token>")
    verifier: TokenVerifier = request.app.state.verifier
    principal = await verifier.verify(credentials.credentials)
    request.state.principal = principal  # for the access log
    return principal


ROLE_CHECK = "_kmop_role_check"


def require(*roles: Role) -> Any:
    allowed = frozenset(roles)
    names = ", ".join(sorted(role.value for role in allowed))

    async def dependency(principal: Annotated[Principal, Depends(authenticate)]) -> Principal:
        if principal.role not in allowed:
            raise Forbidden(f"this route is for: {names}; your token's role is {principal.role}")
        return principal

    setattr(dependency, ROLE_CHECK, True)  # app.api.http.fastpath calls it after ``authenticate``
    return dependency


AgencyPrincipal = Annotated[Principal, Depends(require(Role.AGENCY))]
BureauPrincipal = Annotated[Principal, Depends(require(Role.BUREAU))]
ProviderPrincipal = Annotated[Principal, Depends(require(Role.PROVIDER))]
AnyPrincipal = Annotated[Principal, Depends(require(Role.AGENCY, Role.BUREAU, Role.PROVIDER))]
