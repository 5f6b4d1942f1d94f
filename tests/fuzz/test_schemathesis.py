"""Property-based fuzzing of the whole API against its own OpenAPI document (schemathesis).

For each caller (the agency, a bureau, a provider, and nobody at all) every documented operation
gets generated requests, valid ones and invalid ones, against the app on a real PostgreSQL that
was seeded with a short story first (a bureau, two applications, an audit planned, one reported
and granted, an approved project and its rating, a project to check, a profile), so that
requests also find things. Path parameters are, half of the time, set to the ids of what the
story made. Every answer must then:

* never be a 500 (``not_a_server_error``);
* carry a status code documented for its operation (``status_code_conformance``), a documented
  media type (``content_type_conformance``), documented headers
  (``response_headers_conformance``) and a body that matches the documented schema
  (``response_schema_conformance``);
* refuse what is not valid (``negative_data_rejection``: a 4xx for an invalid request).

The run is bounded in CI (a few examples per operation, derandomized: a fixed seed, though the
random ids in the answers can still steer schemathesis a little); set ``KMOP_FUZZ_EXAMPLES`` for
a longer one, e.g. ``KMOP_FUZZ_EXAMPLES=200``.

Schemathesis calls the app in-process (its ASGI transport) on an event loop of its own, in
another thread; the app therefore owns its engine (made in its lifespan, on that loop) on the
test's database, rather than sharing the test loop's ``engine`` fixture.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime
from typing import Any, TypeAlias, cast

import hypothesis
import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given
from hypothesis import strategies as st
from schemathesis import Case, GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.core.result import Ok
from schemathesis.python import asgi
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from app.cli.openapi import document
from app.main import create_app
from app.runtime.settings import Settings
from app.services.clock import FixedClock
from tests.api.support import (
    AGENCY,
    BUREAU,
    BUREAU_ID,
    PROVIDER,
    PROVIDER_KBO,
    application_body,
    bureau_body,
    report_body,
)
from tests.api.test_projects import project as project_body
from tests.integration.scenarios import enterprise_number

pytestmark = pytest.mark.fuzz
Operation: TypeAlias = schemathesis.APIOperation[Any, Any, Any, Any]

EXAMPLES = int(os.environ.get("KMOP_FUZZ_EXAMPLES", "8"))
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    negative_data_rejection,
]
CALLERS: dict[str, dict[str, str]] = {
    "agency": AGENCY,
    "bureau": BUREAU,
    "provider": PROVIDER,
    "anonymous": {},
}
RATING_REFERENCE = "rating-fuzz-1"
PROJECT_ID = "project-fuzz-1"
VISIT = date(2026, 1, 15)
SETTINGS = hypothesis.settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    phases=[Phase.explicit, Phase.generate],  # no shrinking: the failure is reported as found
    suppress_health_check=list(HealthCheck),
    print_blob=False,
)


def at(day: date, hour: int = 10) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


class Seeded:
    """The ids of what the seed story made: what a generated path parameter may be set to."""

    def __init__(self) -> None:
        self.path_values: dict[str, list[str]] = {}

    def add(self, name: str, *values: str) -> None:
        self.path_values.setdefault(name, []).extend(values)


def _ok(response: requests.Response, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


def seed(client: requests.Session, clock: FixedClock) -> Seeded:
    """Two units of one provider: training registered (DV.O...), advice with a planned audit."""
    seeded = Seeded()
    _ok(client.post("/bureaus", json=bureau_body(), headers=AGENCY), 201)
    applications = {}
    for service_type in ("opleiding", "advies"):
        body = application_body(service_type)
        created = _ok(client.post("/applications", json=body, headers=PROVIDER), 201)
        applications[service_type] = created["application_id"]
        application_id = created["application_id"]
        _ok(
            client.post(
                f"/applications/{application_id}/sworn-declaration", json={}, headers=AGENCY
            )
        )
    audits = {}
    for service_type, application_id in applications.items():
        chosen = client.post(
            f"/applications/{application_id}/audits",
            json={"bureau_id": BUREAU_ID},
            headers=PROVIDER,
        )
        audits[service_type] = _ok(chosen, 201)["audit_id"]
        plan = {"visit_date": VISIT.isoformat(), "planned_hours": "6"}
        _ok(client.post(f"/audits/{audits[service_type]}/plan", json=plan, headers=BUREAU))
    clock.set(at(date(2026, 1, 16)))
    report = report_body(range(1, 6), visit=VISIT)
    _ok(client.post(f"/audits/{audits['opleiding']}/reports", json=report, headers=BUREAU), 201)
    clock.set(at(date(2026, 1, 20)))
    decided = client.post(
        f"/applications/{applications['opleiding']}/decision",
        json={"granted": True},
        headers=AGENCY,
    )
    _ok(decided)
    registration = _ok(client.get("/registrations", headers=AGENCY))["items"][0]
    client_kbo = str(enterprise_number(500))
    project = project_body(PROJECT_ID, date(2026, 1, 20), client_enterprise_number=client_kbo)
    _ok(client.post("/projects", json=project, headers=AGENCY), 201)
    _ok(client.post(f"/projects/{PROJECT_ID}/approval", headers=AGENCY))
    rating: dict[str, Any] = {
        "reference": RATING_REFERENCE,
        "project_id": PROJECT_ID,
        "client_enterprise_number": client_kbo,
        "score": 4,
        "rated_on": "2026-01-20",
    }
    _ok(client.post("/ratings", json=rating, headers=AGENCY), 201)
    to_check = project_body(f"{PROJECT_ID}-2", date(2026, 1, 20))
    _ok(client.post("/projects", json=to_check, headers=AGENCY), 201)
    profile: dict[str, Any] = {
        "description": "Opleidingen",
        "themes": ["digitalisering"],
        "locations": [],
    }
    _ok(client.post(f"/providers/{PROVIDER_KBO}/profile", json=profile, headers=PROVIDER))

    seeded.add("application_id", *applications.values())
    seeded.add("audit_id", *audits.values())
    seeded.add("ref", registration["registration_number"], registration["id"])
    seeded.add("enterprise_number", PROVIDER_KBO)
    seeded.add("bureau_id", BUREAU_ID)
    seeded.add("reference", RATING_REFERENCE)
    seeded.add("project_id", PROJECT_ID, f"{PROJECT_ID}-2")
    return seeded


@pytest.fixture
def fuzzed_app(database_url: str) -> Iterator[tuple[schemathesis.BaseSchema, Seeded]]:
    clock = FixedClock(at(date(2026, 1, 5), 9))
    app = create_app(Settings(environment="test", database_url=database_url), clock=clock)
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    # The callers' tokens are set per test, not generated; and unknown query parameters are
    # ignored by design (as HTTP APIs do), so sending them is not an invalid request.
    schema.config.generation.update(with_security_parameters=False, allow_extra_parameters=False)
    try:
        with asgi.get_client(cast(Any, app)) as client:
            seeded = seed(client, clock)
        yield schema, seeded
    finally:
        asgi.shutdown_lifespans()  # the app's lifespan disposes of its engine, on its loop


def _strategy(
    operation: Operation, seeded: Seeded, headers: dict[str, str]
) -> st.SearchStrategy[Case[Any]]:
    """Valid and invalid requests with the caller's token (never mutated: the caller is who
    it is); valid ones half of the time about what the seed story made."""
    names = [parameter.name for parameter in operation.path_parameters]
    known = {
        name: st.sampled_from(seeded.path_values[name])
        for name in names
        if name in seeded.path_values
    }
    positive = operation.as_strategy(GenerationMode.POSITIVE, headers=headers)
    if known:
        about_seeded = st.fixed_dictionaries(known).flatmap(
            lambda values: operation.as_strategy(
                GenerationMode.POSITIVE, headers=headers, path_parameters=values
            )
        )
        positive = st.one_of(positive, about_seeded)
    return st.one_of(positive, operation.as_strategy(GenerationMode.NEGATIVE, headers=headers))


def _fuzz(operation: Operation, seeded: Seeded, headers: dict[str, str]) -> Callable[[], None]:
    # An event stream never ends by itself: cut it after a moment (what came is validated).
    timeout = 0.5 if operation.path == "/events/stream" else 30

    @SETTINGS
    @given(case=_strategy(operation, seeded, headers))
    def run(case: Case[Any]) -> None:
        try:
            case.call_and_validate(checks=CHECKS, timeout=timeout)
        except FailureGroup:
            raise
        except Exception as exc:  # the app raised (a 500 and its exception): say what was sent
            raise AssertionError(f"{exc!r} answering {case.as_curl_command()}") from exc

    return run


@pytest.mark.parametrize("caller", list(CALLERS))
def test_every_operation_answers_as_documented(
    fuzzed_app: tuple[schemathesis.BaseSchema, Seeded], caller: str
) -> None:
    schema, seeded = fuzzed_app
    failures: list[str] = []
    operations = 0
    for result in schema.get_all_operations():
        assert isinstance(result, Ok), result
        operation = result.ok()
        operations += 1
        try:
            _fuzz(operation, seeded, CALLERS[caller])()
        except (Exception, BaseExceptionGroup) as exc:  # every operation's failures, then all
            failures.append(f"--- {operation.label} as {caller}:\n{exc}")
    assert operations >= 30
    assert not failures, "\n".join(failures)


def test_every_post_documents_the_body_limits_and_undecodable_bodies() -> None:
    """413 and 415 come from a middleware (app/api/http/limits.py), 400 from FastAPI for a body that
    is not UTF-8: the document says so for every command, or fuzzing finds them undocumented."""
    posts = [
        operation
        for path in document()["paths"].values()
        for method, operation in path.items()
        if method == "post"
    ]
    assert posts
    for operation in posts:
        expected = {"413", "415"} | ({"400"} if "requestBody" in operation else set())
        assert expected <= set(operation["responses"]), operation["operationId"]
