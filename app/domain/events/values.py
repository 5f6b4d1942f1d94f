"""The values the events carry: tracks, audit results, scores, the kind of registration,
certificates held, indicator scores and verdicts."""

from __future__ import annotations

from datetime import date
from enum import StrEnum

from pydantic import BaseModel, ConfigDict

from app.domain.norm import Certificate, Requirement


class Track(StrEnum):
    """The audit track an application asks for."""

    BASIC = "basic"
    STARTER = "starter"
    RENEWAL = "renewal"


class AuditResult(StrEnum):
    PASSED = "passed"  # geslaagd
    CONDITIONALLY_PASSED = "conditionally_passed"  # voorwaardelijk geslaagd
    FAILED = "failed"  # niet geslaagd


class Score(StrEnum):
    """An indicator's score: beperkt, gedeeltelijk, toereikend, volkomen."""

    B = "B"
    G = "G"
    T = "T"
    V = "V"


SCORE_MEANINGS: dict[Score, str] = {
    Score.B: "beperkt",
    Score.G: "gedeeltelijk",
    Score.T: "toereikend",
    Score.V: "volkomen",
}


class RegistrationKind(StrEnum):
    FULL = "full"
    CONDITIONAL = "conditional"
    STARTER = "starter"


class Value(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class CertificateHeld(Value):
    certificate: Certificate
    valid_until: date


class IndicatorScore(Value):
    """Both scores of one audited indicator.

    ``conformity`` is *overeenstemming* (a described way of working exists);
    ``demonstrability`` is *aantoonbaarheid* (it is applied in practice).
    """

    indicator: str
    conformity: Score
    demonstrability: Score


class Verdict(Value):
    """The certification committee's verdict on one audited requirement."""

    requirement: Requirement
    met: bool
