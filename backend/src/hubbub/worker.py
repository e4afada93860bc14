"""gunicorn worker class: uvicorn's worker with the WebSocket options Hubbub depends on."""

from __future__ import annotations

from typing import Any, ClassVar

from uvicorn_worker import UvicornWorker

from hubbub.cli import uvicorn_options
from hubbub.settings import Settings


class HubbubWorker(UvicornWorker):  # type: ignore[misc]
    CONFIG_KWARGS: ClassVar[dict[str, Any]] = {
        **UvicornWorker.CONFIG_KWARGS,
        **{k: v for k, v in uvicorn_options(Settings()).items() if k != "timeout_graceful_shutdown"},
    }
