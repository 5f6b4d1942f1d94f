"""The demo's audit bureaus: the brochure's list (``seeds/000``, "Lijst auditbureau's"), with
their address and contact as printed there."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class DemoBureau:
    bureau_id: str
    name: str
    contact: str


# seeds/000, "LIJST AUDITBUREAU'S", in the brochure's order.
BUREAUS: tuple[DemoBureau, ...] = (
    DemoBureau(
        "bureau-qfor",
        "AB Management Information Qfor",
        "Ninoofsesteenweg 1078 bus 1, 1080 Brussel; 02 412 04 00; kmopnorm@maninfo.be",
    ),
    DemoBureau(
        "bureau-vincotte",
        "AIB-Vincotte International nv",
        "Jan Olieslagerslaan 35, 1800 Vilvoorde; 02 674 57 84; vincotte.certification@vincotte.be",
    ),
    DemoBureau(
        "bureau-bcc",
        "Belgisch Centrum voor Certificatie nv",
        "Ruisstraat 68, 9140 Temse; 03 711 05 87; bcc_cbc@scarlet.be",
    ),
    DemoBureau(
        "bureau-bqa",
        "Belgium Quality Association",
        "Montoyerstraat 24 bus 9, 1000 Brussel; 02 287 08 27; info@bqa.be",
    ),
    DemoBureau(
        "bureau-brand-compliance",
        "Brand Compliance bv",
        "Rubensstraat 104/54, 2300 Turnhout; 014 76 23 04; info@brandcompliance.be",
    ),
    DemoBureau(
        "bureau-veritas",
        "Bureau Veritas Certification Belgium nv",
        "Mechelsesteenweg 128-136, 2018 Antwerpen; 03 247 94 00; salesbe@be.bureauveritas.com",
    ),
    DemoBureau(
        "bureau-dnv",
        "DNV GL Business Assurance B.V., Belgium Branch",
        "Atlantic House, Noorderlaan 147, 2030 Antwerpen; 03 206 65 30; "
        "DNV.CertificationBelgium@dnvgl.com",
    ),
    DemoBureau(
        "bureau-kiwa",
        "Kiwa Belgium NV",
        "Grotesteenweg 110, 2600 Antwerpen; 03 259 06 60; kmop@kiwa.be",
    ),
)
