"""What each audit type audits, with and without exemptions (DOMAIN.md, "The five requirements
and the audit types"): a complete report on exactly those requirements is accepted; scores or a
verdict on any other requirement, or a missing score or verdict, make it inconsistent."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date

import pytest

from app.domain import errors
from app.domain.decider import SubmitAuditReport
from app.domain.event import DomainEvent
from app.domain.events import CertificateHeld, RegistrationKind, Track, Verdict
from app.domain.identifiers import RegistrationUnit
from app.domain.norm import AuditType, Certificate, ProfessionalBody, Requirement
from app.domain.registration import UnitState
from tests.unit.lifecycle import (
    ADVICE_UNIT,
    ALL,
    AUDIT_ID,
    FOLLOW_UP_AUDIT_ID,
    FOLLOW_UP_REPORTED_ON,
    FOLLOW_UP_VISIT,
    REPORTED_ON,
    UNIT,
    VISIT,
    application_submitted,
    chosen,
    declared,
    follow_up_planned,
    given,
    in_audit,
    planned,
    refused,
    registered,
    report,
    reported,
    scores_for,
    when,
)

RENEWAL_VISIT = date(2030, 11, 4)
RENEWAL_REPORTED_ON = date(2030, 11, 18)


def certificate(kind: Certificate, valid_until: date) -> tuple[CertificateHeld, ...]:
    return (CertificateHeld(certificate=kind, valid_until=valid_until),)


ISO = certificate(Certificate.ISO_9001, date(2027, 12, 31))
ISO_RENEWED = certificate(Certificate.ISO_9001, date(2033, 12, 31))
QFOR_LAST_DAY = certificate(Certificate.QFOR, VISIT)  # valid through the audit date
WSE_EXPIRED = certificate(Certificate.WSE, date(2026, 3, 1))  # the day before the audit


@dataclass(frozen=True)
class Case:
    audit_type: AuditType
    audited: tuple[int, ...]
    unit: RegistrationUnit = UNIT
    certificates: tuple[CertificateHeld, ...] = ()
    body: ProfessionalBody | None = None

    def history(self) -> list[DomainEvent]:
        match self.audit_type:
            case AuditType.BASIC | AuditType.STARTER:
                track = Track(self.audit_type.value)
                return in_audit(
                    track,
                    unit=self.unit,
                    certificates=self.certificates,
                    professional_body=self.body,
                )
            case AuditType.RENEWAL:
                return [
                    *registered(),
                    application_submitted(
                        Track.RENEWAL,
                        application_id="a-2",
                        certificates=self.certificates,
                        professional_body=self.body,
                        submitted_on=date(2030, 9, 1),
                    ),
                    declared(date(2030, 9, 3), "a-2"),
                    chosen(AuditType.RENEWAL, audit_id="audit-r", chosen_on=date(2030, 9, 10)),
                    planned(audit_id="audit-r", visit=RENEWAL_VISIT),
                ]
            case AuditType.STARTER_FOLLOW_UP:
                return follow_up_planned(RegistrationKind.STARTER)
            case AuditType.CONDITIONAL_FOLLOW_UP:
                return follow_up_planned(RegistrationKind.CONDITIONAL)

    def report(self, audited: tuple[int, ...] | None = None) -> SubmitAuditReport:
        return report(
            self.audited if audited is None else audited,
            audit_type=self.audit_type,
            audit_id={
                AuditType.RENEWAL: "audit-r",
                AuditType.STARTER_FOLLOW_UP: FOLLOW_UP_AUDIT_ID,
                AuditType.CONDITIONAL_FOLLOW_UP: FOLLOW_UP_AUDIT_ID,
            }.get(self.audit_type, AUDIT_ID),
            visit=self.visit,
        )

    @property
    def visit(self) -> date:
        if self.audit_type is AuditType.RENEWAL:
            return RENEWAL_VISIT
        return FOLLOW_UP_VISIT if self.audit_type in FOLLOW_UPS else VISIT

    @property
    def day(self) -> date:
        if self.audit_type is AuditType.RENEWAL:
            return RENEWAL_REPORTED_ON
        return FOLLOW_UP_REPORTED_ON if self.audit_type in FOLLOW_UPS else REPORTED_ON

    def state(self) -> UnitState:
        return given(*self.history())


FOLLOW_UPS = (AuditType.STARTER_FOLLOW_UP, AuditType.CONDITIONAL_FOLLOW_UP)
B, S = AuditType.BASIC, AuditType.STARTER
CASES = {
    "basic": Case(B, ALL),
    "basic-advice": Case(B, ALL, ADVICE_UNIT),
    "renewal": Case(AuditType.RENEWAL, ALL),
    "renewal-iso": Case(AuditType.RENEWAL, (4, 5), certificates=ISO_RENEWED),
    "renewal-iso-expired-since": Case(AuditType.RENEWAL, ALL, certificates=ISO),
    "iso": Case(B, (4, 5), certificates=ISO),
    "qfor-valid-on-audit-date": Case(B, (4, 5), certificates=QFOR_LAST_DAY),
    "wse-expired-before-audit": Case(B, ALL, ADVICE_UNIT, certificates=WSE_EXPIRED),
    "iab-training": Case(B, (1, 2, 3, 4), body=ProfessionalBody.IAB),
    "bibf-training": Case(B, (1, 2, 3, 4), body=ProfessionalBody.BIBF),
    "itaa-training": Case(B, (1, 2, 3, 4), body=ProfessionalBody.ITAA),
    "ibr-training": Case(B, (1, 2, 3, 4), body=ProfessionalBody.IBR),
    "iab-advice": Case(B, (3, 4), ADVICE_UNIT, body=ProfessionalBody.IAB),
    "bibf-advice": Case(B, (3, 4), ADVICE_UNIT, body=ProfessionalBody.BIBF),
    "itaa-advice": Case(B, (3, 4), ADVICE_UNIT, body=ProfessionalBody.ITAA),
    "ibr-advice": Case(B, (3, 4), ADVICE_UNIT, body=ProfessionalBody.IBR),
    "iso-ibr-advice": Case(B, (4,), ADVICE_UNIT, ISO, ProfessionalBody.IBR),
    "iso-itaa-training": Case(B, (4,), UNIT, ISO, ProfessionalBody.ITAA),
    "expired-wse-iab-advice": Case(B, (3, 4), ADVICE_UNIT, WSE_EXPIRED, ProfessionalBody.IAB),
    "starter": Case(S, (1, 4, 5)),
    "starter-iso": Case(S, (4, 5), certificates=ISO),
    "starter-itaa-training": Case(S, (1, 4), body=ProfessionalBody.ITAA),
    "starter-itaa-advice": Case(S, (4,), ADVICE_UNIT, body=ProfessionalBody.ITAA),
    "starter-follow-up": Case(AuditType.STARTER_FOLLOW_UP, (2, 3)),
    "conditional-follow-up": Case(AuditType.CONDITIONAL_FOLLOW_UP, (3, 5)),  # what was lacking
}


def params(pairs: list[tuple[str, int]]) -> list[object]:
    return [pytest.param(name, n, id=f"{name}-{n}") for name, n in pairs]


NOT_AUDITED = params([(k, n) for k, c in CASES.items() for n in ALL if n not in c.audited])
AUDITED = params([(k, n) for k, c in CASES.items() for n in c.audited])


def name(n: int) -> str:
    r = Requirement(n)
    return f"{n} ({r.name.lower().replace('_', ' ')})"


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_a_complete_report_on_the_audited_requirements_is_recorded(case: Case) -> None:
    command = case.report()
    events = when(command, case.state(), case.day)
    assert events[0] == reported(command, submitted_on=case.day)
    assert len(events) == (2 if case.audit_type in FOLLOW_UPS else 1)


@pytest.mark.parametrize(("case", "requirement"), NOT_AUDITED)
def test_scoring_a_requirement_the_audit_does_not_cover_is_refused(
    case: str, requirement: int
) -> None:
    audit = CASES[case]
    command = audit.report()
    extra = scores_for([requirement])
    scored = replace(command, scores=command.scores + extra)
    error = refused(errors.ReportInconsistent, scored, audit.state(), audit.day)
    assert error.code == "report-inconsistent"
    assert "does not cover (exempt)" in error.detail
    assert name(requirement) in error.detail
    assert extra[0].indicator in error.detail


@pytest.mark.parametrize(("case", "requirement"), NOT_AUDITED)
def test_a_verdict_on_a_requirement_the_audit_does_not_cover_is_refused(
    case: str, requirement: int
) -> None:
    audit = CASES[case]
    command = audit.report()
    extra = Verdict(requirement=Requirement(requirement), met=True)
    judged = replace(command, verdicts=(*command.verdicts, extra))
    error = refused(errors.ReportInconsistent, judged, audit.state(), audit.day)
    assert f"verdicts given for requirements this audit does not cover: {name(requirement)}" in (
        error.detail
    )


@pytest.mark.parametrize(("case", "requirement"), AUDITED)
def test_an_audited_indicator_without_scores_is_refused(case: str, requirement: int) -> None:
    audit = CASES[case]
    command = audit.report()
    missing = f"{requirement}.2"
    scores = tuple(s for s in command.scores if s.indicator != missing)
    unscored = replace(command, scores=scores)
    error = refused(errors.ReportInconsistent, unscored, audit.state(), audit.day)
    assert error.detail == f"audited indicators without scores: {missing}"


@pytest.mark.parametrize(("case", "requirement"), AUDITED)
def test_an_audited_requirement_without_a_verdict_is_refused(case: str, requirement: int) -> None:
    audit = CASES[case]
    command = audit.report()
    verdicts = tuple(v for v in command.verdicts if v.requirement != requirement)
    unjudged = replace(command, verdicts=verdicts)
    error = refused(errors.ReportInconsistent, unjudged, audit.state(), audit.day)
    assert error.detail == f"audited requirements without a verdict: {name(requirement)}"


def test_an_expired_certificate_exempts_nothing() -> None:
    """A report written as if the expired WSE certificate still held is incomplete."""
    audit = CASES["wse-expired-before-audit"]
    error = refused(errors.ReportInconsistent, audit.report((4, 5)), audit.state(), audit.day)
    assert error.detail.startswith("audited indicators without scores: 1.1, 1.2")


def test_the_certificate_is_judged_on_the_audit_date_not_the_report_date() -> None:
    """Valid on the visit, expired by the day of the report: still exempt."""
    audit = CASES["qfor-valid-on-audit-date"]
    assert audit.day > VISIT
    assert when(audit.report(), audit.state(), audit.day) == [reported(audit.report())]
