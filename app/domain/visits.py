"""When an audit visit may lie, and what an audit bureau may still do once its appointment ends.

The brochure (seeds/000) has the audit done by "een hiertoe aangestelde auditor": the visit is
the bureau's act under its appointment (DOMAIN.md, "Audit bureaus"; ``bureaus.py``). Our rules:

* **A visit follows the assignment.** The provider applies, then contacts a bureau, which then
  plans the visit: a visit (planned or reported) before the day the audit was assigned to the
  bureau, and so before the application was submitted, is refused (``visit-before-assignment``).
* **Only an appointed bureau plans.** Planning or re-planning a visit is an act of the bureau:
  it needs the bureau appointed on the day it plans *and* on the visit date
  (``bureau-not-appointed``).
* **A retired bureau reports only the visit it planned.** A bureau whose appointment has ended
  may still report an audit it visited while appointed (the report is the write-up of that
  visit), but the visit it reports must be the one it planned while it could plan: otherwise it
  could move the visit back to before its last day by reporting it (``visit-not-as-planned``).
  Whatever the bureau, the reported visit falls within its appointment (``bureau-not-appointed``).
"""

from __future__ import annotations

from datetime import date

from app.domain import errors
from app.domain.bureaus import BureauState
from app.domain.registration import Audit


def _appointed(bureau: BureauState | None, day: date) -> bool:
    return bureau is not None and bureau.appointed_on(day)


def check_visit_after_assignment(audit: Audit, visit_date: date) -> None:
    """The visit lies on or after the day the audit was assigned to the bureau."""
    if visit_date < audit.chosen_on:
        raise errors.VisitBeforeAssignment(
            f"the visit ({visit_date}) cannot lie before the audit was assigned to the bureau "
            f"on {audit.chosen_on}"
        )


def check_planning(audit: Audit, bureau: BureauState | None, day: date, visit_date: date) -> None:
    """The bureau plans while appointed, a visit after the assignment within its appointment."""
    check_visit_after_assignment(audit, visit_date)
    if not _appointed(bureau, day):
        raise errors.BureauNotAppointed(
            f"bureau {audit.bureau_id} is not appointed today ({day}): it can no longer plan"
        )
    if not _appointed(bureau, visit_date):
        raise errors.BureauNotAppointed(
            f"bureau {audit.bureau_id} is not appointed on {visit_date}"
        )


def check_reported_visit(
    audit: Audit, bureau: BureauState | None, day: date, visit_date: date
) -> None:
    """The reported visit follows the assignment and falls within the bureau's appointment; a
    bureau no longer appointed today reports the visit it planned, not another."""
    check_visit_after_assignment(audit, visit_date)
    if not _appointed(bureau, visit_date):
        raise errors.BureauNotAppointed(
            f"bureau {audit.bureau_id} was not appointed on the audit date {visit_date}"
        )
    if not _appointed(bureau, day) and visit_date != audit.visit_date:
        raise errors.VisitNotAsPlanned(
            f"bureau {audit.bureau_id} is no longer appointed: it reports the visit it planned "
            f"({audit.visit_date}), not one on {visit_date}"
        )
