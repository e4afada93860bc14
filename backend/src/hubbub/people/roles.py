"""Who decides who is an admin: exactly one source per deployment, by auth mode.

- password: Hubbub signs people up (the first-run screen, invitations, `hubbub add-user`),
  and Hubbub's database holds the role: the admin page, `hubbub add-user --admin`,
  `hubbub set-role`.
- token: the operator's tokens configuration makes users, and its grant (`admin`) the role;
  read-only on the admin page.
- jwt, oidc: the identity provider signs people up (oidc: their first sign-in makes the
  account); the role is its claim where HUBBUB_JWT_ADMIN_CLAIM / HUBBUB_OIDC_ADMIN_CLAIM names
  one, else Hubbub's database, as in password mode.
- proxy: the authenticating proxy signs people in (its user header) and says nothing of roles:
  Hubbub's database holds them, as in password mode.
- none: a name picked at sign-in vouches for no one: nobody is an admin.

Where the credential decides, Hubbub copies the role it carries into its database when it
sees it (the admin page lists it, and counts admins by it); where Hubbub decides, a role
change reaches open sockets at once, without a new sign-in. Deactivation and profiles are
Hubbub's in every mode.
"""

from __future__ import annotations

from typing import Literal, assert_never

from hubbub.settings import AuthMode, Settings

RoleSource = Literal["hubbub", "tokens", "provider", "nobody"]


def role_source(settings: Settings) -> RoleSource:
    match settings.auth:
        case AuthMode.PASSWORD:
            return "hubbub"
        case AuthMode.TOKEN:
            return "tokens"
        case AuthMode.JWT:
            return "provider" if settings.jwt_admin_claim is not None else "hubbub"
        case AuthMode.OIDC:
            return "provider" if settings.oidc_admin_claim is not None else "hubbub"
        case AuthMode.PROXY:
            return "hubbub"
        case AuthMode.NONE:
            return "nobody"
    assert_never(settings.auth)
