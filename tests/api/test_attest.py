"""The attest of registration (GET /registrations/{ref}/attest): a PDF in Dutch, read back with
pypdf; the same state gives the same bytes; a stop gives a new document; its verification
address leads to the public check, which answers "in force"."""

from __future__ import annotations

import io
import re
from datetime import date

import httpx
from pypdf import PdfReader

from app.services.clock import FixedClock
from tests.api.support import (
    AGENCY,
    BUREAU,
    OTHER_PROVIDER,
    PROVIDER,
    PROVIDER_KBO,
    application_body,
    at,
    audit_planned,
    bureau_body,
    ok,
    problem,
    register,
    report_body,
)

NUMBER = "DV.O000001"
BASE_URL = "http://127.0.0.1:8000"  # Settings.public_base_url's default


def text_of(pdf: bytes) -> str:
    reader = PdfReader(io.BytesIO(pdf))
    return " ".join(" ".join(page.extract_text().split()) for page in reader.pages)


async def attest(api: httpx.AsyncClient, ref: str = NUMBER, **headers: str) -> httpx.Response:
    response = await api.get(f"/registrations/{ref}/attest", headers={**PROVIDER, **headers})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/pdf"
    assert response.content.startswith(b"%PDF-")
    return response


async def registered(api: httpx.AsyncClient, clock: FixedClock) -> None:
    ok(await api.post("/bureaus", json=bureau_body(), headers=AGENCY), 201)
    await register(api, clock, PROVIDER, provider_name="Vormingscentrum Vinçotte Łódź")


async def test_the_attest_states_every_fact_in_dutch_with_its_verification_code(
    api: httpx.AsyncClient, clock: FixedClock
) -> None:
    await registered(api, clock)
    response = await attest(api)
    version = ok(await api.get(f"/registrations/{NUMBER}", headers=PROVIDER))["version"]
    assert response.headers["etag"] == f'"{version}"'
    assert response.headers["content-disposition"] == f'attachment; filename="attest-{NUMBER}.pdf"'
    text = text_of(response.content)
    for fact in (
        "Attest van registratie",
        "Naam Vormingscentrum Vinçotte Lódz",  # Ł and ź are outside the font: their letters
        f"Ondernemingsnummer {PROVIDER_KBO[:4]}.{PROVIDER_KBO[4:7]}.{PROVIDER_KBO[7:]}",
        f"Registratienummer {NUMBER}",
        "Type dienst opleiding",
        "Soort registratie volledige registratie",
        "Geldig vanaf 20 januari 2026",
        "Geldig tot en met 19 januari 2031",
        "Datum van de beslissing 20 januari 2026",
        "Toestand van het register op 20 januari 2026",
    ):
        assert fact in text, (fact, text)
    code = re.search(r"Controlecode: (DVO000001-[A-Z2-7]{8})", text)
    assert code is not None, text
    assert f"{BASE_URL}/controle/{code.group(1)}" in text
    assert "niet meer van kracht" not in text
    metadata = PdfReader(io.BytesIO(response.content)).metadata
    assert metadata is not None
    assert metadata.title == f"Attest van registratie {NUMBER}"
    assert metadata.producer == "kmop-registry"
    assert metadata.creation_date is not None
    assert metadata.creation_date.date() == date(2026, 1, 20)  # the decision's recording


async def test_the_same_state_gives_the_same_bytes_and_a_stop_a_new_document(
    api: httpx.AsyncClient, clock: FixedClock
) -> None:
    await registered(api, clock)
    first = await attest(api)
    clock.set(at(date(2026, 2, 3), 15))  # another day, another caller, any written form
    second = await attest(api, "dv.o 000001")
    by_agency = await api.get(f"/registrations/{PROVIDER_KBO}:opleiding/attest", headers=AGENCY)
    assert first.content == second.content == by_agency.content
    assert first.headers["etag"] == second.headers["etag"]
    # Unchanged since that ETag: 304, no body.
    again = await api.get(
        f"/registrations/{NUMBER}/attest",
        headers={**PROVIDER, "If-None-Match": first.headers["etag"]},
    )
    assert again.status_code == 304
    assert again.content == b""

    clock.set(at(date(2026, 3, 2)))
    stop = {"reason": "Misbruik vastgesteld"}
    ok(await api.post(f"/registrations/{NUMBER}/stop", json=stop, headers=AGENCY))
    stopped = await attest(api)
    assert stopped.content != first.content
    assert stopped.headers["etag"] != first.headers["etag"]
    text = text_of(stopped.content)
    assert "Deze registratie is niet meer van kracht sinds 2 maart 2026." in text
    assert "Misbruik" not in text  # the reason is the agency's, not the attest's
    assert "Geldig tot en met 19 januari 2031" in text
    assert (
        text_of(first.content).split("Controlecode: ")[1][:18]
        != text.split("Controlecode: ")[1][:18]
    )


