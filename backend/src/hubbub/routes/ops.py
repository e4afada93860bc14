"""Operations endpoints: liveness, readiness, metrics."""

from __future__ import annotations

import asyncio
import hmac
import logging

from fastapi import APIRouter, Request, Response
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
async def prometheus_metrics(runtime: RuntimeDep, request: Request) -> Response:
    token = runtime.settings.metrics_token
    if token is not None:
        given = request.headers.get("authorization", "").removeprefix("Bearer ").strip()
        if not hmac.compare_digest(given.encode(), token.get_secret_value().encode()):
            return JSONResponse(
                {"detail": "metrics need Authorization: Bearer <HUBBUB_METRICS_TOKEN>"},
                status_code=401,
                headers={"WWW-Authenticate": "Bearer"},
            )
    metrics.TASKS.set(len(asyncio.all_tasks()))
    body, content_type = metrics.render()
    return Response(body, media_type=content_type)
