"""Operations endpoints: liveness, readiness, metrics."""

from __future__ import annotations

import asyncio
import logging

from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse

from hubbub import metrics
from hubbub.contract.rest import Health, Readiness
from hubbub.routes.deps import RuntimeDep

log = logging.getLogger("hubbub.ops")
router = APIRouter()


@router.get("/healthz")
async def healthz() -> Health:
    return Health()


@router.get("/readyz", responses={503: {"model": Readiness}})
async def readyz(runtime: RuntimeDep) -> Response:
    problems = await runtime.chat.problems()
    if runtime.shutting_down:
        problems["server"] = "shutting down"
    if problems:
        # What is wrong (hosts, ports, errors) goes to the log, not to whoever asks.
        log.warning("not ready: %s", "; ".join(f"{part}: {why}" for part, why in sorted(problems.items())))
        return JSONResponse(Readiness(status="unavailable").model_dump(), status_code=503)
    return JSONResponse(Readiness(status="ready").model_dump())


@router.get("/metrics", include_in_schema=False)
async def prometheus_metrics() -> Response:
    metrics.TASKS.set(len(asyncio.all_tasks()))
    body, content_type = metrics.render()
    return Response(body, media_type=content_type)
