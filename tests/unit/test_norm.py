from datetime import date

import pytest

from app.domain.identifiers import ServiceType
from app.domain.norm import (
    CURRENT_NORM,
    AuditType,
    Certificate,
    CertificateClaim,
    Exemptions,
    ProfessionalBody,
    Requirement,
    audited_requirements,
)

R = Requirement
DAY = date(2026, 6, 1)
ISO = Exemptions(certificates=(CertificateClaim(Certificate.ISO_9001, date(2027, 1, 1)),))
EXPIRED_ISO = Exemptions(certificates=(CertificateClaim(Certificate.QFOR, date(2026, 5, 31)),))
ACCOUNTANT = Exemptions(professional_body=ProfessionalBody.ITAA)
ISO_ACCOUNTANT = Exemptions(certificates=ISO.certificates, professional_body=ProfessionalBody.IBR)


def req(*numbers: int) -> frozenset[Requirement]:
    return frozenset(Requirement(n) for n in numbers)


@pytest.mark.parametrize(
    ("audit_type", "service", "exemptions", "expected"),
    [
        (AuditType.BASIC, ServiceType.TRAINING, Exemptions(), req(1, 2, 3, 4, 5)),
        (AuditType.RENEWAL, ServiceType.ADVICE, Exemptions(), req(1, 2, 3, 4, 5)),
        (AuditType.BASIC, ServiceType.TRAINING, ISO, req(4, 5)),
        (AuditType.BASIC, ServiceType.TRAINING, EXPIRED_ISO, req(1, 2, 3, 4, 5)),
        (AuditType.BASIC, ServiceType.TRAINING, ACCOUNTANT, req(1, 2, 3, 4)),
        (AuditType.BASIC, ServiceType.ADVICE, ACCOUNTANT, req(3, 4)),
        (AuditType.BASIC, ServiceType.ADVICE, ISO_ACCOUNTANT, req(4)),
        (AuditType.BASIC, ServiceType.TRAINING, ISO_ACCOUNTANT, req(4)),
        (AuditType.STARTER, ServiceType.TRAINING, Exemptions(), req(1, 4, 5)),
        (AuditType.STARTER, ServiceType.ADVICE, ACCOUNTANT, req(4)),
        (AuditType.STARTER_FOLLOW_UP, ServiceType.TRAINING, Exemptions(), req(2, 3)),
        (AuditType.RENEWAL, ServiceType.TRAINING, ISO, req(4, 5)),
    ],
)
def test_audited_requirements_per_audit_type_and_exemption(
    audit_type: AuditType,
    service: ServiceType,
    exemptions: Exemptions,
    expected: frozenset[Requirement],
) -> None:
    assert audited_requirements(audit_type, service, exemptions, DAY) == expected


def test_a_certificate_counts_on_its_last_valid_day_only() -> None:
    claim = Exemptions(certificates=(CertificateClaim(Certificate.WSE, DAY),))
    assert audited_requirements(AuditType.BASIC, ServiceType.TRAINING, claim, DAY) == req(4, 5)
    later = date(2026, 6, 2)
    assert audited_requirements(AuditType.BASIC, ServiceType.TRAINING, claim, later) == req(
        1, 2, 3, 4, 5
    )


def test_conditional_follow_up_audits_what_was_lacking() -> None:
    assert audited_requirements(
        AuditType.CONDITIONAL_FOLLOW_UP, ServiceType.ADVICE, ISO, DAY, lacking=req(3, 5)
    ) == req(3, 5)


def test_every_requirement_has_indicators_with_unique_codes() -> None:
    codes = [i.code for i in CURRENT_NORM.indicators]
    assert len(codes) == len(set(codes))
    assert {i.requirement for i in CURRENT_NORM.indicators} == set(Requirement)
    assert all(
        code.startswith(f"{i.requirement.value}.")
        for code, i in zip(codes, CURRENT_NORM.indicators, strict=True)
    )
