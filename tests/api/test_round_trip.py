"""What a read returns, a write of the same resource accepts.

The OpenAPI document is walked for pairs of a read (GET) and a write (POST) of one resource:
on the same path, or a write on the collection and a read of the item (``/bureaus`` and
``/bureaus/{bureau_id}``), where every field the write takes is a field the read returns.
Each pair is brought to a state where the write applies (tests/api/example_story.py), the
write's example is sent, the resource read and the read sent back as it is: the service may
refuse it by the rules (a rating is recorded once), never for its shape (422).
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from app.services.clock import FixedClock
from tests.api.example_story import BUILDERS, DOCUMENT, HEADERS, OPERATIONS, Story, example
from tests.api.support import PROBLEM, ok


def _schema(ref: str) -> dict[str, Any]:
    schema: dict[str, Any] = DOCUMENT["components"]["schemas"][ref.rsplit("/", 1)[-1]]
    return schema


def _pairs() -> list[tuple[str, str, str]]:
    """(read path, read operation id, write operation id)."""
    pairs = []
    for write in OPERATIONS.values():
        request = DOCUMENT["paths"][write.path][write.method]["requestBody"]
        taken = set(_schema(request["content"]["application/json"]["schema"]["$ref"])["properties"])
        for path, methods in DOCUMENT["paths"].items():
            read = methods.get("get")
            if read is None or not (path == write.path or path.startswith(write.path + "/{")):
                continue
            if path.count("/") > write.path.count("/") + 1:
                continue
            content = read["responses"].get("200", {}).get("content", {}).get("application/json")
            ref = (content or {}).get("schema", {}).get("$ref")
            if ref and taken <= set(_schema(ref).get("properties", {})):
                pairs.append((path, read["operationId"], write.operation_id))
    return sorted(pairs)


PAIRS = _pairs()


def test_the_resources_read_and_written_in_one_shape_are_found() -> None:
    found = {(read, write) for _, read, write in PAIRS}
    assert {("get_profile", "update_profile"), ("get_rating", "record_rating")} <= found
    assert ("get_bureau", "appoint_bureau") in found


@pytest.mark.parametrize(("path", "read", "write"), PAIRS, ids=[f"{r}->{w}" for _, r, w in PAIRS])
async def test_a_read_sent_back_to_its_write_is_accepted(
    api: httpx.AsyncClient, clock: FixedClock, path: str, read: str, write: str
) -> None:
    story = Story(api, clock)
    await BUILDERS[write](story)
    await story.send(write)
    story.ids.update({k: v for k, v in example(write).items() if isinstance(v, str)})
    role = OPERATIONS[write].role
    resource = ok(await api.get(story.url(path), headers=HEADERS[role]))

    response = await story.request(write, resource)

    if response.status_code == 422:
        assert response.headers["content-type"] == PROBLEM
        pytest.fail(f"{write} refuses what {read} returned: {response.text}")
    assert response.status_code < 500, response.text


async def test_a_profile_read_and_sent_back_changes_nothing(
    api: httpx.AsyncClient, clock: FixedClock
) -> None:
    story = Story(api, clock)
    await BUILDERS["update_profile"](story)
    written = await story.send("update_profile")
    url = story.url("/providers/{enterprise_number}/profile")
    read = ok(await api.get(url, headers=HEADERS[OPERATIONS["update_profile"].role]))
    assert read == written
    assert read["locations"][0]["province"]

    again = await story.send("update_profile", read)

    assert again == read  # the same profile: nothing recorded, the version stays


async def test_a_province_that_is_not_the_postal_codes_is_refused(
    api: httpx.AsyncClient, clock: FixedClock
) -> None:
    story = Story(api, clock)
    await BUILDERS["update_profile"](story)
    body = example("update_profile")
    location = {**body["locations"][0], "postal_code": "9000", "province": "limburg"}

    response = await story.request("update_profile", {**body, "locations": [location]})

    assert response.status_code == 422, response.text
    problem = response.json()
    assert problem["code"] == "validation-failed"
    assert problem["errors"][0]["pointer"] == "#/locations/0/province"
    assert "oost" in problem["errors"][0]["detail"]


async def test_a_profile_of_another_enterprise_is_refused(
    api: httpx.AsyncClient, clock: FixedClock
) -> None:
    story = Story(api, clock)
    await BUILDERS["update_profile"](story)
    body = {**example("update_profile"), "enterprise_number": "0202.239.951"}

    response = await story.request("update_profile", body)

    assert response.status_code == 422, response.text
    assert response.json()["code"] == "invalid-command"
