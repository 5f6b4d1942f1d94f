"""Identifiers of the registration process, parsed from their common written forms.

* Enterprise number (*ondernemingsnummer*, KBO): 10 digits whose last two are
  ``97 - (first eight mod 97)``; ``BE 0403.170.701``, ``0403170701`` and the old 9-digit form
  ``403170701`` are the same number. Validation by ``python-stdnum`` (``stdnum.be.vat``).
* Bank account: an IBAN of a SEPA country with a valid check (``schwifty``, which keeps the
  country tables and the SEPA zone up to date).
* Registration number: ``DV.O`` (training, *opleiding*) or ``DV.A`` (advice, *advies*) and six
  digits; written with or without the dot, in any case, with spaces (``dv.o 236716``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from typing import Self

from schwifty import IBAN
from schwifty.exceptions import SchwiftyException
from stdnum.be import vat as be_vat
from stdnum.exceptions import ValidationError as StdnumValidationError

from app.domain.errors import KmopError


class InvalidIdentifier(KmopError):
    code = "invalid-identifier"
    title = "The identifier is not valid"


class ServiceType(StrEnum):
    """The service a registration is for: training (*opleiding*) or advice (*advies*)."""

    TRAINING = "opleiding"
    ADVICE = "advies"

    @property
    def number_letter(self) -> str:
        return "O" if self is ServiceType.TRAINING else "A"


@dataclass(frozen=True, slots=True, order=True)
class EnterpriseNumber:
    """A Belgian enterprise number, canonical as 10 digits."""

    digits: str

    @classmethod
    def parse(cls, text: str) -> Self:
        try:
            digits = be_vat.validate(text)
        except StdnumValidationError as exc:
            raise InvalidIdentifier(
                f"{text!r} is not a valid Belgian enterprise number", field="enterprise_number"
            ) from exc
        return cls(digits)

    @classmethod
    def with_check_digits(cls, first8: int) -> Self:
        """The valid number that starts with these eight digits (0 to 0999.999.9): its last two
        are 97 minus their remainder mod 97. For made-up numbers (demo data, tests, benchmarks)."""
        head = f"{first8:08d}"
        return cls.parse(f"{head}{97 - first8 % 97:02d}")

    def __str__(self) -> str:
        return self.digits

    @property
    def formatted(self) -> str:
        """The way KBO writes it: ``0403.170.701``."""
        d = self.digits
        return f"{d[:4]}.{d[4:7]}.{d[7:]}"


@dataclass(frozen=True, slots=True)
class BankAccount:
    """An IBAN in the SEPA zone, canonical without spaces."""

    iban: str

    @classmethod
    def parse(cls, text: str) -> Self:
        try:
            iban = IBAN(text)
        except SchwiftyException as exc:
            raise InvalidIdentifier(
                f"{text!r} is not a valid IBAN: {exc}", field="bank_account"
            ) from exc
        if not iban.in_sepa_zone:
            raise InvalidIdentifier(
                f"{iban.compact} is not an account in a SEPA country", field="bank_account"
            )
        return cls(str(iban.compact))

    def __str__(self) -> str:
        return self.iban


_REGISTRATION_NUMBER = re.compile(r"^\s*DV\s*\.?\s*([OA])\s*(\d{6})\s*$", re.IGNORECASE)


@dataclass(frozen=True, slots=True, order=True)
class RegistrationNumber:
    """``DV.O236716``: the service type's letter and a six-digit serial."""

    service_type: ServiceType
    serial: int

    def __post_init__(self) -> None:
        if not 0 < self.serial <= 999_999:
            raise InvalidIdentifier(f"registration serial {self.serial} is out of range")

    @classmethod
    def parse(cls, text: str) -> Self:
        match = _REGISTRATION_NUMBER.match(text)
        if match is None:
            raise InvalidIdentifier(
                f"{text!r} is not a registration number like DV.O236716 or DV.A104813",
                field="registration_number",
            )
        letter, serial = match.groups()
        service = ServiceType.TRAINING if letter.upper() == "O" else ServiceType.ADVICE
        return cls(service, int(serial))

    def __str__(self) -> str:
        return f"DV.{self.service_type.number_letter}{self.serial:06d}"


# How people write a number they read somewhere: the six digits without their leading zeros
# (``DV.O17``, ``dvo17``), or the digits alone (``17``).
_WRITTEN_NUMBER = re.compile(r"^\s*(?:DV\s*\.?\s*([OA])\s*\.?\s*)?(\d{1,6})\s*$", re.IGNORECASE)


def written_registration_numbers(text: str) -> tuple[RegistrationNumber, ...]:
    """The registration numbers a person may mean by ``text``: ``DV.O17`` and ``dvo17`` are
    ``DV.O000017``; the digits alone (``17``) are ``DV.O000017`` or ``DV.A000017``, and at most
    one of those exists, since both service types draw their serials from one counter
    (DOMAIN.md, "Registration numbers"). ``InvalidIdentifier`` for anything else."""
    match = _WRITTEN_NUMBER.match(text)
    if match is None:
        raise InvalidIdentifier(
            f"{text!r} is not a registration number like DV.O236716, DV.A104813 or 17",
            field="registration_number",
        )
    letter, digits = match.groups()
    serial = int(digits)
    types = (
        [ServiceType.TRAINING if letter.upper() == "O" else ServiceType.ADVICE]
        if letter
        else list(ServiceType)
    )
    return tuple(RegistrationNumber(service, serial) for service in types)


@dataclass(frozen=True, slots=True, order=True)
class RegistrationUnit:
    """What one registration is for: an enterprise (a university: one of its departments) and
    one service type."""

    enterprise_number: EnterpriseNumber
    service_type: ServiceType
    department: str | None = None

    @property
    def key(self) -> str:
        """A stable text key, used as the unit's stream id."""
        department = f":{self.department.strip().casefold()}" if self.department else ""
        return f"{self.enterprise_number}:{self.service_type.value}{department}"
