"""The tokens themselves: bad tokens (expired, forged, wrong audience, odd claims, malformed
headers), RS256 with a PEM public key and with a JWKS URL, and the refusal of the development
secret in production. Who may call what with a good token: tests/api/test_authority.py.
"""

from __future__ import annotations

import base64
import json
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi import FastAPI
from jwt.algorithms import RSAAlgorithm
from pydantic import SecretStr
from sqlalchemy.ext.asyncio import AsyncEngine

from app.api.http.auth import TokenVerifier, Unauthenticated
from app.domain.identifiers import EnterpriseNumber, InvalidIdentifier
from app.main import create_app
from app.runtime.settings import DEVELOPMENT_JWT_SECRET, Settings
from tests.api.support import (
    AGENCY,
    BUREAU_ID,
    PROBLEM,
    PROVIDER_KBO,
    ok,
    problem,
)

AUDIENCE = "kmop-registry"


# --- bad tokens ---------------------------------------------------------------------------


def claims(**changes: Any) -> dict[str, Any]:
    """An agency token's claims, valid for an hour; a change of None removes the claim."""
    base: dict[str, Any] = {
        "sub": "vlaio-backoffice",
        "role": "agency",
        "aud": AUDIENCE,
        "iat": int(time.time()),
        "exp": int(time.time()) + 3600,
    }
    base.update(changes)
    return {k: v for k, v in base.items() if v is not None}


def hs256(payload: dict[str, Any], secret: str = DEVELOPMENT_JWT_SECRET) -> str:
    return jwt.encode(payload, secret, algorithm="HS256")


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def invalid_token(response: httpx.Response) -> None:
    problem(response, 401, "unauthenticated")
    challenge = response.headers["WWW-Authenticate"]
    assert challenge.startswith("Bearer")
    assert 'error="invalid_token"' in challenge


def segment(value: Any) -> str:
    raw = json.dumps(value).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


INVALID_PROVIDER_KBO = "0400000000"

BAD_TOKENS: dict[str, Callable[[], str]] = {
    "expired": lambda: hs256(claims(exp=int(time.time()) - 3600)),
    "not yet valid": lambda: hs256(claims(nbf=int(time.time()) + 3600)),
    "signed with another secret": lambda: hs256(claims(), "another-secret-of-32-bytes-at-least"),
    "for another audience": lambda: hs256(claims(aud="another-service")),
    "without audience": lambda: hs256(claims(aud=None)),
    "without expiry": lambda: hs256(claims(exp=None)),
    "without subject": lambda: hs256(claims(sub=None)),
    "empty subject": lambda: hs256(claims(sub="")),
    "blank subject": lambda: hs256(claims(sub="   ")),
    "without role": lambda: hs256(claims(role=None)),
    "role admin": lambda: hs256(claims(role="admin")),
    "bureau without bureau_id": lambda: hs256(claims(role="bureau")),
    "bureau with empty bureau_id": lambda: hs256(claims(role="bureau", bureau_id="")),
    "provider with invalid enterprise number": lambda: hs256(
        claims(role="provider", enterprise_number=INVALID_PROVIDER_KBO)
    ),
    "provider without enterprise number": lambda: hs256(claims(role="provider")),
    "exp that is a numeric string": lambda: hs256(claims(exp=str(int(time.time()) + 3600))),
    "iat that is a numeric string": lambda: hs256(claims(iat=str(int(time.time())))),
    "nbf that is a numeric string": lambda: hs256(claims(nbf=str(int(time.time()) - 60))),
    "exp that is true": lambda: hs256(claims(exp=True)),
    "living longer than a day": lambda: hs256(claims(exp=int(time.time()) + 86400 + 3600)),
    "without iat, valid for a year": lambda: hs256(
        claims(iat=None, exp=int(time.time()) + 365 * 86400)
    ),
    "issued a week ago, valid for a week": lambda: hs256(
        claims(iat=int(time.time()) - 7 * 86400, exp=int(time.time()) + 3600)
    ),
    "longer than 8 KiB, well signed": lambda: hs256(claims(padding="x" * 9000)),
    "1.3 MB, well signed": lambda: hs256(claims(padding="x" * 1_300_000)),
    "alg none": lambda: jwt.encode(claims(), "", algorithm="none"),
    "HS512": lambda: jwt.encode(claims(), DEVELOPMENT_JWT_SECRET, algorithm="HS512"),
    "RS256 where no key is configured": lambda: jwt.encode(
        claims(), private_key(), algorithm="RS256"
    ),
    "not a jwt": lambda: "not-a-jwt",
    "three garbage segments": lambda: "a.b.c",
    "header that is a list": lambda: f"{segment([])}.{segment(claims())}.c2ln",
    "payload that is a list": lambda: (
        f"{segment({'alg': 'HS256', 'typ': 'JWT'})}.{segment([1])}.c2ln"
    ),
    "alg that is a number": lambda: f"{segment({'alg': 7})}.{segment(claims())}.c2ln",
}


