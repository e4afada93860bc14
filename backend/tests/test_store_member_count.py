"""The store contract for member counts (RoomInfo.member_count), in every store: what Browse
rooms shows beside each room. The fixtures are the store contract suite's."""

from __future__ import annotations

from hubbub.store import PUBLIC, NewRoom, Store
from tests.test_store_contract import store, store_url

__all__ = ["store", "store_url"]  # fixtures, used by name


async def test_every_room_answer_counts_its_members(store: Store) -> None:
    await store.ensure_room("general")
    await store.create_room(NewRoom("town", PUBLIC, "olga", ("olga",)))
    await store.add_members("town", ["mike", "nina"])
    listed = {r.name: r.member_count for r in await store.rooms_for("mike")}
    assert listed == {"general": 0, "town": 3}
    town = await store.room("town", None)
    assert town is not None and town.member_count == 3
    await store.remove_member("town", "nina")
    assert [r.member_count for r in await store.rooms_for(None) if r.name == "town"] == [2]
    await store.update_room("town", None, True)
    archived = {r.name: r.member_count for r in await store.rooms_for("olga", archived=True)}
    assert archived == {"general": 0, "town": 2}
