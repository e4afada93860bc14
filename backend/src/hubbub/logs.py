"""Logging setup, and the filter that keeps credentials out of every log line."""

from __future__ import annotations

import logging
import re

# uvicorn logs each WebSocket's path with its query string; tokens travel there.
_SECRET_PARAM = re.compile(r"(?i)([?&](?:token|access_token|jwt|password|session)=)[^&\s\"']*")

REDACTED_LOGGERS = (
    "uvicorn.error",
    "uvicorn.access",
    "gunicorn.access",
    "gunicorn.error",
    "hubbub",
)


def redact(text: str) -> str:
    return _SECRET_PARAM.sub(r"\1[redacted]", text)


class RedactSecretsFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = redact(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(redact(a) if isinstance(a, str) else a for a in record.args)
        elif isinstance(record.args, dict):
            record.args = {k: redact(v) if isinstance(v, str) else v for k, v in record.args.items()}
        return True


def install_redaction() -> None:
    """Attach the filter to the loggers that see request paths (idempotent)."""
    for name in REDACTED_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactSecretsFilter) for f in logger.filters):
            logger.addFilter(RedactSecretsFilter())