def private_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def public_pem(key: rsa.RSAPrivateKey) -> str:
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


async def test_the_test_tokens_are_accepted(client: httpx.AsyncClient) -> None:
    """The control for the refusals below: the same claims, well signed, pass."""
    assert ok(await client.get("/bureaus", headers=bearer(hs256(claims()))))["items"] == []
    provider = claims(role="provider", enterprise_number=PROVIDER_KBO)
    ok(await client.get("/applications", headers=bearer(hs256(provider))))
    ok(await client.get("/audits", headers=bearer(hs256(claims(role="bureau", bureau_id="b")))))
    with pytest.raises(InvalidIdentifier):  # what the refused provider token below names
        EnterpriseNumber.parse(INVALID_PROVIDER_KBO)
    # Within the 30 seconds of clock skew an expired token still passes.
    ok(await client.get("/bureaus", headers=bearer(hs256(claims(exp=int(time.time()) - 5)))))


async def test_a_token_may_live_up_to_the_configured_maximum(engine: AsyncEngine) -> None:
    """The control for the lifetime refusals: up to KMOP_JWT_MAX_LIFETIME_SECONDS (from iat, or
    from now without iat) a token passes; a second more than that (beyond the skew) does not."""
    now = int(time.time())
    ok(await client_get(engine, claims(iat=now, exp=now + 23 * 3600)))  # the default: a day
    short = {"jwt_max_lifetime_seconds": 600}
    for fine in (claims(iat=now, exp=now + 600), claims(iat=None, exp=now + 600)):
        ok(await client_get(engine, fine, **short))
    ok(await client_get(engine, claims(iat=now + 0.5, exp=now + 300.25), **short))  # numbers
    for too_long in (claims(iat=now, exp=now + 700), claims(iat=None, exp=now + 700)):
        invalid_token(await client_get(engine, too_long, **short))


async def client_get(engine: AsyncEngine, payload: dict[str, Any], **settings: Any) -> Any:
    app = create_app(Settings(environment="test", **settings), engine=engine)
    async with client_for(app) as client:
        return await client.get("/bureaus", headers=bearer(hs256(payload)))


@pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning")  # HS512, dev secret
@pytest.mark.parametrize("case", sorted(BAD_TOKENS))
async def test_a_bad_token_is_refused_with_invalid_token(
    client: httpx.AsyncClient, case: str
) -> None:
    token = BAD_TOKENS[case]()
    invalid_token(await client.get("/bureaus", headers=bearer(token)))
    # A command is refused the same way, before its (missing) body is looked at.
    invalid_token(await client.post("/bureaus", headers=bearer(token)))


@pytest.mark.parametrize(
    "authorization",
    ["Basic xyz", "Basic dXNlcjpwYXNz", "Bearer", "Bearer ", "Token abc", "bearer", "Digest x"],
)
async def test_an_authorization_that_is_no_bearer_token_is_refused(
    client: httpx.AsyncClient, authorization: str
) -> None:
    response = await client.get("/bureaus", headers={"Authorization": authorization})
    problem(response, 401, "unauthenticated")
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


