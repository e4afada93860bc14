"""Every tab's room list follows the user's rooms as they change, on both workers: joining a
public room tells the user's other connections (room_added), and leaving or being removed
tells the connections that never joined the room too (removed)."""

from __future__ import annotations

from tests.people import As, servers
from tests.services import HubbubServer

__all__ = ["servers"]  # a fixture


async def test_joining_and_leaving_reach_every_tab(servers: tuple[HubbubServer, HubbubServer]) -> None:
    a, b = servers
    olga, mike = As(a, "olga"), As(b, "mike")
    assert olga.post("/api/rooms", {"name": "town", "topic": "news"}).status_code == 201
    reading, elsewhere = await mike.socket(), await As(a, "mike").socket()  # two tabs, two workers
    await reading.join("town")
    added = await elsewhere.skip_to("room_added")
    assert (added["room"], added["visibility"], added["topic"]) == ("town", "public", "news")
    assert mike.delete("/api/rooms/town/members/mike").status_code == 204
    for tab in (reading, elsewhere):
        removed = await tab.skip_to("removed")
        assert (removed["room"], removed["reason"]) == ("town", "left")
    await reading.join("town")
    await elsewhere.skip_to("room_added")
    assert olga.delete("/api/rooms/town/members/mike").status_code == 204
    for tab in (reading, elsewhere):
        removed = await tab.skip_to("removed")
        assert (removed["room"], removed["reason"]) == ("town", "removed")
    # Joined once more, the tab that never opened the room hears nothing of its messages.
    await reading.join("town")
    owner = await olga.socket()
    await owner.join("town")
    await owner.say("hello town", room="town")
    assert [m["body"] for m in await reading.messages(1, room="town")] == ["hello town"]
    assert [f for f in await elsewhere.quiet(0.5) if f["type"] == "message"] == []
