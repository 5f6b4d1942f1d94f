"""Verified tokens are kept until they expire: a client's next request with the same token is
not verified again, a kept token past its ``exp`` (and the clock skew) is refused as PyJWT
would refuse it, a token is kept by its whole string, and the kept tokens are bounded."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import jwt
import pytest

from app.api.http.auth import CLOCK_SKEW_SECONDS, Principal, TokenVerifier, Unauthenticated
from app.api.http.tokens import mint_token
from app.domain.roles import Role
from app.runtime.settings import DEVELOPMENT_JWT_SECRET, Settings

PROVIDER = "0403170701"


class Clock:
    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


def provider_token(enterprise: str = PROVIDER, *, ttl: int = 3600, sub: str = "app") -> str:
    return mint_token(
        DEVELOPMENT_JWT_SECRET,
        subject=sub,
        role=Role.PROVIDER,
        enterprise_number=enterprise,
        ttl_seconds=ttl,
    )


@pytest.fixture
def decodes(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The tokens PyJWT decodes (its ``jwt.decode``, still called)."""
    seen: list[str] = []
    decode = jwt.decode

    def counted(token: str, *args: Any, **kwargs: Any) -> Any:
        seen.append(token)
        return decode(token, *args, **kwargs)

    monkeypatch.setattr(jwt, "decode", counted)
    return seen


def verify(verifier: TokenVerifier, token: str) -> Principal:
    return asyncio.run(verifier.verify(token))


def test_a_verified_token_is_kept_until_it_expires(decodes: list[str]) -> None:
    clock = Clock()
    verifier = TokenVerifier(Settings(environment="test"), clock=clock)
    token = provider_token(ttl=600)
    first = verify(verifier, token)
    assert first.enterprise_number == PROVIDER
    clock.now += 599 + CLOCK_SKEW_SECONDS  # still within exp + the skew
    assert verify(verifier, token) == first
    assert decodes == [token]  # verified once
    clock.now += 2  # past exp + the skew, as PyJWT would judge it then
    with pytest.raises(Unauthenticated, match="expired"):
        verify(verifier, token)
    assert verifier.kept == 0


def test_a_token_is_kept_by_its_whole_string(decodes: list[str]) -> None:
    verifier = TokenVerifier(Settings(environment="test"))
    mine, other = provider_token(), provider_token("0417497106", sub="other")
    assert verify(verifier, mine).enterprise_number == PROVIDER
    assert verify(verifier, other).enterprise_number == "0417497106"
    header, payload, signature = mine.split(".")
    forged = f"{header}.{payload}.{signature[:-2]}{'AA' if signature[-2:] != 'AA' else 'BB'}"
    with pytest.raises(Unauthenticated):
        verify(verifier, forged)
    another = provider_token(sub="another")  # same enterprise, another client: verified anew
    assert verify(verifier, another).client_id == "another"
    assert decodes == [mine, other, forged, another]


def test_the_kept_tokens_are_bounded_the_oldest_dropped_first(decodes: list[str]) -> None:
    verifier = TokenVerifier(Settings(environment="test"), cache_size=3)
    tokens = [provider_token(sub=f"client-{n}") for n in range(5)]
    for token in tokens:
        verify(verifier, token)
    assert verifier.kept == 3
    verify(verifier, tokens[4])  # kept
    verify(verifier, tokens[0])  # dropped: verified again
    assert decodes == [*tokens, tokens[0]]


def test_a_refused_token_is_not_kept() -> None:
    verifier = TokenVerifier(Settings(environment="test"))
    expired = provider_token(ttl=-3600)
    for _ in range(2):
        with pytest.raises(Unauthenticated):
            verify(verifier, expired)
    assert verifier.kept == 0