async def test_a_malformed_bearer_token_is_refused_never_a_500(client: httpx.AsyncClient) -> None:
    for token in ("not-a-jwt", "x" * 5000, "..", "a.b", "é.é.é", "Bearer abc", "\x00.\x01.\x02"):
        authorization = f"Bearer {token}".encode("latin-1")  # as raw bytes, as a client may send
        invalid_token(await client.get("/bureaus", headers={b"Authorization": authorization}))


# --- RS256: a PEM public key, a JWKS URL --------------------------------------------------


def client_for(app: FastAPI) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    return httpx.AsyncClient(transport=transport, base_url="http://test")


def rs256(key: rsa.RSAPrivateKey, payload: dict[str, Any], kid: str | None = None) -> str:
    headers = {"kid": kid} if kid else None
    return jwt.encode(payload, key, algorithm="RS256", headers=headers)


async def test_rs256_tokens_are_verified_with_the_configured_public_key(
    engine: AsyncEngine,
) -> None:
    key = private_key()
    app = create_app(Settings(environment="test", jwt_public_key=public_pem(key)), engine=engine)
    async with client_for(app) as client:
        ok(await client.get("/bureaus", headers=bearer(rs256(key, claims()))))
        bureau = claims(role="bureau", bureau_id=BUREAU_ID)
        ok(await client.get("/audits", headers=bearer(rs256(key, bureau))))
        # Signed by another key, or expired: refused.
        invalid_token(await client.get("/bureaus", headers=bearer(rs256(private_key(), claims()))))
        expired = claims(exp=int(time.time()) - 3600)
        invalid_token(await client.get("/bureaus", headers=bearer(rs256(key, expired))))
        # With a public key configured, the development secret no longer signs anything.
        invalid_token(await client.get("/bureaus", headers=bearer(hs256(claims()))))
        invalid_token(await client.get("/bureaus", headers=AGENCY))


class JwksServer:
    """A JWKS document served over HTTP from a thread, on a free port of 127.0.0.1 (bytes are
    served as they are, anything else as JSON)."""

    def __init__(self, document: Any) -> None:
        body = document if isinstance(document, bytes) else json.dumps(document).encode()
        self.requests = 0
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                outer.requests += 1
                if self.path != "/jwks.json":
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/jwks.json"

    def __enter__(self) -> JwksServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=10)


async def test_rs256_tokens_are_verified_with_the_keys_of_a_jwks_url(engine: AsyncEngine) -> None:
    key, stranger = private_key(), private_key()
    jwk: dict[str, Any] = dict(RSAAlgorithm.to_jwk(key.public_key(), as_dict=True))
    jwk.update(kid="kmop-2026", use="sig", alg="RS256")
    with JwksServer({"keys": [jwk]}) as jwks:
        app = create_app(Settings(environment="test", jwks_url=jwks.url), engine=engine)
        async with client_for(app) as client:
            accepted = await client.get(
                "/bureaus", headers=bearer(rs256(key, claims(), kid="kmop-2026"))
            )
            ok(accepted)
            assert jwks.requests >= 1  # the key did come from the JWKS URL
            # Another key claiming the same kid, or an unknown kid: refused.
            for token in (
                rs256(stranger, claims(), kid="kmop-2026"),
                rs256(stranger, claims(), kid="kmop-other"),
                hs256(claims()),  # and the development secret is not in force
            ):
                invalid_token(await client.get("/bureaus", headers=bearer(token)))
            provider = claims(role="provider", enterprise_number=PROVIDER_KBO)
            mine = rs256(key, provider, kid="kmop-2026")
            assert ok(await client.get("/applications", headers=bearer(mine)))["items"] == []
    assert not jwks.thread.is_alive()


