"""What bots and scripts call: POST a message into a room where the bot is a member, with the
token `hubbub add-bot NAME` printed. The same in every auth mode: a bot token is not a user's
credential, and a user's credential is not a bot token."""

from __future__ import annotations

import logging
from typing import Annotated

from fastapi import APIRouter, Header, HTTPException, Response

from hubbub.chat.bots import BotAuthError
from hubbub.contract.commands import RoomName
from hubbub.contract.events import MessageEvent
from hubbub.contract.refusals import About, answer
from hubbub.contract.rest import BODY_ERRORS, NewBotMessage, Problem
from hubbub.model import AppendError, MessageRejectedError, StoreUnavailableError
from hubbub.routes.deps import ChatDep, too_many

log = logging.getLogger("hubbub.bots")

router = APIRouter(prefix="/api", tags=["bots"])


@router.post(
    "/rooms/{room}/messages",
    status_code=201,
    responses={
        **BODY_ERRORS,
        200: {"model": MessageEvent, "description": "that client_msg_id was stored before: the message"},
        401: {"model": Problem},
        404: {"model": Problem, "description": "no such room, or the bot is not a member"},
        409: {"model": Problem, "description": "the room is archived"},
        413: {"model": Problem},
        429: {"model": Problem},
    },
)
async def post_message(
    room: RoomName,
    body: NewBotMessage,
    chat: ChatDep,
    response: Response,
    authorization: Annotated[str | None, Header()] = None,
) -> MessageEvent:
    """Post as a bot (Authorization: Bearer <bot token>)."""
    try:
        bot = await chat.bots.identify(authorization)
    except BotAuthError:
        raise HTTPException(
            401, "a valid bot token is required", headers={"WWW-Authenticate": "Bearer"}
        ) from None
    if len(body.body.encode()) > chat.settings.max_message_bytes:
        raise HTTPException(413, "message body is too large")
    if wait := chat.bots.wait(bot.user):
        raise too_many(wait, "too many messages")
    try:
        message, created = await chat.post(room, bot, body.body, body.client_msg_id, bot=True)
    except (AppendError, StoreUnavailableError, OSError) as exc:
        # Where the bot is not a member, the room does not exist for it (the table says so).
        if isinstance(exc, MessageRejectedError):
            log.warning("message of bot %s in %s refused by the store: %s", bot.user, room, exc)
        elif not isinstance(exc, AppendError):
            log.warning("store unavailable for a message of bot %s: %s", bot.user, exc)
            exc = StoreUnavailableError(str(exc))
        found, text = answer(exc, About(room, unavailable="message not stored; try again"))
        retry = {"Retry-After": "1"} if found.status == 503 else None
        raise HTTPException(found.status, text, headers=retry) from None
    if not created:
        response.status_code = 200
    return MessageEvent.of(message)
