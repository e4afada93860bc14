"""Operations endpoints: liveness, readiness, metrics."""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from hubbub import metrics
from hubbub.routes.deps import get_runtime

router = APIRouter()


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz")
async def readyz(request: Request) -> Response:
    runtime = get_runtime(request)
    problems: dict[str, Any] = {}
    if runtime.shutting_down:
        problems["server"] = "shutting down"
    for name, check in (("store", runtime.chat.store.ping), ("broker", runtime.chat.broker.ping)):
        try:
            await check()
        except Exception as exc:
            problems[name] = str(exc) or type(exc).__name__
    if problems:
        return JSONResponse({"status": "unavailable", "problems": problems}, status_code=503)
    return JSONResponse({"status": "ready"})


@router.get("/metrics")
async def prometheus_metrics() -> Response:
    metrics.TASKS.set(len(asyncio.all_tasks()))
    body, content_type = metrics.render()
    return Response(body, media_type=content_type)
