"""Failed sign-ins slow the next ones down, on every worker that shares the limiter (Redis when
configured). Locked by name and address, throttled by address:

- this name from this address: HUBBUB_LOGIN_MAX_FAILURES free, then locked 1 s, doubling with
  each further failure up to HUBBUB_LOGIN_LOCKOUT_MAX_SECONDS. Guessing one account from one
  place stops here;
- this address, any names: six times as many free, then a throttle: 1 s doubling, never more
  than a minute (ADDRESS_MAX_LOCK). It slows guessing many accounts from one place; and it
  does not hold off a name that has signed in from this address before (for KNOWN_FOR): behind
  a shared NAT or proxy, one person's failures do not lock everyone else out, only slow down
  names new to the address;
- this name, from anywhere: ten times as many free, and never more than a minute: it slows a
  guess spread over many addresses, while the account's owner, signing in from elsewhere, is
  never held off for long.

Attempts while locked or throttled are refused unseen (429 + Retry-After), so they neither
count nor extend the wait. A success forgets the name's counts, not the address's: one good
account does not buy an address more guesses at others.
"""

from __future__ import annotations

from hubbub.limits import Limiter
from hubbub.settings import Settings

NAME_ANYWHERE_MAX_LOCK = 60.0
ADDRESS_MAX_LOCK = 60.0
KNOWN_FOR = 30 * 86_400.0  # seconds a name that signed in from an address is known there


class LoginThrottle:
    def __init__(self, limiter: Limiter, settings: Settings) -> None:
        self._limiter = limiter
        self._free = settings.login_max_failures
        self._max_lock = settings.login_lockout_max_seconds

    @staticmethod
    def _keys(name: str | None, address: str) -> tuple[str | None, str, str | None]:
        folded = name.casefold()[:64] if name else None
        pair = f"login:pair:{folded}|{address}" if folded else None
        anywhere = f"login:name:{folded}" if folded else None
        return pair, f"login:addr:{address}", anywhere

    async def wait(self, name: str | None, address: str) -> float:
        """Seconds before this name may try again from this address; 0 when it may now."""
        pair, by_address, anywhere = self._keys(name, address)
        keys = [key for key in (pair, anywhere) if key]
        if pair is None or not await self._limiter.remembered(_known(pair)):
            keys.append(by_address)
        return await self._limiter.locked_for(keys)

    async def failed(self, name: str | None, address: str) -> None:
        pair, by_address, anywhere = self._keys(name, address)
        if pair is not None:
            await self._limiter.failed(pair, self._free, self._max_lock)
        await self._limiter.failed(by_address, self._free * 6, min(self._max_lock, ADDRESS_MAX_LOCK))
        if anywhere is not None:
            await self._limiter.failed(anywhere, self._free * 10, min(self._max_lock, NAME_ANYWHERE_MAX_LOCK))

    # Invitation tokens guessed from an address: counted apart from sign-ins, so that a wrong
    # link an office shares does not lock its address out of signing in.
    async def invite_wait(self, address: str) -> float:
        return await self._limiter.locked_for([f"invite:addr:{address}"])

    async def invite_failed(self, address: str) -> None:
        await self._limiter.failed(f"invite:addr:{address}", self._free * 6, self._max_lock)

    async def succeeded(self, name: str | None, address: str) -> None:
        pair, _by_address, anywhere = self._keys(name, address)
        for key in (pair, anywhere):
            if key is not None:
                await self._limiter.succeeded(key)
        if pair is not None:
            await self._limiter.remember(_known(pair), KNOWN_FOR)


def _known(pair: str) -> str:
    """The note that a name signed in from an address, from their pair's key."""
    return pair.replace("login:pair:", "login:known:", 1)
