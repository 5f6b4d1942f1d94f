"""A report's result must agree with its verdicts and deadlines (DOMAIN.md, process step 4)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from app.domain import errors
from app.domain.decider import SubmitAuditReport
from app.domain.events import AuditResult, IndicatorScore, RegistrationKind, Score, Track
from app.domain.norm import AuditType
from app.domain.registration import Status
from tests.unit.lifecycle import (
    FOLLOW_UP_AUDIT_ID,
    FOLLOW_UP_REPORTED_ON,
    FOLLOW_UP_VISIT,
    REACTION_DEADLINE,
    REPORTED_ON,
    VISIT,
    conditional_report,
    follow_up_planned,
    given,
    in_audit,
    refused,
    report,
    reported,
    when,
)

IN_AUDIT = given(*in_audit())


def inconsistent(command: SubmitAuditReport, *words: str) -> str:
    error = refused(errors.ReportInconsistent, command, IN_AUDIT, REPORTED_ON)
    assert error.code == "report-inconsistent"
    for word in words:
        assert word in error.detail, error.detail
    return error.detail


# --- results ---------------------------------------------------------------------------------


def test_a_passed_report_is_recorded_as_given() -> None:
    assert when(report(), IN_AUDIT, REPORTED_ON) == [reported(report())]


def test_a_failed_report_gives_the_provider_six_months_to_react() -> None:
    failed = report(not_met=[2, 3])
    assert when(failed, IN_AUDIT, REPORTED_ON) == [
        reported(failed, reaction_deadline=REACTION_DEADLINE)
    ]
    state = given(*in_audit(), reported(failed, reaction_deadline=REACTION_DEADLINE))
    assert state.status is Status.AUDIT_FAILED


def test_a_conditional_pass_is_recorded_with_its_follow_up_deadline() -> None:
    conditional = conditional_report()
    assert when(conditional, IN_AUDIT, REPORTED_ON) == [reported(conditional)]
    assert given(*in_audit(), reported(conditional)).status is Status.AWAITING_DECISION


def test_passed_with_a_requirement_not_met_is_refused() -> None:
    inconsistent(
        report(not_met=[3], result=AuditResult.PASSED),
        "the result is passed but requirements are not met: 3 (client satisfaction)",
    )


@pytest.mark.parametrize("result", [AuditResult.FAILED, AuditResult.CONDITIONALLY_PASSED])
def test_failed_or_conditional_with_every_requirement_met_is_refused(result: AuditResult) -> None:
    deadline = date(2026, 12, 2) if result is AuditResult.CONDITIONALLY_PASSED else None
    command = report(result=result, follow_up_deadline=deadline)
    inconsistent(command, f"the result is {result.value} but every audited requirement is met")


# --- the follow-up deadline of a conditional pass ------------------------------------------


def test_a_conditional_pass_without_a_deadline_is_refused() -> None:
    inconsistent(
        conditional_report(follow_up_deadline=None), "needs the follow-up audit's deadline"
    )


@pytest.mark.parametrize(
    "deadline",
    [
        date(2026, 9, 1),  # 6 months after the visit of 2026-03-02, less a day
        date(2027, 3, 3),  # 12 months and a day
        date(2026, 3, 2),  # the visit itself
    ],
)
def test_a_follow_up_deadline_outside_six_to_twelve_months_is_refused(deadline: date) -> None:
    inconsistent(
        conditional_report(follow_up_deadline=deadline),
        f"the follow-up deadline {deadline} is not 6 to 12 months after the audit visit of {VISIT}",
    )


@pytest.mark.parametrize("deadline", [date(2026, 9, 2), date(2027, 3, 2)])
def test_a_follow_up_deadline_of_exactly_six_or_twelve_months_is_accepted(deadline: date) -> None:
    command = conditional_report(follow_up_deadline=deadline)
    assert when(command, IN_AUDIT, REPORTED_ON) == [reported(command)]


@pytest.mark.parametrize("result", [AuditResult.PASSED, AuditResult.FAILED])
def test_only_a_conditional_pass_has_a_follow_up_deadline(result: AuditResult) -> None:
    not_met = [3] if result is AuditResult.FAILED else []
    command = report(not_met=not_met, follow_up_deadline=date(2026, 12, 2))
    inconsistent(command, "only a conditional pass has a follow-up deadline")


@pytest.mark.parametrize("kind", [RegistrationKind.CONDITIONAL, RegistrationKind.STARTER])
def test_a_follow_up_audit_reported_as_conditional_is_refused(kind: RegistrationKind) -> None:
    conditional = kind is RegistrationKind.CONDITIONAL
    command = report(
        (3, 5) if conditional else (2, 3),
        audit_type=(
            AuditType.CONDITIONAL_FOLLOW_UP if conditional else AuditType.STARTER_FOLLOW_UP
        ),
        audit_id=FOLLOW_UP_AUDIT_ID,
        visit=FOLLOW_UP_VISIT,
        not_met=[3],
        result=AuditResult.CONDITIONALLY_PASSED,
        follow_up_deadline=date(2027, 6, 1),
    )
    state = given(*follow_up_planned(kind))
    error = refused(errors.ReportInconsistent, command, state, FOLLOW_UP_REPORTED_ON)
    assert error.detail == "a follow-up audit is passed or failed, not conditional"


# --- the audit type and the norm -----------------------------------------------------------


@pytest.mark.parametrize(
    "audit_type",
    [t for t in AuditType if t is not AuditType.BASIC],
)
def test_a_report_of_another_audit_type_is_refused(audit_type: AuditType) -> None:
    inconsistent(report(audit_type=audit_type), f"this is a basic audit, not {audit_type.value}")


def test_a_starter_audit_reported_as_basic_is_refused() -> None:
    starter = given(*in_audit(Track.STARTER))
    error = refused(errors.ReportInconsistent, report(), starter, REPORTED_ON)
    assert error.detail == "this is a starter audit, not basic"


def test_an_indicator_scored_twice_is_refused() -> None:
    command = report()
    twice = replace(command, scores=(*command.scores, command.scores[0]))
    inconsistent(twice, "indicators scored more than once: 1.1")


def test_an_indicator_not_in_the_norm_is_refused() -> None:
    command = report()
    unknown = IndicatorScore(indicator="4.9", conformity=Score.B, demonstrability=Score.G)
    inconsistent(replace(command, scores=(*command.scores, unknown)), "not in kmop-norm 2019: 4.9")


def test_a_second_verdict_on_a_requirement_is_refused() -> None:
    command = report()
    twice = replace(command, verdicts=(*command.verdicts, command.verdicts[0]))
    inconsistent(twice, "more than one verdict for requirement 1 (activity)")


def test_an_unknown_norm_version_is_refused() -> None:
    inconsistent(replace(report(), norm_version="2031"), "unknown kmop-norm version '2031'")


@pytest.mark.parametrize("score", list(Score))
def test_every_score_is_accepted_the_service_does_not_score(score: Score) -> None:
    """B, G, T and V are all valid: only the committee's verdicts decide the result."""
    command = report()
    scores = tuple(replace_score(s, score) for s in command.scores)
    scored = replace(command, scores=scores)
    assert when(scored, IN_AUDIT, REPORTED_ON) == [reported(scored)]


def replace_score(score: IndicatorScore, value: Score) -> IndicatorScore:
    return IndicatorScore(indicator=score.indicator, conformity=value, demonstrability=value)
