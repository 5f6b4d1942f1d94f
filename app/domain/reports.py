"""Is an audit report whole and consistent? DOMAIN.md, "The process, as events", step 4.

The service checks the report, it does not score it: every audited indicator carries both
scores, every audited requirement has a verdict, exempted requirements carry nothing, and the
overall result agrees with the verdicts. The first fault found is reported with its reason.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import date

from app.domain.errors import ReportInconsistent
from app.domain.events import AuditResult, IndicatorScore, Verdict
from app.domain.norm import NormVersion, Requirement
from app.domain.policies import follow_up_deadline_allowed


def _names(requirements: set[Requirement] | frozenset[Requirement]) -> str:
    return ", ".join(
        f"{r.value} ({r.name.lower().replace('_', ' ')})" for r in sorted(requirements)
    )


def check_report(
    *,
    norm: NormVersion,
    audited: frozenset[Requirement],
    scores: Sequence[IndicatorScore],
    verdicts: Sequence[Verdict],
    result: AuditResult,
    visit_date: date,
    follow_up_deadline: date | None,
    follow_up_audit: bool,
) -> None:
    _check_scores(norm, audited, scores)
    _check_verdicts(audited, verdicts)
    _check_result(result, verdicts, visit_date, follow_up_deadline, follow_up_audit)


def _check_scores(
    norm: NormVersion, audited: frozenset[Requirement], scores: Sequence[IndicatorScore]
) -> None:
    counts = Counter(score.indicator for score in scores)
    twice = sorted(code for code, n in counts.items() if n > 1)
    if twice:
        raise ReportInconsistent(f"indicators scored more than once: {', '.join(twice)}")
    unknown = sorted(code for code in counts if norm.indicator(code) is None)
    if unknown:
        raise ReportInconsistent(
            f"indicators not in kmop-norm {norm.version}: {', '.join(unknown)}"
        )
    scored = set(counts)
    exempt_scored = scored - norm.indicators_of(audited)
    if exempt_scored:
        requirements = {i.requirement for i in norm.indicators if i.code in exempt_scored}
        raise ReportInconsistent(
            f"scores given for requirements this audit does not cover (exempt): "
            f"{_names(requirements)}; indicators {', '.join(sorted(exempt_scored))}"
        )
    missing = sorted(norm.indicators_of(audited) - scored)
    if missing:
        raise ReportInconsistent(f"audited indicators without scores: {', '.join(missing)}")


def _check_verdicts(audited: frozenset[Requirement], verdicts: Sequence[Verdict]) -> None:
    counts = Counter(verdict.requirement for verdict in verdicts)
    twice = {requirement for requirement, n in counts.items() if n > 1}
    if twice:
        raise ReportInconsistent(f"more than one verdict for requirement {_names(twice)}")
    extra = set(counts) - audited
    if extra:
        raise ReportInconsistent(
            f"verdicts given for requirements this audit does not cover: {_names(extra)}"
        )
    missing = audited - set(counts)
    if missing:
        raise ReportInconsistent(f"audited requirements without a verdict: {_names(missing)}")


def _check_result(
    result: AuditResult,
    verdicts: Sequence[Verdict],
    visit_date: date,
    follow_up_deadline: date | None,
    follow_up_audit: bool,
) -> None:
    not_met = {v.requirement for v in verdicts if not v.met}
    if result is AuditResult.PASSED and not_met:
        raise ReportInconsistent(
            f"the result is passed but requirements are not met: {_names(not_met)}"
        )
    if result is not AuditResult.PASSED and not not_met:
        raise ReportInconsistent(
            f"the result is {result.value} but every audited requirement is met"
        )
    if result is AuditResult.CONDITIONALLY_PASSED:
        if follow_up_audit:
            raise ReportInconsistent("a follow-up audit is passed or failed, not conditional")
        if follow_up_deadline is None:
            raise ReportInconsistent("a conditional pass needs the follow-up audit's deadline")
        if not follow_up_deadline_allowed(visit_date, follow_up_deadline):
            raise ReportInconsistent(
                f"the follow-up deadline {follow_up_deadline} is not 6 to 12 months after "
                f"the audit visit of {visit_date}"
            )
    elif follow_up_deadline is not None:
        raise ReportInconsistent("only a conditional pass has a follow-up deadline")
