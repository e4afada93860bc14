"""GET /api/search: the messages a caller may read that match a query (docs/protocol.md,
"Search"). The language is parsed by the chat (search/query.py); who may read what is the
store's one query; where each hit matches comes back as offsets (search/marks.py)."""

from __future__ import annotations

import logging
from typing import Annotated

from fastapi import APIRouter, Query, Request

from hubbub.contract.events import MessageEvent
from hubbub.contract.rest import Problem, SearchHit, SearchPage
from hubbub.model import SearchQueryError
from hubbub.routes.deps import CallerDep, RuntimeDep, client_address, too_many
from hubbub.search.marks import marks
from hubbub.search.query import MAX_QUERY_CHARS
from hubbub.settings import ROOM_NAME_PATTERN

log = logging.getLogger("hubbub.search")
router = APIRouter(prefix="/api", responses={401: {"model": Problem}})


@router.get(
    "/search",
    responses={
        400: {"model": Problem, "description": "the query cannot be searched for; detail says why"},
        429: {"model": Problem, "description": "over HUBBUB_SEARCHES_PER_MINUTE"},
    },
)
async def search(
    runtime: RuntimeDep,
    caller: CallerDep,
    request: Request,
    q: Annotated[str, Query(min_length=1, max_length=MAX_QUERY_CHARS)],
    room: Annotated[str | None, Query(pattern=ROOM_NAME_PATTERN)] = None,
    before: Annotated[int | None, Query(ge=1, le=2**63 - 1)] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    utc_offset: Annotated[int, Query(ge=-840, le=840, description="minutes east of UTC, for dates")] = 0,
) -> SearchPage:
    """Messages matching ``q`` in the rooms the caller may read, newest first, each with where
    it matches."""
    who = caller.user if caller is not None else f"@{client_address(request)}"
    if wait := await runtime.limiter.take(f"search:{who}", runtime.settings.searches_per_minute):
        raise too_many(wait, "too many searches")
    try:
        found, query = await runtime.chat.search(caller, q, room, before, limit, utc_offset)
    except SearchQueryError as exc:
        log.info("search refused for %s: %s", who, exc)  # what it says, never what was typed
        raise
    return SearchPage(
        hits=[SearchHit(message=MessageEvent.of(m), marks=marks(m.body, query)) for m in found.messages],
        next_before=found.next_before,
    )
