"""One contract, every limiter: this process's memory and a real Redis, each with a clock the
test moves, so that a lock ends, a note runs out and a minute passes when the test says (no
sleep decides anything). Sign-in throttling (auth/throttle.py) on top of both, too."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest

from hubbub.auth.throttle import ADDRESS_MAX_LOCK, KNOWN_FOR, LoginThrottle
from hubbub.limits import Limiter
from hubbub.limits.memory import MemoryLimiter
from hubbub.limits.redis import RedisLimiter
from hubbub.settings import AuthMode, Settings
from tests.test_units import FakeClock


@pytest.fixture(params=["memory", "redis"])
async def limited(request: pytest.FixtureRequest) -> AsyncIterator[tuple[Limiter, FakeClock]]:
    clock = FakeClock(1_700_000_000.0)
    if request.param == "memory":
        yield MemoryLimiter(clock), clock
        return
    limiter = RedisLimiter(request.getfixturevalue("redis_url"), f"test-{uuid.uuid4().hex[:8]}", clock)
    yield limiter, clock
    await limiter.close()


async def test_failures_lock_after_the_free_ones_doubling_up_to_the_cap_and_the_lock_ends(
    limited: tuple[Limiter, FakeClock],
) -> None:
    limiter, clock = limited
    locks = [await limiter.failed("k", free=3, max_lock=5.0) for _ in range(6)]
    assert locks == [0.0, 0.0, 1.0, 2.0, 4.0, 5.0]
    assert await limiter.locked_for(["k"]) == pytest.approx(5.0)
    assert await limiter.locked_for(["other", "k"]) == pytest.approx(5.0)  # the longest of the keys
    clock.advance(4.5)
    assert await limiter.locked_for(["k"]) == pytest.approx(0.5)
    clock.advance(0.5)
    assert await limiter.locked_for(["k"]) == 0.0  # over, to the instant
    await limiter.succeeded("k")
    assert await limiter.failed("k", free=3, max_lock=5.0) == 0.0  # forgotten: free ones again


async def test_a_note_holds_for_its_time_only(limited: tuple[Limiter, FakeClock]) -> None:
    limiter, clock = limited
    assert not await limiter.remembered("n")
    await limiter.remember("n", 10.0)
    clock.advance(9.9)
    assert await limiter.remembered("n")
    clock.advance(0.2)
    assert not await limiter.remembered("n")


async def test_actions_per_minute_are_counted_over_the_last_minute(
    limited: tuple[Limiter, FakeClock],
) -> None:
    limiter, clock = limited
    assert [await limiter.take("a", 3) for _ in range(3)] == [0.0, 0.0, 0.0]
    assert await limiter.take("a", 3) == pytest.approx(60.0)
    clock.advance(20)
    assert await limiter.take("a", 3) == pytest.approx(40.0)  # refused: not counted
    assert await limiter.take("b", 3) == 0.0  # another key counts for itself
    clock.advance(40)
    assert await limiter.take("a", 3) == 0.0


def throttle_of(limiter: Limiter, max_lock: int = 900) -> LoginThrottle:
    settings = Settings(auth=AuthMode.PASSWORD, login_max_failures=5, login_lockout_max_seconds=max_lock)
    return LoginThrottle(limiter, settings)


async def test_a_sign_in_lock_by_name_and_address_ends_at_its_cap(limited: tuple[Limiter, FakeClock]) -> None:
    """What test_hardening's over-HTTP test cannot wait for: the lock it saw ends."""
    limiter, clock = limited
    throttle = throttle_of(limiter, max_lock=3)
    for _ in range(8):  # a guess as soon as each lock ends: 1 s, 2 s, then the cap
        clock.advance(await throttle.wait("ada", "10.0.0.1"))
        await throttle.failed("ada", "10.0.0.1")
    assert await throttle.wait("ada", "10.0.0.1") == pytest.approx(3.0)
    assert await throttle.wait("ada", "10.0.0.2") == 0.0  # from elsewhere: not locked out
    clock.advance(3.0)
    assert await throttle.wait("ada", "10.0.0.1") == 0.0


async def test_an_address_is_throttled_for_a_minute_at_most_and_not_for_names_known_there(
    limited: tuple[Limiter, FakeClock],
) -> None:
    limiter, clock = limited
    throttle = throttle_of(limiter)  # a 900 s lockout by name and address
    await throttle.succeeded("bob", "10.0.0.9")  # bob signed in from the office before
    for i in range(40):  # someone there guesses at 40 names, each within its own free failures
        await throttle.failed(f"u{i}", "10.0.0.9")
    carol = await throttle.wait("carol", "10.0.0.9")
    assert 1.0 <= carol <= ADDRESS_MAX_LOCK
    assert await throttle.wait("bob", "10.0.0.9") == 0.0
    assert await throttle.wait("carol", "10.0.0.10") == 0.0
    clock.advance(carol)
    assert await throttle.wait("carol", "10.0.0.9") == 0.0
    # Known for KNOWN_FOR only: after that, bob is a name new to the address again.
    await throttle.failed("u99", "10.0.0.9")
    clock.advance(KNOWN_FOR - carol)
    for i in range(40):
        await throttle.failed(f"v{i}", "10.0.0.9")
    assert await throttle.wait("bob", "10.0.0.9") > 0.0
