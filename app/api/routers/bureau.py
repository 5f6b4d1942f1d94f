"""Audit-bureau software: accept and plan the audits assigned to its bureau, push reports.

A bureau's token names its bureau; an audit assigned to another bureau is not found (404)."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import Response

from app.api import schemas
from app.api.http import replies
from app.api.http.auth import BureauPrincipal
from app.api.http.commands import CommandDep, new_id
from app.api.http.fastpath import CommandRoute
from app.api.http.params import ResourceId
from app.api.http.problems import problem_responses
from app.api.queries import registrations as queries
from app.domain.decider import PlanAudit, SubmitAuditReport
from app.domain.events import IndicatorScore, Verdict

router = APIRouter(tags=["bureau"], route_class=CommandRoute)
COMMAND_PROBLEMS = problem_responses(401, 403, 404, 409, 412, 422)


@router.post(
    "/audits/{audit_id}/plan",
    response_model=schemas.Audit,
    responses=COMMAND_PROBLEMS,
    summary="Accept the audit and plan the visit (cost estimate: hours x the hourly rate)",
)
async def plan_audit(
    audit_id: ResourceId,
    body: schemas.PlanAuditRequest,
    principal: BureauPrincipal,
    command: CommandDep,
) -> Response:
    assert principal.bureau_id is not None
    plan = PlanAudit(audit_id, principal.bureau_id, body.visit_date, body.planned_hours)
    located = queries.locate_audit(audit_id, principal)
    return await command.on_located(located, plan, replies.located_audit(audit_id, located))


@router.post(
    "/audits/{audit_id}/reports",
    status_code=201,
    response_model=schemas.Audit,
    responses=COMMAND_PROBLEMS,
    summary="Submit the audit report: scores, verdicts, result (and follow-up deadline)",
)
async def submit_audit_report(
    audit_id: ResourceId,
    body: schemas.AuditReportRequest,
    principal: BureauPrincipal,
    command: CommandDep,
) -> Response:
    assert principal.bureau_id is not None
    report = SubmitAuditReport(
        audit_id=audit_id,
        report_id=body.report_id or new_id("report"),
        bureau_id=principal.bureau_id,
        audit_type=body.audit_type,
        visit_date=body.visit_date,
        scores=tuple(IndicatorScore(**score.model_dump()) for score in body.scores),
        verdicts=tuple(Verdict(**verdict.model_dump()) for verdict in body.verdicts),
        result=body.result,
        follow_up_deadline=body.follow_up_deadline,
        norm_version=body.norm_version,
    )
    located = queries.locate_audit(audit_id, principal)
    render = replies.located_audit(audit_id, located, created=True)
    return await command.on_located(located, report, render)
