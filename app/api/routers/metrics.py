"""``GET /metrics``: the Prometheus exposition of this process's counters (see
``app.runtime.metrics``).

No token, like ``/healthz``: it tells how busy the service is, not who uses it (route templates
and event types, never identifiers). Keep it behind the firewall all the same.
"""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4

from app.runtime.metrics import Metrics

router = APIRouter(tags=["operations"])

# The classic text format (what ``generate_latest`` writes), which every Prometheus reads.
CONTENT_TYPE = CONTENT_TYPE_PLAIN_0_0_4


@router.get(
    "/metrics",
    operation_id="metrics",
    summary="Prometheus metrics: requests, events, deadline job, database pool",
    response_class=Response,
    responses={200: {"content": {"text/plain": {}}}},
)
async def metrics(request: Request) -> Response:
    collected: Metrics = request.app.state.metrics
    return Response(collected.exposition(), media_type=CONTENT_TYPE)
