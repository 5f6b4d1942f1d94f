"""The fields every request and response is made of, and the base of the request bodies.

Identifiers are accepted in their common written forms and returned canonical: enterprise
numbers (``BE 0403.170.701`` -> ``0403170701``), IBANs (spaces, lower case), registration
numbers (``dv.o 236716`` -> ``DV.O236716``). Text is bounded and free of control characters
(PostgreSQL cannot store NUL); dates lie between 1900 and 2999. A field that breaks any of this
is a ``validation-failed`` problem with a JSON pointer to it.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
)

from app.domain.events import AuditResult
from app.domain.identifiers import (
    BankAccount,
    EnterpriseNumber,
    InvalidIdentifier,
    RegistrationNumber,
    written_registration_numbers,
)
from app.domain.norm import AuditType, Certificate
from app.domain.policies import ELIGIBLE_THEMES
from app.domain.regions import Province

FIRST_DAY, LAST_DAY = date(1900, 1, 1), date(2999, 12, 31)


# The C0 controls but tab, line feed and carriage return, and DEL: one search, not a loop over
# the characters in Python (every text field of every request goes through it).
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _printable(value: str) -> str:
    if _CONTROL.search(value):
        raise ValueError("must not contain control characters")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("must be valid Unicode text") from None
    return value


def _day(value: date) -> date:
    if not FIRST_DAY <= value <= LAST_DAY:
        raise ValueError(f"must lie between {FIRST_DAY} and {LAST_DAY}")
    return value


def enterprise_number(value: str) -> str:
    try:
        return str(EnterpriseNumber.parse(value))
    except InvalidIdentifier as exc:
        raise ValueError(exc.detail) from None


def canonical_registration_number(value: str) -> str:
    """A registration number in any written form, canonical (``DV.O000001``): with or without
    the dot, in any case, its digits padded (``DV.O17`` is ``DV.O000017``). The service type's
    letter is needed: see ``registration_numbers`` for the digits alone."""
    numbers = registration_numbers(value)
    if len(numbers) != 1:
        raise ValueError(f"{value.strip()!r} needs its DV.O or DV.A: DV.O{numbers[0].serial:06d}")
    return str(numbers[0])


def registration_numbers(value: str) -> tuple[RegistrationNumber, ...]:
    """What a written number may mean, for a search: ``17`` is ``DV.O000017`` or
    ``DV.A000017`` (``identifiers.written_registration_numbers``)."""
    try:
        return written_registration_numbers(value)
    except InvalidIdentifier as exc:
        raise ValueError(exc.detail) from None


def _iban(value: str) -> str:
    try:
        return str(BankAccount.parse(value))
    except InvalidIdentifier as exc:
        raise ValueError(exc.detail) from None


def _theme(value: str) -> str:
    if value not in ELIGIBLE_THEMES:
        raise ValueError(f"not an eligible theme; one of: {', '.join(sorted(ELIGIBLE_THEMES))}")
    return value


ShortText = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=200),
    AfterValidator(_printable),
]
LongText = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=5000),
    AfterValidator(_printable),
]


ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,99}$"
Identifier = Annotated[
    str,
    StringConstraints(pattern=ID_PATTERN),
    Field(description="Letters, digits and . _ : - (at most 100)", examples=["bureau-kiwa"]),
]
Day = Annotated[date, AfterValidator(_day)]
EnterpriseNumberText = Annotated[
    str,
    StringConstraints(max_length=40),
    AfterValidator(enterprise_number),
    Field(
        description="Belgian enterprise number in any common form; returned as 10 digits",
        examples=["BE 0403.170.701"],
    ),
]
IbanText = Annotated[
    str,
    StringConstraints(max_length=64),
    AfterValidator(_iban),
    Field(description="IBAN of a SEPA country", examples=["BE68 5390 0754 7034"]),
]
Theme = Annotated[str, AfterValidator(_theme)]


def _snake_case(value: object) -> object:
    """Every enumerated value of the API is snake_case; the hyphenated spellings of before
    (``conditionally-passed``) are still understood on input, and never emitted."""
    return value.replace("-", "_") if isinstance(value, str) else value


AuditTypeIn = Annotated[AuditType, BeforeValidator(_snake_case)]
AuditResultIn = Annotated[AuditResult, BeforeValidator(_snake_case)]
CertificateKind = Annotated[Certificate, BeforeValidator(_snake_case)]
ProvinceIn = Annotated[Province, BeforeValidator(_snake_case)]


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
