"""Tamper evidence: the canonical form of an event, its hash, and the per-stream hash chain.

Every event row carries ``hash`` and ``previous_hash`` (32 bytes each, SHA-256), so that a
change to a stored event, or a removed or inserted event inside a stream, shows when the chain
is recomputed (``kmop events verify``). Anyone with a copy of the rows can recompute them:

1. **Canonical content** of an event: the UTF-8 bytes of this JSON object::

       {"data": <the data column>, "event_id": "<uuid>", "event_type": "<event_type>",
        "metadata": <the metadata column>, "recorded_at": "<UTC time>",
        "schema_version": <int>, "stream_id": "<stream_id>", "stream_type": "<stream_type>",
        "version": <int>}

   written with the keys of every object (at every depth) sorted by Unicode code point, no
   whitespace at all (separators ``,`` and ``:``), non-ASCII characters as themselves (no
   ``\\u`` escapes), and strings escaped as JSON requires: ``\\"``, ``\\\\``, ``\\b``, ``\\f``,
   ``\\n``, ``\\r``, ``\\t``, other control characters as ``\\u00xx`` (lowercase hex). That is
   Python's ``json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False)``
   and, for the strings, integers and objects the events hold, RFC 8785 (JCS). ``event_id``
   is the lowercase hyphenated UUID; ``recorded_at`` the instant in UTC as
   ``YYYY-MM-DDTHH:MM:SS.ffffffZ``, always six fractional digits (PostgreSQL keeps
   microseconds). ``data`` and ``metadata`` are the stored JSON objects as read back.
2. **digest** = SHA-256(canonical content).
3. **hash** = SHA-256(previous_hash || digest), where ``||`` concatenates the raw bytes and
   ``previous_hash`` is the hash of the event one version earlier in the same stream, or 32
   zero bytes for version 1.

The chain is per stream: appends to different streams share no lock, and the stream's version
check, which already serialises appends to one stream, reads the previous hash in the same
statement (``app.events.store``). Checkpoints (``app.events.checkpoints``) chain the hashes of
all events in the global order, so that a whole stream removed or added is caught too.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from datetime import UTC, datetime
from typing import Any

GENESIS = bytes(32)  # the "previous hash" of every stream's first event


def canonical_json(value: Any) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def utc_text(instant: datetime) -> str:
    """An instant as the canonical form writes it: UTC, microseconds, ``Z``."""
    if instant.tzinfo is None:
        raise ValueError("a recorded time must carry a time zone")
    return instant.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def event_digest(
    *,
    event_id: uuid.UUID,
    stream_id: str,
    stream_type: str,
    version: int,
    event_type: str,
    schema_version: int,
    data: dict[str, Any],
    metadata: dict[str, Any],
    recorded_at: datetime,
) -> bytes:
    """SHA-256 of the event's canonical content (step 2 of the module docstring)."""
    content = {
        "data": data,
        "event_id": str(event_id),
        "event_type": event_type,
        "metadata": metadata,
        "recorded_at": utc_text(recorded_at),
        "schema_version": schema_version,
        "stream_id": stream_id,
        "stream_type": stream_type,
        "version": version,
    }
    return hashlib.sha256(canonical_json(content)).digest()


def chain_hash(previous_hash: bytes, digest: bytes) -> bytes:
    """The event's hash: its digest chained to the previous event of its stream."""
    return hashlib.sha256(previous_hash + digest).digest()
