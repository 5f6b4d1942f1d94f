"""The one base of the errors this service raises on purpose.

Each error has a stable ``code`` (part of the API contract: clients branch on it) and a ``kind``
that the HTTP layer maps to a status. The domain and the store stay free of HTTP.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any, ClassVar


class ErrorKind(StrEnum):
    INVALID = "invalid"  # the input breaks a rule: 422
    UNAUTHENTICATED = "unauthenticated"  # no valid bearer token: 401
    FORBIDDEN = "forbidden"  # authenticated, but the role may not do this: 403
    NOT_FOUND = "not-found"  # 404
    CONFLICT = "conflict"  # the state moved on or forbids it: 409
    PRECONDITION_FAILED = "precondition-failed"  # If-Match no longer matches: 412
    UNAVAILABLE = "unavailable"  # a dependency is down or not ready: 503


class KmopError(Exception):
    code: ClassVar[str] = "error"
    kind: ClassVar[ErrorKind] = ErrorKind.INVALID
    title: ClassVar[str] = "The request could not be processed"

    def __init__(
        self, detail: str, *, headers: dict[str, str] | None = None, **extensions: Any
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.headers = headers  # HTTP headers the problem response carries (WWW-Authenticate)
        self.extensions = extensions
