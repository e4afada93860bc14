"""Passwords: argon2 hashes, and the rules a new one must pass (a minimum length, not one of
the 10,000 most common, not the user's name).

The list of common passwords ships with the package (common_passwords.txt: zxcvbn's list,
pinned); it is read on first use, about 80 KB.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
from importlib import resources

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from hubbub.model import ProfileRuleError

MAX_LENGTH = 1024
COMMON_COUNT = 10_000
_hasher = PasswordHasher()
# Verifying against this for unknown users keeps the response time from telling who exists.
DUMMY_HASH = _hasher.hash("hubbub-dummy-password")


@functools.cache
def common_passwords() -> frozenset[str]:
    text = resources.files("hubbub.auth").joinpath("common_passwords.txt").read_text()
    return frozenset(line for line in text.splitlines() if line and not line.startswith("#"))


def check_password(password: str, name: str, min_length: int) -> None:
    """Raise ProfileRuleError (its text safe to show) when the password may not be used."""
    if len(password) < min_length:
        raise ProfileRuleError(f"passwords must be at least {min_length} characters long")
    if len(password) > MAX_LENGTH:
        raise ProfileRuleError(f"passwords may be at most {MAX_LENGTH} characters long")
    if password.casefold() == name.casefold():
        raise ProfileRuleError("a password may not be the user name")
    if password.casefold() in common_passwords():
        raise ProfileRuleError("that password is one of the 10,000 most common; pick another")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


async def verify(password_hash: str | None, password: str) -> bool:
    """Whether the password matches; with no hash, the same work for a False (argon2 is slow
    on purpose: off the event loop, so other users are not held up)."""
    try:
        await asyncio.to_thread(_hasher.verify, password_hash or DUMMY_HASH, password)
    except (VerificationError, InvalidHashError):
        return False
    return password_hash is not None


def fingerprint(entry: str) -> str:
    """What a session keeps of the password it was made from: the digest of its hash, which
    changes with every new password (argon2 salts each hash)."""
    return hashlib.blake2b(entry.encode(), digest_size=16, person=b"hubbub-passwd").hexdigest()


def _write_list() -> None:
    from pathlib import Path

    from zxcvbn.frequency_lists import FREQUENCY_LISTS  # type: ignore[import-untyped]

    words = FREQUENCY_LISTS["passwords"][:COMMON_COUNT]
    path = Path(__file__).with_name("common_passwords.txt")
    header = (
        "# The 10,000 most common passwords, most common first: the first 10,000 of the 'passwords'\n"
        "# frequency list of zxcvbn 4.5.0 (PyPI, MIT licence; Dropbox's list). Regenerate with\n"
        "# scripts/common-passwords; tests/test_people_units.py checks it against the pinned package.\n"
    )
    path.write_text(header + "".join(f"{word}\n" for word in words))


if __name__ == "__main__":
    import sys

    if sys.argv[1:] == ["--write-list"]:
        _write_list()
