"""Every status a route answers is in the OpenAPI document: checked after every test that uses
the ``api`` or ``client`` fixture (``tests/documented.py``), and here for the answers that the
stories do not reach."""

from __future__ import annotations

import httpx

from tests.api.support import AGENCY, BUREAU_ID, bureau_body, key, ok
from tests.documented import StatusRecorder, documented_paths, undocumented


async def test_appointing_a_bureau_again_answers_a_documented_200(api: httpx.AsyncClient) -> None:
    created = await api.post("/bureaus", json=bureau_body(), headers=AGENCY | key())
    ok(created, 201)
    assert created.headers["Location"] == f"/bureaus/{BUREAU_ID}"
    ok(
        await api.post(
            f"/bureaus/{BUREAU_ID}/retirement", json={"last_day": "2025-12-31"}, headers=AGENCY
        )
    )
    again = await api.post(
        "/bureaus", json=bureau_body() | {"appointed_from": "2026-03-01"}, headers=AGENCY
    )
    body = ok(again, 200)
    assert body["bureau_id"] == BUREAU_ID
    assert "Location" not in again.headers
    assert again.headers["ETag"] == '"3"'

    responses = documented_paths()["/bureaus"]["post"]["responses"]
    assert {"200", "201"} <= set(responses)
    for status in ("200", "201"):
        schema = responses[status]["content"]["application/json"]["schema"]
        assert schema == {"$ref": "#/components/schemas/Bureau"}


def test_the_check_finds_an_undocumented_status() -> None:
    """The control of the check the fixtures run: what it must catch, it catches."""
    recorder = StatusRecorder(lambda scope, receive, send: None)  # type: ignore[arg-type,return-value]
    recorder.seen += [("POST", "/bureaus", 201), ("POST", "/bureaus", 204)]
    recorder.seen += [("HEAD", "/bureaus", 200), ("GET", "/", 200), ("GET", "/bureaus", 503)]
    assert undocumented(recorder.seen) == {("POST", "/bureaus", 204)}
