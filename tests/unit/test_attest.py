"""What the attest states and whether a registration was in force on a day: pure functions of
the folded state (``app.domain.attest``)."""

from __future__ import annotations

from datetime import date

import pytest

from app.domain.attest import (
    InvalidVerificationCode,
    attest_of,
    attests_over_time,
    in_force_on,
    matches,
    parse_code,
)
from app.domain.events import RegistrationKind, RegistrationStopped
from app.domain.identifiers import RegistrationNumber
from tests.unit.lifecycle import (
    DECIDED_ON,
    ENTERPRISE,
    PROVIDER_NAME,
    VALID_UNTIL,
    given,
    in_audit,
    registered,
)

NUMBER = RegistrationNumber.parse("DV.O000007")
STOPPED = RegistrationStopped(reason="Misbruik", stopped_on=date(2026, 6, 1))


def test_a_registration_is_in_force_within_its_validity_until_it_ends() -> None:
    state = given(*registered())
    assert in_force_on(state, DECIDED_ON) is state.registration
    assert in_force_on(state, VALID_UNTIL) is state.registration
    assert in_force_on(state, date(2026, 3, 31)) is None  # before the decision
    assert in_force_on(state, date(2031, 4, 1)) is None  # ran out, expiry not yet recorded
    assert in_force_on(given(*registered(), STOPPED), date(2026, 5, 31)) is None  # folded later
    assert in_force_on(given(*in_audit()), DECIDED_ON) is None


def test_the_attest_states_the_registration_and_since_when_it_ended() -> None:
    attest = attest_of(given(*registered(RegistrationKind.STARTER)), NUMBER)
    assert attest is not None
    assert (attest.provider_name, attest.enterprise_number) == (PROVIDER_NAME, ENTERPRISE)
    assert (attest.kind, attest.valid_from, attest.decision_date) == (
        RegistrationKind.STARTER,
        DECIDED_ON,
        DECIDED_ON,
    )
    assert attest.ended_on is None
    ended = attest_of(given(*registered(RegistrationKind.STARTER), STOPPED), NUMBER)
    assert ended is not None
    assert ended.ended_on == date(2026, 6, 1)
    assert ended.verification_code != attest.verification_code
    assert attest_of(given(*in_audit()), NUMBER) is None


def test_a_verification_code_names_the_number_and_matches_only_its_attests() -> None:
    events = [*registered(), STOPPED]
    history = attests_over_time(events, NUMBER)
    assert [a.ended_on for a in history] == [None, date(2026, 6, 1)]
    code = history[0].verification_code
    assert code.startswith("DVO000007-")
    assert len(code) == len("DVO000007-") + 8
    number, digest = parse_code(f" dv.o000007 {code[-8:].lower()}")
    assert number == NUMBER
    assert matches(digest, history)
    assert not matches("AAAAAAAA", history)
    other = attests_over_time(events, RegistrationNumber.parse("DV.O000008"))
    assert not matches(digest, other)  # the same facts under another number
    for bad in ("DVO000007", "DVO000007-1234567", "DVX000007-AAAAAAAA", "x" * 100):
        with pytest.raises(InvalidVerificationCode):
            parse_code(bad)