async def test_a_renewal_gives_a_new_document_with_the_new_period_and_decision(
    api: httpx.AsyncClient, clock: FixedClock
) -> None:
    """Brochure: a renewal is a new decision with a new period; the attest downloaded after it
    states them (and the number stays the unit's)."""
    await registered(api, clock)
    before = await attest(api)
    assert "Geldig tot en met 19 januari 2031" in text_of(before.content)

    clock.set(at(date(2030, 9, 1)))
    body = application_body(track="renewal", provider_name="Vormingscentrum Vinçotte Łódź")
    application_id = ok(await api.post("/applications", json=body, headers=PROVIDER), 201)[
        "application_id"
    ]
    visit = date(2030, 9, 15)
    audit_id = await audit_planned(api, application_id, PROVIDER, visit=visit)
    clock.set(at(date(2030, 9, 16)))
    report = report_body(range(1, 6), visit=visit, audit_type="renewal")
    ok(await api.post(f"/audits/{audit_id}/reports", json=report, headers=BUREAU), 201)
    # Between the report and the decision the registration is still the old one: the same
    # code and period (the document is dated by the unit's last event, so its bytes move on).
    pending = text_of((await attest(api)).content)
    assert code_of(pending) == code_of(text_of(before.content))
    assert "Geldig tot en met 19 januari 2031" in pending
    clock.set(at(date(2030, 10, 1)))
    url = f"/applications/{application_id}/decision"
    assert ok(await api.post(url, json={"granted": True}, headers=AGENCY))["status"] == "granted"

    renewed = await attest(api)
    assert renewed.content != before.content
    assert renewed.headers["etag"] != before.headers["etag"]
    text = text_of(renewed.content)
    assert NUMBER in text
    assert "Geldig tot en met 30 september 2035" in text
    assert "1 oktober 2030" in text  # the renewal's decision date
    assert "19 januari 2031" not in text
    assert code_of(text) != code_of(pending)


def code_of(text: str) -> str:
    return text.split("Controlecode: ")[1][:18]


async def test_only_the_provider_itself_and_the_agency_get_it_and_only_after_a_grant(
    api: httpx.AsyncClient, clock: FixedClock
) -> None:
    ok(await api.post("/bureaus", json=bureau_body(), headers=AGENCY), 201)
    unit = await register(api, clock, PROVIDER, decide=False)
    refused = await api.get(f"/registrations/{unit.registration_id}/attest", headers=PROVIDER)
    problem(refused, 409, "not-registered")
    clock.set(at(date(2026, 1, 20)))
    decision = {"granted": True}
    ok(
        await api.post(
            f"/applications/{unit.application_id}/decision", json=decision, headers=AGENCY
        )
    )
    await attest(api)
    problem(
        await api.get(f"/registrations/{NUMBER}/attest", headers=OTHER_PROVIDER), 404, "not-found"
    )
    problem(await api.get("/registrations/DV.O000009/attest", headers=AGENCY), 404, "not-found")


async def test_its_verification_address_leads_to_the_public_check_which_says_in_force(
    api: httpx.AsyncClient, clock: FixedClock
) -> None:
    await registered(api, clock)
    text = text_of((await attest(api)).content)
    address = re.search(r"(http://\S+/controle/DVO000001-[A-Z2-7]{8})", text)
    assert address is not None, text
    clock.set(at(date(2026, 6, 1)))
    page = await api.get(address.group(1).removeprefix(BASE_URL))
    assert page.status_code == 200, page.text
    words = " ".join(re.sub(r"<[^>]+>", " ", page.text).split())
    assert "Deze controlecode hoort bij een attest van registratie" in words
    assert "Ja, van kracht op 1 juni 2026" in words
    # The same question to the API, for the day of the decision.
    check = ok(await api.get(f"/public/registrations/{NUMBER}", params={"on": "2026-01-20"}))
    assert check["in_force"] is True
    assert check["registration_kind"] == "full"
    # A code with one letter changed is no attest of this registry.
    forged = address.group(1)[:-1] + ("A" if address.group(1)[-1] != "A" else "B")
    page = await api.get(forged.removeprefix(BASE_URL))
    assert page.status_code == 200
    assert "hoort bij geen enkel attest van DV.O000001" in " ".join(
        re.sub(r"<[^>]+>", " ", page.text).split()
    )
