"""Every request example of the OpenAPI document is accepted by the service.

The document is walked: each operation with a request body must have an example and a state
builder (tests/api/example_story.py), which brings a fresh registry, through the API, to a
state in which the command applies. The example is then sent as it stands (path ids taken
from the state) and must get a 2xx. A new route with a body fails here until it has both.
"""

from __future__ import annotations

import httpx
import pytest

from app.services.clock import FixedClock
from tests.api.example_story import BUILDERS, OPERATIONS, Story


@pytest.mark.parametrize("operation_id", sorted(OPERATIONS))
async def test_every_request_example_is_accepted_in_a_state_where_it_applies(
    api: httpx.AsyncClient, clock: FixedClock, operation_id: str
) -> None:
    assert OPERATIONS[operation_id].example is not None, f"{operation_id}: no request example"
    assert operation_id in BUILDERS, f"{operation_id}: register a state builder in {__name__}"
    story = Story(api, clock)
    await BUILDERS[operation_id](story)
    await story.send(operation_id)


def test_every_builder_belongs_to_a_documented_operation() -> None:
    assert set(BUILDERS) <= set(OPERATIONS)
