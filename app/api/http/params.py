"""Path and query parameters shared by the routers, validated before anything reads them."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated

from fastapi import Path, Query
from pydantic import BeforeValidator

from app.api.schemas import FIRST_DAY, ID_PATTERN, LAST_DAY, enterprise_number
from app.domain.policies import end_of_day


def _as_of(value: object) -> object:
    """A date means the end of that Belgian calendar day; a time without a zone is UTC."""
    if not isinstance(value, str):
        return value
    try:
        day = date.fromisoformat(value)
    except ValueError:
        try:
            instant = datetime.fromisoformat(value)
        except ValueError:
            raise ValueError("must be an ISO 8601 date or date-time") from None
        if not FIRST_DAY <= instant.date() <= LAST_DAY:
            raise ValueError(f"must lie between {FIRST_DAY} and {LAST_DAY}") from None
        return instant if instant.tzinfo else instant.replace(tzinfo=UTC)
    if not FIRST_DAY <= day <= LAST_DAY:
        raise ValueError(f"must lie between {FIRST_DAY} and {LAST_DAY}")
    return end_of_day(day)


ResourceId = Annotated[str, Path(pattern=ID_PATTERN, description="As returned on creation")]
RegistrationRef = Annotated[
    str,
    Path(
        max_length=300,
        pattern=r"^[^\x00-\x1f\x7f/]+$",
        description="A registration number in any written form (DV.O236716, dvo236716, "
        "dv.o 236716) or the unit id (0403170701:opleiding)",
        examples=["DV.O000001"],
    ),
]
AsOf = Annotated[
    datetime | None,
    BeforeValidator(_as_of),
    Query(
        description="The state as the events recorded up to then make it: an ISO 8601 "
        "date-time (UTC when no zone is given) or a date (the end of that day in Belgium)",
        examples=["2027-06-30"],
    ),
]
Cursor = Annotated[
    str | None,
    Query(max_length=500, description="next_cursor of the previous page"),
]
Limit = Annotated[int, Query(ge=1, le=200, description="Items per page")]
Filter = Annotated[str | None, Query(max_length=100, pattern=r"^[^\x00-\x1f\x7f]*$")]
EnterpriseNumberFilter = Annotated[
    str | None,
    BeforeValidator(lambda v: enterprise_number(v) if isinstance(v, str) else v),
    Query(max_length=40, description="In any common written form", examples=["0403.170.701"]),
]
