"""``Idempotency-Key``: a retried POST gets the first response again, and nothing is appended.

Per caller and key, the table ``idempotency_keys`` keeps the request's fingerprint (method,
path, canonical JSON body) and the exact response. The caller is the token's whole identity:
client id (``sub``), role and the bureau or enterprise it is bound to (``Principal.identity``),
so two tokens that share a ``sub`` but act for different enterprises never see each other's
responses. The key is looked up in the command's own read, and the row is written with the
command's writes in its own transaction (``RegistrationService``'s ``finish`` hook), so a
response is remembered if and only if its events were committed. Two requests racing with one
key: the second's insert waits for the first's transaction and then fails on the primary key;
its own events roll back with it and it answers the stored response. Only successful responses
are remembered: a refused command appended nothing, and a retry is judged again.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from app.domain.errors import ErrorKind, KmopError
from app.runtime.pg import Pool, Statement
from app.services.transaction import Transaction

HEADER = "Idempotency-Key"
KEY_PATTERN = r"^[\x21-\x7e]{1,255}$"  # printable ASCII, no spaces
REPLAYED_HEADER = "Idempotent-Replayed"


class IdempotencyKeyReused(KmopError):
    code = "idempotency-key-reused"
    kind = ErrorKind.CONFLICT
    title = "This Idempotency-Key was used for another request"


class IdempotencyRace(Exception):
    """Another request with the same key committed first (internal: answered by a replay)."""


@dataclass(frozen=True, slots=True)
class StoredResponse:
    status_code: int
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)


def fingerprint(method: str, path: str, body: bytes) -> str:
    try:
        canonical = json.dumps(json.loads(body), sort_keys=True, separators=(",", ":")).encode()
    except (ValueError, RecursionError):  # not JSON (or absurdly deep): the bytes as sent
        canonical = body
    digest = hashlib.sha256(f"{method} {path}\n".encode())
    digest.update(canonical)
    return digest.hexdigest()


PRIMARY_KEY = "idempotency_keys_pkey"
_LOOKUP = (
    "SELECT json_build_array(fingerprint, status_code, encode(body, 'hex'), headers)"
    " FROM idempotency_keys WHERE client_id = $1 AND role = $2 AND bound_to = $3 AND key = $4"
)
_REMEMBER = (
    "INSERT INTO idempotency_keys (client_id, role, bound_to, key, fingerprint, status_code,"
    " body, headers) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
)


@dataclass(frozen=True, slots=True)
class IdempotentRequest:
    caller: tuple[str, str, str]  # client id, role, bound to (``Principal.identity``)
    key: str
    fingerprint: str

    @property
    def lookup(self) -> Statement:
        """The stored response's row as one JSON value (NULL: none), to read with others."""
        return Statement(_LOOKUP, (*self.caller, self.key))

    def recall(self, found: Any) -> StoredResponse | None:
        """The response remembered for this key (the lookup's value); a different request
        under it is refused."""
        if found is None:
            return None
        fingerprint_, status_code, body, headers = found
        if fingerprint_ != self.fingerprint:
            raise IdempotencyKeyReused(
                f"Idempotency-Key {self.key!r} was sent before with another request; "
                "use a new key for a new request"
            )
        return StoredResponse(status_code, bytes.fromhex(body), dict(headers))

    async def stored(self, pg: Pool) -> StoredResponse | None:
        """The lookup on its own (one round trip)."""
        async with pg.connection() as conn:
            return self.recall(await conn.fetchval(self.lookup.sql, *self.lookup.args))

    def remember(self, tx: Transaction, response: StoredResponse) -> None:
        """Store the response with the writes of the caller's transaction. Another request
        with this key committed first: the write fails on ``PRIMARY_KEY``."""
        tx.defer(
            Statement(
                _REMEMBER,
                (
                    *self.caller,
                    self.key,
                    self.fingerprint,
                    response.status_code,
                    response.body,
                    response.headers,
                ),
            )
        )


async def forget_expired(engine: AsyncEngine, retention: timedelta) -> int:
    """Delete keys older than the retention (`KMOP_IDEMPOTENCY_RETENTION_HOURS`, >= 24)."""
    async with engine.begin() as conn:
        result = await conn.execute(
            text(
                "DELETE FROM idempotency_keys"
                " WHERE created_at < now() - CAST(:retention AS interval)"
            ),
            {"retention": retention},
        )
    return int(result.rowcount or 0)
