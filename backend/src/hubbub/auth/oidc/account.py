"""Who an identity provider's account is in Hubbub: its name (HUBBUB_OIDC_USER_CLAIM, else
its subject), whether it is an admin, and whether it may sign in at all (the allowed email
domains). Pure: the claims in, an Account or a refusal out."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from hubbub.auth.base import admin_by_claim
from hubbub.auth.names import NameError_, chosen_name
from hubbub.contract.rest import SignInError
from hubbub.settings import Settings


class SignInRefusedError(Exception):
    """The sign-in ends here: ``code`` is what the user is told (SignInError), the message what
    the log says."""

    def __init__(self, code: SignInError, reason: str) -> None:
        super().__init__(reason)
        self.code = code


@dataclass(frozen=True, slots=True)
class Account:
    issuer: str
    subject: str
    name: str  # the name it asks for; the one it gets is the one bound to it (Store.bind_identity)
    admin: bool


def account_of(claims: dict[str, Any], settings: Settings) -> Account:
    subject = claims.get("sub")
    issuer = claims.get("iss")
    if not isinstance(subject, str) or not subject or not isinstance(issuer, str):
        raise SignInRefusedError(SignInError.INVALID_TOKEN, "the ID token has no sub or iss")
    wanted = claims.get(settings.oidc_user_claim)
    if wanted is None or wanted == "":
        wanted = subject
    if not isinstance(wanted, str):
        raise SignInRefusedError(
            SignInError.NAME_INVALID, f"claim {settings.oidc_user_claim!r} is not a string"
        )
    try:
        # The provider's users may have picked their names themselves (self-registration):
        # the rules for a chosen name, so that none passes for another in a second script.
        name = chosen_name(wanted)
    except NameError_ as exc:
        raise SignInRefusedError(SignInError.NAME_INVALID, f"user name {wanted[:64]!r}: {exc}") from exc
    if settings.oidc_allowed_email_domains:
        check_email(claims, settings.oidc_allowed_email_domains)
    admin = admin_by_claim(claims, settings.oidc_admin_claim, settings.oidc_admin_value)
    return Account(issuer, subject, name, admin)


def check_email(claims: dict[str, Any], domains: list[str]) -> None:
    """A verified address in one of the domains (exactly: not a subdomain). An unverified one
    proves nothing: on many providers users type in whatever address they like."""
    email = claims.get("email")
    verified = claims.get("email_verified")
    if not isinstance(email, str) or "@" not in email:
        raise SignInRefusedError(SignInError.EMAIL_DOMAIN, "no email address among the claims")
    if verified is not True and verified != "true":  # some providers send the string
        raise SignInRefusedError(SignInError.EMAIL_DOMAIN, "the email address is not verified")
    domain = email.rpartition("@")[2].lower().rstrip(".")
    if domain not in domains:
        raise SignInRefusedError(SignInError.EMAIL_DOMAIN, f"email domain {domain[:100]!r} is not allowed")
