"""Checking what the identity provider signs: ID tokens (OpenID Connect Core 1.0, 3.1.3.7) and
the bearer tokens scripts present. joserfc checks the signature, Authlib's CodeIDToken the
claims; this module only says which keys, algorithms, issuer, audience and nonce count.

Only asymmetric algorithms: the provider's public keys verify, and nothing a client knows
(its secret) can sign. "none" is never among them.
"""

from __future__ import annotations

from typing import Any

from authlib.oidc.core import CodeIDToken
from joserfc import jws, jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet
from joserfc.jwt import JWTClaimsRegistry

ALGORITHMS = (
    "RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA", "Ed25519",
)  # fmt: skip
LEEWAY_SECONDS = 60  # clocks of two machines differ this much at most
MAX_TOKEN_CHARS = 16 * 1024


class TokenError(Exception):
    """The token is not good; the message says why, for the log (it holds no token)."""


def key_id(token: str) -> str | None:
    """The ``kid`` in the token's header, before anything is verified (to pick the key)."""
    if len(token) > MAX_TOKEN_CHARS:
        raise TokenError("token too long")
    try:
        kid = jws.extract_compact(token.encode()).headers().get("kid")
    except (JoseError, ValueError) as exc:
        raise TokenError(f"not a signed JWT: {type(exc).__name__}") from exc
    return kid if isinstance(kid, str) else None


def _verified(token: str, keys: KeySet) -> tuple[dict[str, Any], dict[str, Any]]:
    try:
        decoded = jwt.decode(token, keys, algorithms=ALGORITHMS)
    except (JoseError, ValueError) as exc:
        # The kind of failure only: its text may repeat the token's own header (a kid).
        raise TokenError(f"signature not verified: {type(exc).__name__}") from exc
    return decoded.claims, dict(decoded.header)


def check_id_token(
    token: str,
    keys: KeySet,
    *,
    issuer: str,
    client_id: str,
    nonce: str,
    access_token: str | None,
    started_at: float,
    now: float,
) -> dict[str, Any]:
    """The ID token's claims, once its signature, iss, aud, azp, exp, iat, nonce and at_hash
    hold; raises TokenError otherwise. ``started_at``: when this sign-in began (an ID token
    issued before cannot be its answer)."""
    claims, header = _verified(token, keys)
    checked = CodeIDToken(
        claims,
        header,
        {"iss": {"essential": True, "value": issuer}, "aud": {"essential": True, "value": client_id}},
        {"nonce": nonce, "client_id": client_id, "access_token": access_token},
    )
    try:
        checked.validate(now=int(now), leeway=LEEWAY_SECONDS)
    except JoseError as exc:
        raise TokenError(f"ID token refused: {type(exc).__name__}: {exc}") from exc
    if float(claims["iat"]) < started_at - LEEWAY_SECONDS:
        raise TokenError("ID token refused: issued before this sign-in began")
    return dict(checked)


def check_bearer(token: str, keys: KeySet, *, issuer: str, audience: str, now: float) -> dict[str, Any]:
    """A token a script presents: signed by the provider, for Hubbub (``aud``), not expired."""
    claims, _header = _verified(token, keys)
    registry = JWTClaimsRegistry(
        now=int(now),
        leeway=LEEWAY_SECONDS,
        iss={"essential": True, "value": issuer},
        aud={"essential": True, "value": audience},
        sub={"essential": True},
        exp={"essential": True},
    )
    try:
        registry.validate(claims)
    except JoseError as exc:
        raise TokenError(f"token refused: {type(exc).__name__}: {exc}") from exc
    return claims
