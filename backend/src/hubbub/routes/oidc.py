"""Signing in through the identity provider (auth mode oidc): the login redirect, the callback
the provider sends the browser back to, and signing out there too (docs/sso.md).

The two GETs are pages a browser goes to, not API calls: whatever happens, they answer with a
redirect, into the provider or back into the app. A failure lands on /?sign_in_error=<code>
(contract.rest.SignInError), which the UI says in words; the details go to the log (never a
code, a token or a secret), not to the browser. In other auth modes they say NOT_CONFIGURED.
"""

from __future__ import annotations

import logging
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Cookie, Query, Request, Response
from fastapi.responses import RedirectResponse

from hubbub.auth import AuthError, Identity
from hubbub.auth.oidc import OidcAuth, ProviderUnreachableError, SignInRefusedError
from hubbub.auth.oidc.flow import CALLBACK_PATH, FLOW_SECONDS, Flow, FlowError, cookie_name
from hubbub.contract.rest import SignInError, SignOutReply
from hubbub.routes.api import end_session, start_session
from hubbub.routes.deps import RuntimeDep, base_url, client_address, public_scheme_is_https
from hubbub.runtime import Runtime

log = logging.getLogger("hubbub.auth")
router = APIRouter(prefix="/api/auth/oidc", tags=["sign-in"])

# Parameters the provider sends: none is checked by FastAPI (a 422 would be raw JSON in the
# browser); what is wrong with them is a redirect back to the app like any other failure.
_MAX_PARAM_CHARS = 4096


def _redirect(description: str) -> dict[int | str, dict[str, Any]]:
    return {
        303: {
            "description": description,
            "headers": {"Location": {"schema": {"type": "string"}, "description": "where the browser goes"}},
        }
    }


def back_to_app(error: SignInError, state: str | None = None) -> RedirectResponse:
    answer = RedirectResponse("/?" + urlencode({"sign_in_error": error.value}), status_code=303)
    if state and len(state) <= 256:
        answer.delete_cookie(cookie_name(state), path=CALLBACK_PATH)
    return answer


@router.get(
    "/login",
    status_code=303,
    response_class=RedirectResponse,
    responses=_redirect(
        "to the identity provider's sign-in page; or, when the sign-in cannot start, back to "
        "the app: /?sign_in_error=<SignInError> (unreachable, not_configured)"
    ),
)
async def login(
    runtime: RuntimeDep,
    request: Request,
    next_path: Annotated[
        str | None, Query(alias="next", description="a path here to land on afterwards")
    ] = None,
) -> RedirectResponse:
    """Start signing in at the identity provider (a browser goes here; the UI's button)."""
    oidc = runtime.oidc
    if oidc is None:
        return back_to_app(SignInError.NOT_CONFIGURED)
    flow = oidc.flows.start(base_url(request, runtime.settings) + CALLBACK_PATH, next_path)
    try:
        url = await oidc.party.authorization_url(flow)
    except ProviderUnreachableError as exc:
        log.warning(
            "sign-in not started for %s: identity provider unreachable: %s", client_address(request), exc
        )
        return back_to_app(SignInError.UNREACHABLE)
    answer = RedirectResponse(url, status_code=303)
    answer.set_cookie(
        flow.cookie,
        oidc.flows.seal(flow),
        max_age=int(FLOW_SECONDS),
        httponly=True,
        samesite="lax",  # sent on the provider's redirect back: a top-level GET
        secure=runtime.settings.cookie_secure or public_scheme_is_https(request),
        path=CALLBACK_PATH,
    )
    return answer


@router.get(
    "/callback",
    status_code=303,
    response_class=RedirectResponse,
    responses=_redirect(
        "signed in (a session cookie is set): to the page the sign-in started from; else "
        "/?sign_in_error=<SignInError>"
    ),
)
async def callback(
    runtime: RuntimeDep,
    request: Request,
    code: str | None = None,
    state: str | None = None,
    error: str | None = None,
    iss: str | None = None,
    session: Annotated[str | None, Cookie()] = None,
) -> RedirectResponse:
    """The redirect URI: the provider sends the browser back here with a code (or an error)."""
    oidc = runtime.oidc
    if oidc is None:
        return back_to_app(SignInError.NOT_CONFIGURED)
    address = client_address(request)
    try:
        flow = oidc.flows.open(state, request.cookies)
    except FlowError as exc:
        log.info("sign-in from %s refused: %s", address, exc)
        return back_to_app(SignInError.EXPIRED, state)
    answer = RedirectResponse(flow.next, status_code=303)
    try:
        identity = await _finish(runtime, oidc, flow, code, error, iss)
        if session:  # whoever was signed in in this browser is not any more
            ended = await runtime.sessions.close(session)
            if ended is not None:
                await runtime.chat.end_session(ended)
        identity = await start_session(runtime, identity, request, answer)
    except SignInRefusedError as exc:
        log.warning("sign-in from %s refused (%s): %s", address, exc.code.value, exc)
        return back_to_app(exc.code, flow.state)
    except Exception:
        # A page, not an API: even Hubbub's own failure (its database down) is a sentence in
        # the app, never a bare 500.
        log.exception("sign-in from %s failed", address)
        return back_to_app(SignInError.SERVER_ERROR, flow.state)
    answer.delete_cookie(flow.cookie, path=CALLBACK_PATH)
    log.info("login: %s (identity provider, from %s)", identity.user, address)
    return answer


async def _finish(
    runtime: Runtime, oidc: OidcAuth, flow: Flow, code: str | None, error: str | None, iss: str | None
) -> Identity:
    await oidc.use(flow)
    if error is not None:
        kind = SignInError.DENIED if error == "access_denied" else SignInError.PROVIDER_ERROR
        raise SignInRefusedError(kind, f"the provider answered error {error[:100]!r}")
    # RFC 9207: an answer that names its issuer names ours, or it is another provider's
    # (a mix-up attack among several providers).
    if iss is not None and iss != oidc.provider.issuer:
        raise SignInRefusedError(SignInError.INVALID_TOKEN, f"the answer is from issuer {iss[:200]!r}")
    if not code or len(code) > _MAX_PARAM_CHARS:
        raise SignInRefusedError(SignInError.PROVIDER_ERROR, "the provider's answer has no usable code")
    account = await oidc.redeem(flow, code)
    # Bots' names and people's display names: a new account's name may pass for none of them.
    taken = await runtime.chat.bots.names() | await runtime.chat.people.accounts.display_names(account.name)
    identity = await oidc.bind(account, taken)
    try:
        # Deactivation bites here as in every mode; where Hubbub decides roles, its role.
        return runtime.chat.people.accounts.vouch(identity)
    except AuthError as exc:
        raise SignInRefusedError(SignInError.DEACTIVATED, f"{identity.user!r}: {exc}") from exc


@router.post("/logout")
async def logout(
    runtime: RuntimeDep, request: Request, response: Response, session: Annotated[str | None, Cookie()] = None
) -> SignOutReply:
    """End Hubbub's session; the answer says where to sign out of the identity provider too
    (HUBBUB_OIDC_END_SESSION), or null."""
    await end_session(runtime, session, request, response)
    url = None
    if runtime.oidc is not None and runtime.settings.oidc_end_session:
        url = await runtime.oidc.party.end_session_url(base_url(request, runtime.settings) + "/")
    return SignOutReply(end_session_url=url)