@pytest.mark.parametrize(
    "document",
    [
        pytest.param({"keys": []}, id="no keys"),
        pytest.param({"keys": [{"kty": "XX", "kid": "kmop-2026"}]}, id="no usable key"),
        pytest.param(b"<html>Service Unavailable</html>", id="not json"),
        pytest.param([], id="not an object"),
    ],
)
async def test_a_broken_jwks_endpoint_is_a_problem_never_a_500(
    engine: AsyncEngine, document: Any
) -> None:
    """Whatever the key server answers, the caller gets a problem it can act on: 503 with
    Retry-After (the fault is ours, the token may be fine), never an internal error."""
    key = private_key()
    with JwksServer(document) as jwks:
        app = create_app(Settings(environment="test", jwks_url=jwks.url), engine=engine)
        async with client_for(app) as client:
            token = rs256(key, claims(), kid="kmop-2026")
            response = await client.get("/bureaus", headers=bearer(token))
            assert jwks.requests >= 1
    assert response.status_code == 503, response.text
    assert response.headers["content-type"] == PROBLEM
    assert response.json()["code"] == "token-keys-unavailable"
    assert int(response.headers["Retry-After"]) > 0


async def test_an_unreachable_jwks_endpoint_is_a_problem_never_a_500(engine: AsyncEngine) -> None:
    with JwksServer({"keys": []}) as jwks:
        url = jwks.url  # a port that nothing listens on once the server is shut down
    app = create_app(Settings(environment="test", jwks_url=url), engine=engine)
    async with client_for(app) as client:
        token = rs256(private_key(), claims(), kid="kmop-2026")
        response = await client.get("/bureaus", headers=bearer(token))
    assert response.status_code == 503, response.text
    assert response.headers["content-type"] == PROBLEM
    assert "127.0.0.1" not in response.text  # no internal addresses in the answer


# --- production ---------------------------------------------------------------------------

PRODUCTION_DATABASE = "postgresql://kmop:secret@db.example:5432/kmop"


@pytest.fixture
def no_jwt_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("KMOP_JWT_SECRET", "KMOP_JWT_PUBLIC_KEY", "KMOP_JWKS_URL", "KMOP_JWT_AUDIENCE"):
        monkeypatch.delenv(name, raising=False)


def production(**fields: Any) -> Settings:
    return Settings(
        _env_file=None,  # the values given, not a developer's .env
        environment="production",
        database_url=PRODUCTION_DATABASE,
        **fields,
    )


@pytest.mark.usefixtures("no_jwt_environment")
def test_production_refuses_the_development_secret() -> None:
    with pytest.raises(ValueError, match="development JWT secret"):
        TokenVerifier(production(jwt_secret=SecretStr(DEVELOPMENT_JWT_SECRET)))
    with pytest.raises(ValueError, match="development JWT secret"):
        create_app(production(jwt_secret=SecretStr(DEVELOPMENT_JWT_SECRET)))


@pytest.mark.usefixtures("no_jwt_environment")
def test_production_refuses_to_start_without_a_way_to_verify_tokens() -> None:
    settings = production()
    assert settings.signing_secret() is None  # no silent fallback to the development secret
    with pytest.raises(ValueError, match="no way to verify tokens"):
        TokenVerifier(settings)


@pytest.mark.usefixtures("no_jwt_environment")
async def test_production_verifies_with_its_own_secret_or_key() -> None:
    secret = "a-production-secret-that-nobody-else-knows"
    verifier = TokenVerifier(production(jwt_secret=SecretStr(secret)))
    principal = await verifier.verify(hs256(claims(), secret))
    assert principal.client_id == "vlaio-backoffice"
    with pytest.raises(Unauthenticated, match="not valid") as refused:
        await verifier.verify(hs256(claims()))  # the development secret signs nothing here
    assert refused.value.headers == {
        "WWW-Authenticate": 'Bearer realm="kmop-registry", error="invalid_token"'
    }
    key = private_key()
    keyed = TokenVerifier(production(jwt_public_key=public_pem(key)))
    assert (await keyed.verify(rs256(key, claims()))).role.value == "agency"
