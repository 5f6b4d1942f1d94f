"""The attest of registration (*attest van registratie*, brochure step 4) and the question
anyone may ask of a registration number: was it in force on that day?

Both read the unit's folded state (``registration.py``); nothing here decides or reads a clock.

**In force on day D** (our rule): the state folded from the events recorded up to the end of D
in Belgium has a registration that has not ended, and D lies in its validity period (both ends
included, ``policies.py``). A stop or an expiry recorded later does not rewrite D; a validity
that ran out is out even before the deadline job records the expiry (as the public search).

**The attest** states what the registry says of a registration at one version of its stream:
the provider, the number, service type, kind, validity and the date of the decision. A
registration that ended (stopped, expired, follow-up failed or missed) still gets its attest,
saying since when it is no longer in force: the provider may need to show it was registered
in the past; the reason is not on it.

**The verification code** (``DVO000001-K7QM3TXA``) is the registration number and the first 40
bits of a SHA-256 of everything the attest states but the name. Anyone can check a code
against the registry (``matches``): the code names the registration, and the registry recomputes
the digest of each attest that registration had. No secret is needed: the registry never trusts
what the code says, it only compares; to pass off other dates a forger must find a 40-bit
collision among plausible dates, which there are far too few of.
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from app.domain.event import DomainEvent
from app.domain.events import RegistrationKind
from app.domain.identifiers import (
    EnterpriseNumber,
    InvalidIdentifier,
    RegistrationNumber,
    ServiceType,
)
from app.domain.registration import Registration, UnitState, evolve

# The kind in the words of the attest and the public check (Dutch).
KIND_WORDS = {
    RegistrationKind.FULL: "volledige registratie",
    RegistrationKind.CONDITIONAL: "voorwaardelijke registratie",
    RegistrationKind.STARTER: "registratie als starter",
}
SERVICE_WORDS = {ServiceType.TRAINING: "opleiding", ServiceType.ADVICE: "advies"}

_DIGEST_CHARS = 8  # base32: 40 bits
_CODE = re.compile(r"^\s*DV\s*\.?\s*([OA])\s*(\d{6})\s*-?\s*([A-Z2-7]{8})\s*$", re.IGNORECASE)


class InvalidVerificationCode(InvalidIdentifier):
    code = "invalid-verification-code"
    title = "Not a verification code of an attest"


def in_force_on(state: UnitState, day: date) -> Registration | None:
    """The registration in force on ``day``, given the state as of the end of that day."""
    registration = state.registration
    if registration is None or not registration.in_force:
        return None
    if not registration.valid_from <= day <= registration.valid_until:
        return None
    return registration


@dataclass(frozen=True, slots=True)
class Attest:
    registration_number: RegistrationNumber
    provider_name: str
    enterprise_number: EnterpriseNumber
    department: str | None
    kind: RegistrationKind
    valid_from: date
    valid_until: date
    decision_date: date
    ended_on: date | None  # no longer in force since then

    @property
    def service_type(self) -> ServiceType:
        return self.registration_number.service_type

    @property
    def verification_code(self) -> str:
        number = str(self.registration_number).replace(".", "")
        return f"{number}-{self.digest}"

    @property
    def digest(self) -> str:
        stated = "|".join(
            [
                "attest-1",
                str(self.registration_number),
                str(self.enterprise_number),
                self.department or "",
                self.kind.value,
                self.valid_from.isoformat(),
                self.valid_until.isoformat(),
                self.decision_date.isoformat(),
                self.ended_on.isoformat() if self.ended_on else "",
            ]
        )
        raw = hashlib.sha256(stated.encode()).digest()
        return base64.b32encode(raw).decode()[:_DIGEST_CHARS]


def attest_of(state: UnitState, number: RegistrationNumber) -> Attest | None:
    """What the attest of the unit says in ``state``; None before its first registration."""
    registration, unit = state.registration, state.unit
    if registration is None or unit is None or state.registered is None:
        return None
    return Attest(
        registration_number=number,
        provider_name=state.registered.provider_name,
        enterprise_number=unit.enterprise_number,
        department=unit.department,
        kind=registration.kind,
        valid_from=registration.valid_from,
        valid_until=registration.valid_until,
        decision_date=registration.decision_date,
        ended_on=registration.ended_on if not registration.in_force else None,
    )


def attests_over_time(events: Iterable[DomainEvent], number: RegistrationNumber) -> list[Attest]:
    """Every attest the unit's stream gave, oldest first: what it said after each event."""
    state, found = UnitState(), list[Attest]()
    for event in events:
        state = evolve(state, event)
        attest = attest_of(state, number)
        if attest is not None and attest not in found:
            found.append(attest)
    return found


def parse_code(code: str) -> tuple[RegistrationNumber, str]:
    """The registration number a verification code names, and its digest (upper case)."""
    match = _CODE.match(code[:60])
    if match is None:
        raise InvalidVerificationCode(
            f"{code[:60]!r} is not a verification code like DVO000001-K7QM3TXA"
        )
    letter, serial, digest = match.groups()
    return RegistrationNumber.parse(f"DV.{letter}{serial}"), digest.upper()


def matches(digest: str, attests: Iterable[Attest]) -> bool:
    """Whether ``digest`` is that of one of the attests (the registration's, over time)."""
    return any(attest.digest == digest for attest in attests)
