"""REST endpoints: configuration, and who you are (login, logout, me). Rooms: routes/rooms.py."""

from __future__ import annotations

import logging
import time
from typing import Annotated

from fastapi import APIRouter, Cookie, HTTPException, Request, Response

from hubbub import __version__
from hubbub.auth import AuthError, Identity, LoginRequest
from hubbub.auth.none import name_refusal
from hubbub.auth.sessions import COOKIE_NAME
from hubbub.contract.rest import (
    BODY_ERRORS,
    LoginBody,
    NewAccount,
    Problem,
    ServerConfig,
    SessionInfo,
)
from hubbub.routes.deps import CallerDep, RuntimeDep, client_address, public_scheme_is_https, too_many
from hubbub.runtime import Runtime
from hubbub.settings import ROOM_NAME_PATTERN, AuthMode
from hubbub.store.schema import head as schema_head

log = logging.getLogger("hubbub.api")
router = APIRouter(prefix="/api", responses={401: {"model": Problem}})


@router.get("/config")
async def config(runtime: RuntimeDep) -> ServerConfig:
    settings = runtime.settings
    accounts = runtime.chat.people.accounts
    return ServerConfig(
        auth_mode=settings.auth,
        oidc_provider_name=settings.oidc_name if settings.auth is AuthMode.OIDC else None,
        default_room=settings.default_room,
        max_message_bytes=settings.max_message_bytes,
        max_upload_bytes=settings.max_upload_bytes,
        history_page_size=settings.history_page_size,
        room_name_pattern=ROOM_NAME_PATTERN,
        version=__version__,
        schema_version=schema_head(),
        logout_url=settings.logout_url,
        setup_needed=await accounts.setup_needed(),
        role_source=accounts.source,
        password_min_length=settings.password_min_length,
    )


@router.post("/login", responses={**BODY_ERRORS, 409: {"model": Problem}, 429: {"model": Problem}})
async def login(body: LoginBody, runtime: RuntimeDep, request: Request, response: Response) -> SessionInfo:
    address = client_address(request)
    name = body.username or body.name
    if wait := await runtime.login_throttle.wait(name, address):
        log.info("login throttled (%s mode) from %s", runtime.settings.auth.value, address)
        raise too_many(wait, "too many failed sign-ins")
    try:
        identity = await runtime.authenticator.login(LoginRequest(**body.model_dump()))
        # Refused for a deactivated user (in every mode), after the credential was checked.
        identity = runtime.chat.people.accounts.vouch(identity)
    except AuthError as exc:
        log.info("login refused (%s mode) from %s: %s", runtime.settings.auth.value, address, exc)
        await runtime.login_throttle.failed(name, address)
        raise HTTPException(401, str(exc)) from exc
    if runtime.settings.auth is AuthMode.NONE:
        online, bots = runtime.chat.online_users(), await runtime.chat.bots.names()
        if refusal := name_refusal(identity.user, online, bots, signing_in=True):
            log.info("login refused (none mode): %r: %s", identity.user, refusal)
            raise HTTPException(409, f"{refusal}; pick another")
    await runtime.login_throttle.succeeded(name, address)
    identity = await start_session(runtime, identity, request, response)
    log.info("login: %s", identity.user)
    return SessionInfo(user=identity.user, expires_at=identity.expires_at, admin=identity.admin)


@router.post(
    "/setup",
    status_code=201,
    responses={
        **BODY_ERRORS,
        400: {"model": Problem, "description": "the name or the password breaks a rule"},
        409: {
            "model": Problem,
            "description": "the server has its first admin already (or not password mode)",
        },
    },
)
async def setup(body: NewAccount, runtime: RuntimeDep, request: Request, response: Response) -> SessionInfo:
    """The first-run screen: on a password-mode server no account can sign in to yet, the first
    to ask becomes its admin, and signed in. Once (of two at once, one wins)."""
    identity = await runtime.chat.people.accounts.create(body.name, body.password, first=True)
    await runtime.chat.people.audit.record(
        identity.user, "setup.first_admin", identity.user, client_address(request)
    )
    identity = await start_session(runtime, identity, request, response)
    return SessionInfo(user=identity.user, expires_at=identity.expires_at, admin=identity.admin)


async def start_session(
    runtime: Runtime, identity: Identity, request: Request, response: Response
) -> Identity:
    """A session for the identity, its cookie set on the response (every mode's sign-in)."""
    await runtime.chat.seen(identity, now=True)
    cookie, identity = await runtime.sessions.open(identity)
    max_age = max(1, int((identity.expires_at or time.time()) - time.time()))
    response.set_cookie(
        COOKIE_NAME,
        cookie,
        max_age=max_age,
        httponly=True,
        samesite="lax",
        secure=runtime.settings.cookie_secure or public_scheme_is_https(request),
        path="/",
    )
    return identity


async def end_session(runtime: Runtime, session: str | None, request: Request, response: Response) -> None:
    """The session ends (its sockets close) and its cookie goes."""
    if session:
        session_id = await runtime.sessions.close(session)
        if session_id is not None:
            await runtime.chat.end_session(session_id)
    secure = runtime.settings.cookie_secure or public_scheme_is_https(request)
    response.delete_cookie(COOKIE_NAME, path="/", secure=secure, httponly=True, samesite="lax")


@router.post("/logout", status_code=204)
async def logout(
    runtime: RuntimeDep, request: Request, response: Response, session: Annotated[str | None, Cookie()] = None
) -> None:
    await end_session(runtime, session, request, response)


@router.get("/me")
async def me(caller: CallerDep) -> SessionInfo:
    if caller is None:
        raise HTTPException(401, "not logged in")
    return SessionInfo(user=caller.user, expires_at=caller.expires_at, admin=caller.admin)
