"""People's pure parts: the shipped list of common passwords is the pinned package's, the
password and profile rules, who decides roles in each mode, the accounts envelope."""

from __future__ import annotations

import pytest

from hubbub.auth import passwords
from hubbub.chat import envelope
from hubbub.model import ProfileChange, ProfileRuleError
from hubbub.people.profiles import checked
from hubbub.people.roles import role_source
from hubbub.settings import Settings


def test_the_common_passwords_are_zxcvbns_first_ten_thousand() -> None:
    from zxcvbn.frequency_lists import FREQUENCY_LISTS  # type: ignore[import-untyped]

    assert passwords.common_passwords() == frozenset(FREQUENCY_LISTS["passwords"][: passwords.COMMON_COUNT])
    assert len(passwords.common_passwords()) == 10_000


@pytest.mark.parametrize(
    ("password", "why"),
    [
        ("short", "at least 10"),
        ("x" * 1025, "at most 1024"),
        ("Password123", "most common"),
        ("1234567890", "most common"),
        ("samantha-x", None),
        ("SAMANTHA-X", None),
        ("correct horse battery", None),
    ],
)
def test_password_rules(password: str, why: str | None) -> None:
    if why is None:
        passwords.check_password(password, "sam", 10)
        return
    with pytest.raises(ProfileRuleError, match=why):
        passwords.check_password(password, "sam", 10)


def test_a_password_may_not_be_the_name() -> None:
    with pytest.raises(ProfileRuleError, match="user name"):
        passwords.check_password("Samantha-Jones", "samantha-jones", 10)


def test_profile_fields_come_out_in_one_form() -> None:
    change = checked(ProfileChange("\uff21nn", "🎉", "  away\n\tfor  lunch ", "Europe/Paris"))
    assert change == ProfileChange("Ann", "🎉", "away for lunch", "Europe/Paris")
    assert checked(ProfileChange()) == ProfileChange()
    for bad in (
        ProfileChange(display_name="\u0430nn and ann"),
        ProfileChange(status_emoji="x"),
        ProfileChange(status_text="\u202etxt"),
        ProfileChange(time_zone="Nowhere/Town"),
    ):
        with pytest.raises(ProfileRuleError):
            checked(bad)


@pytest.mark.parametrize(
    ("env", "source"),
    [
        ({"auth": "password"}, "hubbub"),
        ({"auth": "none"}, "nobody"),
        ({"auth": "token", "tokens": {"t-0123456789": "ann"}}, "tokens"),
        ({"auth": "jwt", "jwt_secret": "s" * 32}, "hubbub"),
        ({"auth": "jwt", "jwt_secret": "s" * 32, "jwt_admin_claim": "roles"}, "provider"),
    ],
)
def test_one_source_of_roles_per_mode(env: dict[str, object], source: str) -> None:
    assert role_source(Settings(**env)) == source  # type: ignore[arg-type]


def test_the_accounts_envelope_round_trips() -> None:
    item = envelope.AccountsChanged()
    assert envelope.decode(envelope.encode(item)) == item
