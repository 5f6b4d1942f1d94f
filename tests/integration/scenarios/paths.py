"""The paths through the lifecycle: each writes one kind of story with ``Story``'s steps."""

from __future__ import annotations

from datetime import date, timedelta

from app.domain import errors
from app.domain.decider import SubmitApplication
from app.domain.events import AuditResult, Track
from app.domain.norm import AuditType
from app.domain.policies import reaction_deadline
from app.domain.registration import Status
from tests.integration.scenarios.story import Story
from tests.integration.scenarios.timeline import END, Role, first_run_after
from tests.integration.scenarios.units import DoesNotFit, Kind


def registered_path(story: Story, track: Track = Track.BASIC) -> date:
    """Apply, pass the audit, be granted; returns the decision date."""
    application_id = story.submit(story.day, track)
    story.starter = track is Track.STARTER
    audit_type = {
        Track.BASIC: AuditType.BASIC,
        Track.STARTER: AuditType.STARTER,
        Track.RENEWAL: AuditType.RENEWAL,
    }[track]
    _, report = story.audit(audit_type, AuditResult.PASSED)
    return story.decide(application_id, report)


def _no_follow_up(story: Story, *, missed: bool) -> None:
    """No follow-up audit: its deadline must pass by the end if ``missed``, else not."""
    registration = story.registration
    assert registration is not None
    assert registration.follow_up_deadline is not None
    if (registration.follow_up_deadline < END) is not missed:
        raise DoesNotFit("the follow-up deadline falls on the wrong side of the end")


def _conditional(story: Story, then: AuditResult | None, *, missed: bool = True) -> None:
    application_id = story.submit(story.day)
    _, report = story.audit(AuditType.BASIC, AuditResult.CONDITIONALLY_PASSED)
    story.decide(application_id, report)
    if then is None:
        _no_follow_up(story, missed=missed)
        return
    story.follow_up(then, lacking=report.not_met)


def _starter(story: Story, then: AuditResult | None, *, missed: bool = True) -> None:
    registered_path(story, Track.STARTER)
    if then is None:
        _no_follow_up(story, missed=missed)
        return
    story.follow_up(then, lacking=frozenset())


def _failed(story: Story, *, react: bool, refuse: bool = False, reapply: bool = False) -> None:
    application_id = story.submit(story.day)
    audit, report = story.audit(AuditType.BASIC, AuditResult.FAILED)
    if react:
        story.react(audit, report)
        story.plan_visit(audit)
        report = story.report(audit, AuditResult.PASSED)
        story.decide(application_id, report)
        return
    if refuse:
        story.decide(application_id, report, granted=False)
        return
    refused_on = first_run_after(reaction_deadline(report.day))
    if refused_on is None:
        raise DoesNotFit("reaction deadline not passed by the end")
    story.pending = Status.REFUSED
    if reapply:
        story.day = refused_on
        story.day = story.next(20, 90)
        registered_path(story)


def _renewed(story: Story) -> None:
    registered_path(story)
    assert story.registration is not None
    valid_until = story.registration.valid_until
    day = valid_until - timedelta(days=story.gap(150, 240))
    # a registered unit cannot simply apply again: only for renewal
    refused = SubmitApplication(
        application_id=f"{story.tag}-not-a-renewal",
        unit=story.plan.unit,
        provider_name=story.plan.name,
        bank_account=story.plan.bank_account,
        activities="opnieuw",
        themes=story.plan.themes,
    )
    story.at(
        day - timedelta(days=1),
        story.unit(refused, Role.PROVIDER, refused_with=errors.UnitAlreadyRegistered),
    )
    story.day = day
    application_id = story.submit(day, Track.RENEWAL)
    _, report = story.audit(AuditType.RENEWAL, AuditResult.PASSED)
    decision = story.next(5, 30)
    if decision > valid_until:
        raise DoesNotFit("renewal decided after the end of the registration")
    story.decide(application_id, report, day=decision)


def _reregistered(story: Story) -> None:
    registered_path(story)
    expired_on = story.lapses_on()
    if expired_on is None:
        raise DoesNotFit("registration does not expire by the end")
    story.ended = Status.EXPIRED
    story.day = expired_on
    story.day = story.next(3, 20)
    registered_path(story)


def _open(story: Story, kind: Kind) -> None:
    """Stories still under way on the last day."""
    story.submit(story.day, late_declaration=False)
    if kind is Kind.OPEN_APPLIED:
        return
    audit = story.choose(AuditType.BASIC)
    if kind is Kind.OPEN_IN_AUDIT:
        return
    story.plan_visit(audit)
    if kind is Kind.OPEN_AUDIT_PLANNED:
        return
    if kind is Kind.OPEN_AWAITING_DECISION:
        story.report(audit, AuditResult.PASSED)
        return
    report = story.report(audit, AuditResult.FAILED)
    if kind is Kind.OPEN_AUDIT_REACTED:
        story.react(audit, report)
        return
    if first_run_after(reaction_deadline(report.day)) is not None:
        raise DoesNotFit("the reaction deadline passes before the end")


def single(story: Story, kind: Kind) -> None:
    match kind:
        case (
            Kind.BASIC
            | Kind.CERTIFICATE
            | Kind.ACCOUNTANT_TRAINING
            | Kind.ACCOUNTANT_ADVICE
            | Kind.CERTIFIED_ACCOUNTANT_ADVICE
        ):
            registered_path(story)
        case Kind.STARTER_FOLLOWED_UP:
            _starter(story, AuditResult.PASSED)
        case Kind.STARTER_FOLLOW_UP_MISSED:
            _starter(story, None)
        case Kind.STARTER_FOLLOW_UP_FAILED:
            _starter(story, AuditResult.FAILED)
        case Kind.CONDITIONAL_FOLLOWED_UP:
            _conditional(story, AuditResult.PASSED)
        case Kind.CONDITIONAL_FOLLOW_UP_FAILED:
            _conditional(story, AuditResult.FAILED)
        case Kind.CONDITIONAL_FOLLOW_UP_MISSED:
            _conditional(story, None)
        case Kind.FAILED_REACTED:
            _failed(story, react=True)
        case Kind.FAILED_NO_REACTION:
            _failed(story, react=False)
        case Kind.FAILED_NO_REACTION_REAPPLIED:
            _failed(story, react=False, reapply=True)
        case Kind.REFUSED_BY_DECISION:
            _failed(story, react=False, refuse=True)
        case Kind.STOPPED_BY_AGENCY:
            registered_path(story)
            story.stop()
        case Kind.EXPIRED:
            registered_path(story)
            if story.lapses_on() is None:
                raise DoesNotFit("registration does not expire by the end")
        case Kind.RENEWED:
            _renewed(story)
        case Kind.REREGISTERED:
            _reregistered(story)
        case Kind.STARTER_PENDING:
            _starter(story, None, missed=False)
        case Kind.CONDITIONAL_PENDING:
            _conditional(story, None, missed=False)
        case (
            Kind.OPEN_APPLIED
            | Kind.OPEN_IN_AUDIT
            | Kind.OPEN_AUDIT_PLANNED
            | Kind.OPEN_AUDIT_REACTED
            | Kind.OPEN_AUDIT_FAILED
            | Kind.OPEN_AWAITING_DECISION
        ):
            _open(story, kind)
        case _:
            raise AssertionError(kind)
