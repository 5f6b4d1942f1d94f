"""The errors this service raises on purpose: the one base every layer raises (``KmopError``),
and the domain's refusals, each with a stable code that the API returns as the problem's code.

Each error has a stable ``code`` (part of the API contract: clients branch on it) and a ``kind``
that the HTTP layer maps to a status. The domain and the store stay free of HTTP.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any, ClassVar

# Each code names its problem type: this base and the code (``type`` of a problem+json answer).
TYPE_BASE = "https://kmop-registry.example/problems/"


class ErrorKind(StrEnum):
    INVALID = "invalid"  # the input breaks a rule: 422
    UNAUTHENTICATED = "unauthenticated"  # no valid bearer token: 401
    FORBIDDEN = "forbidden"  # authenticated, but the role may not do this: 403
    NOT_FOUND = "not-found"  # 404
    CONFLICT = "conflict"  # the state moved on or forbids it: 409
    PRECONDITION_FAILED = "precondition-failed"  # If-Match no longer matches: 412
    UNAVAILABLE = "unavailable"  # a dependency is down or not ready: 503


class KmopError(Exception):
    code: ClassVar[str] = "error"
    kind: ClassVar[ErrorKind] = ErrorKind.INVALID
    title: ClassVar[str] = "The request could not be processed"

    def __init__(
        self, detail: str, *, headers: dict[str, str] | None = None, **extensions: Any
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.headers = headers  # HTTP headers the problem response carries (WWW-Authenticate)
        self.extensions = extensions


class DomainError(KmopError):
    """A command that the rules refuse in the current state (409 unless said otherwise)."""

    kind: ClassVar[ErrorKind] = ErrorKind.CONFLICT
    title: ClassVar[str] = "The rules of the registration process refuse this"


class InvalidCommand(DomainError):
    """The command's own data breaks a rule, whatever the state (422)."""

    code = "invalid-command"
    kind = ErrorKind.INVALID
    title = "The request breaks a rule of the registration process"


def _error(code: str, base: type[DomainError] = DomainError) -> type[DomainError]:
    return type(code.title().replace("-", ""), (base,), {"code": code, "__module__": __name__})


ApplicationAlreadyOpen = _error("application-already-open")
UnitAlreadyRegistered = _error("unit-already-registered")
NotRegistered = _error("not-registered")
ApplicantIsAuditBureau = _error("applicant-is-audit-bureau")
NotAStarter = _error("not-a-starter", InvalidCommand)
NoOpenApplication = _error("no-open-application")
SwornDeclarationMissing = _error("sworn-declaration-missing")
SwornDeclarationAlreadyReceived = _error("sworn-declaration-already-received")
BureauNotAppointed = _error("bureau-not-appointed")
AuditAlreadyAssigned = _error("audit-already-assigned")
NoAuditAssigned = _error("no-audit-assigned")
AuditNotAssignedToBureau = _error("audit-not-assigned-to-bureau")
AuditNotPlanned = _error("audit-not-planned")
ReportNotExpected = _error("report-not-expected")
ReportInconsistent = _error("report-inconsistent", InvalidCommand)
DecisionWithoutReport = _error("decision-without-report")
DecisionContradictsReport = _error("decision-contradicts-report")
NoFailedAudit = _error("no-failed-audit")
ReactionTooLate = _error("reaction-too-late")
FollowUpAfterDeadline = _error("follow-up-after-deadline")
NoFollowUpDue = _error("no-follow-up-due")
BureauAlreadyAppointed = _error("bureau-already-appointed")
BureauUnknown = _error("bureau-unknown")
RatingAlreadyRecorded = _error("rating-already-recorded")
IdentifierInUse = _error("identifier-in-use")
VisitBeforeAssignment = _error("visit-before-assignment", InvalidCommand)
VisitNotAsPlanned = _error("visit-not-as-planned")
RatedEnterpriseNotRegistered = _error("rated-enterprise-not-registered", InvalidCommand)
RatingOfItself = _error("rating-of-itself", InvalidCommand)
ProjectAlreadyRecorded = _error("project-already-recorded")
ProjectAlreadyChecked = _error("project-already-checked")
ProjectAlreadyDecided = _error("project-already-decided")
ProjectNotApproved = _error("project-not-approved")
ProjectAlreadyRated = _error("project-already-rated")
RatedProjectUnknown = _error("rated-project-unknown", InvalidCommand)
RatingNotByClient = _error("rating-not-by-client", InvalidCommand)
RatingBeforeServiceEnded = _error("rating-before-service-ended", InvalidCommand)
