"""Was it registered on that day? (GET /public/registrations/{number}?on=): the as-of fold of
the unit's events up to the end of that day in Belgium, and the day within the validity."""

from __future__ import annotations

from datetime import date
from typing import Any

import httpx

from app.services.clock import FixedClock
from tests.api.support import AGENCY, PROVIDER, PROVIDER_KBO, at, bureau_body, ok, problem, register

NUMBER = "DV.O000001"
NOT_IN_FORCE = {"registration_number": NUMBER, "service_type": "opleiding", "in_force": False}
HIDDEN = ("provider_name", "enterprise_number", "registration_kind", "kind_label")


async def on(
    api: httpx.AsyncClient, day: str | None = None, number: str = NUMBER
) -> dict[str, Any]:
    params = {"on": day} if day else {}
    response = await api.get(f"/public/registrations/{number}", params=params)
    answer: dict[str, Any] = ok(response)  # no token: anyone may ask
    return answer


def not_in_force(answer: dict[str, Any], day: str) -> None:
    assert answer == {
        **NOT_IN_FORCE,
        "on": day,
        **dict.fromkeys((*HIDDEN, "valid_from", "valid_until")),
    }


async def test_a_later_stop_does_not_rewrite_the_days_before_it(
    api: httpx.AsyncClient, clock: FixedClock
) -> None:
    ok(await api.post("/bureaus", json=bureau_body(), headers=AGENCY), 201)
    await register(api, clock, PROVIDER)  # granted on 2026-01-20, recorded that day
    clock.set(at(date(2026, 3, 2)))
    ok(await api.post(f"/registrations/{NUMBER}/stop", json={"reason": "Misbruik"}, headers=AGENCY))
    clock.set(at(date(2026, 5, 1)))

    assert await on(api, "2026-03-01") == {
        "registration_number": NUMBER,
        "service_type": "opleiding",
        "on": "2026-03-01",
        "in_force": True,
        "provider_name": "Vormingscentrum Voorbeeld",
        "enterprise_number": PROVIDER_KBO,
        "registration_kind": "full",
        "kind_label": "volledige registratie",
        "valid_from": "2026-01-20",
        "valid_until": "2031-01-19",
    }
    assert (await on(api, "2026-01-20"))["in_force"] is True  # the day of the decision
    not_in_force(await on(api, "2026-01-19"), "2026-01-19")  # before the decision
    not_in_force(await on(api, "2026-03-02"), "2026-03-02")  # the day of the stop
    # Without a day: today in Belgium. Nothing says why it is not in force.
    today = await api.get(f"/public/registrations/{NUMBER}")
    not_in_force(ok(today), "2026-05-01")
    for word in ("stop", "Misbruik", "expired", "refused", "audit", "reason"):
        assert word not in today.text


async def test_in_force_means_within_the_validity_even_before_the_expiry_is_recorded(
    api: httpx.AsyncClient, clock: FixedClock
) -> None:
    ok(await api.post("/bureaus", json=bureau_body(), headers=AGENCY), 201)
    await register(api, clock, PROVIDER)
    clock.set(at(date(2031, 2, 1)))  # the deadline job has not run: no expiry recorded
    assert (await on(api, "2031-01-19"))["in_force"] is True
    not_in_force(await on(api, "2031-01-20"), "2031-01-20")


async def test_the_day_ends_at_midnight_in_belgium(
    api: httpx.AsyncClient, clock: FixedClock
) -> None:
    """A stop recorded at 00:30 in Brussels on 2 March (23:30 UTC on 1 March) is not part of
    1 March: that day the registration was still in force."""
    ok(await api.post("/bureaus", json=bureau_body(), headers=AGENCY), 201)
    await register(api, clock, PROVIDER)
    clock.set(at(date(2026, 3, 1), 23).replace(minute=30))
    ok(await api.post(f"/registrations/{NUMBER}/stop", json={"reason": "Stop"}, headers=AGENCY))
    assert (await on(api, "2026-03-01"))["in_force"] is True
    not_in_force(await on(api, "2026-03-02"), "2026-03-02")


async def test_any_written_form_a_future_day_unknown_and_malformed_numbers(
    api: httpx.AsyncClient, clock: FixedClock
) -> None:
    ok(await api.post("/bureaus", json=bureau_body(), headers=AGENCY), 201)
    await register(api, clock, PROVIDER)
    for written in ("dvo000001", "DV.O 000001", "dv.o000001", "DV.O1", "dvo1", "1"):
        assert (await on(api, "2026-01-20", written))["registration_number"] == NUMBER
    future = await api.get(f"/public/registrations/{NUMBER}", params={"on": "2026-01-21"})
    problem(future, 422, "date-in-future")
    problem(await api.get("/public/registrations/DV.A000001"), 404, "not-found")
    problem(await api.get("/public/registrations/DV.O999999"), 404, "not-found")
    problem(await api.get("/public/registrations/7"), 404, "not-found")  # neither O nor A
    malformed = problem(await api.get("/public/registrations/DV.X000001"), 422, "validation-failed")
    assert malformed["errors"][0]["parameter"] == "number"
    bad_day = await api.get(f"/public/registrations/{NUMBER}", params={"on": "20-01-2026"})
    assert problem(bad_day, 422, "validation-failed")["errors"][0]["parameter"] == "on"


async def test_cacheable_with_an_etag(api: httpx.AsyncClient, clock: FixedClock) -> None:
    ok(await api.post("/bureaus", json=bureau_body(), headers=AGENCY), 201)
    await register(api, clock, PROVIDER)
    url = f"/public/registrations/{NUMBER}?on=2026-01-20"
    first = await api.get(url)
    assert first.headers["cache-control"] == "public, no-cache"
    again = await api.get(url, headers={"If-None-Match": first.headers["etag"]})
    assert again.status_code == 304
    other_day = await api.get(f"/public/registrations/{NUMBER}?on=2026-01-19")
    assert other_day.headers["etag"] != first.headers["etag"]
