"""A listing's pages: the cursor handed out and taken back, and the ``AND``-ed filters of the
caller's scope."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import text

from app.api.queries import scope
from app.domain.errors import ErrorKind, KmopError
from app.runtime.pg import Executes


class InvalidCursor(KmopError):
    code = "invalid-cursor"
    kind = ErrorKind.INVALID
    title = "The cursor is not one this service handed out"


def encode_cursor(key: str) -> str:
    return base64.urlsafe_b64encode(json.dumps({"after": key}).encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> str | None:
    if cursor is None:
        return None
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        after = json.loads(raw)["after"]
    except (binascii.Error, ValueError, KeyError, TypeError, UnicodeDecodeError):
        raise InvalidCursor(f"{cursor!r} is not a cursor from a previous page") from None
    if not isinstance(after, str) or "\x00" in after:
        raise InvalidCursor(f"{cursor!r} is not a cursor from a previous page")
    return after


@dataclass(frozen=True, slots=True)
class Filters:
    """``AND``-ed SQL conditions with their parameters."""

    conditions: tuple[str, ...] = ()
    params: Mapping[Any, Any] = field(default_factory=dict)

    def where(self, *more: str, **params: Any) -> Filters:
        return Filters((*self.conditions, *more), {**dict(self.params), **params})

    def sql(self) -> str:
        return " AND ".join(self.conditions) or "true"


def scoped(s: scope.Scope) -> Filters:
    return Filters((s.condition,), s.params)


async def _page(
    conn: Executes, select: str, key: str, filters: Filters, cursor: str | None, limit: int
) -> tuple[list[Any], str | None]:
    after = decode_cursor(cursor)
    if after is not None:
        filters = filters.where(f"{key} > :cursor_after", cursor_after=after)
    rows = (
        await conn.execute(
            text(f"{select} WHERE {filters.sql()} ORDER BY {key} LIMIT :limit"),
            {**filters.params, "limit": limit + 1},
        )
    ).all()
    more = len(rows) > limit
    rows = list(rows[:limit])
    last = rows[-1]._mapping[key.split(".")[-1]] if more else None
    return rows, (encode_cursor(last) if last is not None else None)
