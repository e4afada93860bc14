"""gunicorn worker class: uvicorn's worker with the WebSocket options Hubbub depends on."""

from __future__ import annotations

import sys
from typing import Any, ClassVar

from uvicorn_worker import UvicornWorker

from hubbub.cli import uvicorn_options, workers_need_a_broker
from hubbub.settings import Settings


class HubbubWorker(UvicornWorker):  # type: ignore[misc]
    CONFIG_KWARGS: ClassVar[dict[str, Any]] = {
        **UvicornWorker.CONFIG_KWARGS,
        **{k: v for k, v in uvicorn_options(Settings()).items() if k != "timeout_graceful_shutdown"},
    }

    def init_process(self) -> None:
        # However the worker count was given (-w, WEB_CONCURRENCY, a config file), workers on
        # the in-process broker would be islands: refuse, and gunicorn stops (exit code 3 is
        # its "worker failed to boot", which halts the arbiter instead of respawning).
        settings = Settings()
        if self.cfg.workers > 1 and settings.broker_is_in_process:
            self.log.error(workers_need_a_broker(self.cfg.workers))
            sys.exit(3)
        super().init_process()
