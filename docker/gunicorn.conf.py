"""gunicorn settings for the Hubbub image. Environment:

WEB_CONCURRENCY   worker processes (default 1; more need HUBBUB_REDIS_URL or a PostgreSQL broker)
PORT              port to listen on (default 8000), on all interfaces
GRACEFUL_TIMEOUT  seconds workers get to close sockets on shutdown (default HUBBUB_SHUTDOWN_TIMEOUT_SECONDS)
FORWARDED_ALLOW_IPS  the older name of HUBBUB_TRUSTED_PROXIES (whose X-Forwarded-* are believed)
"""

from __future__ import annotations

import logging
import os
import shutil
from typing import Any

from hubbub.cli import LOG_FORMAT, check_workers, load_settings, trust_forwarded
from hubbub.logs import install_redaction

install_redaction()  # before gunicorn logs anything: no credential in any line
if "FORWARDED_ALLOW_IPS" in os.environ:  # gunicorn's and uvicorn's name, read by the app instead
    trust_forwarded(os.environ["FORWARDED_ALLOW_IPS"], "FORWARDED_ALLOW_IPS")
settings = load_settings()  # exits with a clear message on a bad configuration
logging.basicConfig(level=settings.log_level.upper(), format=LOG_FORMAT)
workers = int(os.environ.get("WEB_CONCURRENCY", "1"))

wsgi_app = "hubbub.app:app_from_env()"
worker_class = "hubbub.worker.HubbubWorker"
bind = [f"0.0.0.0:{os.environ.get('PORT', '8000')}"]
graceful_timeout = int(os.environ.get("GRACEFUL_TIMEOUT", settings.shutdown_timeout_seconds))
# WebSocket workers are busy by design; the arbiter's heartbeat check is what this bounds.
timeout = 60
keepalive = 5
accesslog = "-"
errorlog = "-"
loglevel = settings.log_level
# X-Forwarded-* are read by the app, from HUBBUB_TRUSTED_PROXIES alone (hubbub/web/proxies.py);
# gunicorn's own reading is for WSGI apps and stays off.
forwarded_allow_ips = ""


def on_starting(server: Any) -> None:
    # The final worker count: WEB_CONCURRENCY, or -w / --workers on the command line.
    check_workers(settings, server.cfg.workers)
    # Metrics of all workers add up through files here; start each run with none left over.
    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if directory:
        shutil.rmtree(directory, ignore_errors=True)
        os.makedirs(directory, exist_ok=True)


def child_exit(server: Any, worker: Any) -> None:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
