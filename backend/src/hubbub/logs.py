"""Logging: no credential in any log line, and a per-connection budget of lines.

Credentials travel where loggers look: query strings (uvicorn's access log, the handshake that
`websockets` logs at debug), headers (Cookie, Authorization, also at debug) and the tutorial's
/items/{id}/ws answer, which echoes its credential; and so does what people search for
(/api/search?q=…, whose whole query string goes). Every log record of the process, whichever
logger makes it (uvicorn, gunicorn, websockets, asyncio, hubbub), is a RedactedLogRecord, whose
message and traceback come out redacted: no handler, formatter or logging configuration can
print what it hides.
"""

from __future__ import annotations

import logging
import re
import time
import traceback
from collections.abc import Callable
from urllib.parse import unquote

from hubbub.ratelimit import TokenBucket

REDACTED = "[redacted]"
# Query parameters whose value is a credential, by their name once percent-decoded.
SECRET_PARAMS = frozenset(
    {"token", "access_token", "id_token", "refresh_token", "jwt", "password", "session", "secret", "api_key"}
    # What OpenID Connect sends through the browser and the token endpoint: an authorization
    # code is a credential until redeemed, and the state, nonce and verifier guard it.
    | {"code", "state", "nonce", "code_verifier", "client_secret", "id_token_hint"}
)
_QUERY_PARAM = re.compile(r"([?&;])([^=&;\s\"'#]+)=([^&;\s\"'#]*)")
# "Cookie: session=…", "authorization: Bearer …", and (b'cookie', b'session=…') as headers print.
_HEADER = re.compile(
    r"(?i)\b(cookie|set-cookie|authorization|proxy-authorization)(['\"]?\s*[:=,]\s*(?:b?['\"])?)([^\r\n'\"]+)"
)
_JWT = re.compile(r"\beyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*")
# chat/bots.py's and people/admin.py's (invitations') tokens, wherever they appear: an
# invitation's token is in the path of its accept request, which the access log prints.
_BOT_TOKEN = re.compile(r"\bhb[bi]_[A-Za-z0-9_-]{8,}")
# What people search for is what is in their rooms: a search's whole query string goes.
_SEARCH = re.compile(r"(/api/search\?)[^\s\"']*")
# The tutorial's /items/{id}/ws answer: "Session cookie or query token value is: {credential}".
_ITEM_ECHO = re.compile(r"(value is: )([^'\"\r\n]+)")
# Known secrets, as is and percent-encoded, by their first PREFIX characters. A few are found
# by one regex of them all, made when a line is first redacted after they changed; more (a
# tokens file of a whole company: remade per token, that regex took minutes to start and
# milliseconds a line) by a dictionary lookup per character of the line.
PREFIX = 4
MOST_IN_ONE_REGEX = 64
_known: dict[str, list[str]] = {}
_known_count = 0
_known_re: re.Pattern[str] | None = None


def register_secret(value: str | None) -> None:
    """A credential the server knows in advance (a static token, a secret key, a password in
    a database URL): wherever it shows up in a log line, as is or percent-encoded, it goes."""
    global _known_count, _known_re
    if not value or len(value) < PREFIX:
        return
    for form in {value, _percent_encoded(value)}:
        found = _known.setdefault(form[:PREFIX], [])
        if form not in found:
            found.append(form)
            found.sort(key=len, reverse=True)  # the longest first, where one contains another
            _known_count += 1
            _known_re = None


def _percent_encoded(value: str) -> str:
    from urllib.parse import quote

    return quote(value, safe="")


def _without_known(text: str) -> str:
    global _known_re
    if _known_count <= MOST_IN_ONE_REGEX:
        if _known_re is None:
            forms = sorted((re.escape(f) for found in _known.values() for f in found), key=len, reverse=True)
            _known_re = re.compile("|".join(forms))
        return _known_re.sub(REDACTED, text)
    parts: list[str] = []
    start = i = 0
    while i <= len(text) - PREFIX:
        for secret in _known.get(text[i : i + PREFIX], ()):
            if text.startswith(secret, i):
                parts += (text[start:i], REDACTED)
                start = i = i + len(secret)
                break
        else:
            i += 1
    return "".join(parts) + text[start:] if parts else text


def _param(match: re.Match[str]) -> str:
    name = match.group(2)
    for _ in range(3):  # %2574oken is %74oken once decoded, token twice
        name = unquote(name)
    if name.strip().lower() in SECRET_PARAMS:
        return f"{match.group(1)}{match.group(2)}={REDACTED}"
    return match.group(0)


def redact(text: str) -> str:
    if _known:
        text = _without_known(text)
    text = _SEARCH.sub(rf"\g<1>{REDACTED}", text)
    text = _QUERY_PARAM.sub(_param, text)
    text = _HEADER.sub(lambda m: f"{m.group(1)}{m.group(2)}{REDACTED}", text)
    text = _ITEM_ECHO.sub(lambda m: f"{m.group(1)}{REDACTED}", text)
    text = _BOT_TOKEN.sub(REDACTED, text)
    return _JWT.sub(REDACTED, text)


class RedactedLogRecord(logging.LogRecord):
    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        # The arguments too: some formatters (uvicorn's access log) format them, not the message.
        if isinstance(self.msg, str):
            self.msg = redact(self.msg)
        if isinstance(self.args, tuple):
            self.args = tuple(redact(a) if isinstance(a, str) else a for a in self.args)
        elif isinstance(self.args, dict):
            self.args = {k: redact(v) if isinstance(v, str) else v for k, v in self.args.items()}
        if self.exc_info and self.exc_info[0] is not None:
            # What Formatter.formatException would make, made now, so that it is redacted.
            self.exc_text = redact("".join(traceback.format_exception(*self.exc_info)).rstrip("\n"))
        if self.stack_info:
            self.stack_info = redact(self.stack_info)

    def getMessage(self) -> str:
        return redact(super().getMessage())


def install_redaction() -> None:
    """Every log record of this process from now on is a RedactedLogRecord (idempotent)."""
    if logging.getLogRecordFactory() is not RedactedLogRecord:
        logging.setLogRecordFactory(RedactedLogRecord)


class LineBudget:
    """How many log lines one connection may write: a few at once, then one a second. What it
    holds back is counted and said with the next line it lets through, so a client flooding
    the server with bad frames cannot flood its log too."""

    __slots__ = ("_bucket", "_held")

    def __init__(
        self, per_second: float = 1.0, burst: int = 5, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._bucket = TokenBucket(per_second, burst, clock)
        self._held = 0

    def take(self) -> str | None:
        """None to hold this line back; else a suffix for it (empty, or how many were held)."""
        if self._bucket.try_take():
            self._held += 1
            return None
        held, self._held = self._held, 0
        return f" ({held} similar lines held back)" if held else ""
