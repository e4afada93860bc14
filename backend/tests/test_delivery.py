"""The delivery decisions both of a JSON connection's ways to write follow (transport/delivery.py),
in-process: no socket, no store."""

from __future__ import annotations

from hubbub.chat.hub import RoomEvent
from hubbub.chat.sequencer import Fill, Sequencer
from hubbub.transport.delivery import Action, decide


def cursors(messages: int = 3, changes: int = 5) -> tuple[Sequencer, Sequencer]:
    """A connection in room "r" that has sent messages up to ``messages`` and changes up to ``changes``."""
    sent, changed = Sequencer(), Sequencer()
    sent.join("r", messages)
    changed.join("r", changes)
    return sent, changed


def test_messages_go_in_order_once_and_gaps_are_filled_first() -> None:
    sent, changed = cursors()
    assert decide(RoomEvent("r", "{}", seq=4), sent, changed) is Action.SEND_MESSAGE
    assert decide(RoomEvent("r", "{}", seq=3), sent, changed) is Action.DROP
    assert decide(RoomEvent("r", "{}", seq=7), sent, changed) == Fill("r", 3, 6)
    assert decide(RoomEvent("elsewhere", "{}", seq=1), sent, changed) is Action.DROP


def test_a_change_waits_for_its_message_and_for_the_changes_before_it() -> None:
    sent, changed = cursors()
    # The message it changes has not gone yet: the messages up to it go first.
    assert decide(RoomEvent("r", "{}", seq=5, change=6), sent, changed) == Fill("r", 3, 5)
    assert decide(RoomEvent("r", "{}", seq=2, change=6), sent, changed) is Action.SEND_CHANGE
    assert decide(RoomEvent("r", "{}", seq=2, change=5), sent, changed) is Action.DROP
    assert decide(RoomEvent("r", "{}", seq=2, change=9), sent, changed) is Action.FILL_CHANGES
    assert decide(RoomEvent("elsewhere", "{}", seq=1, change=1), sent, changed) is Action.DROP


def test_notices_go_to_rooms_the_connection_is_in() -> None:
    sent, changed = cursors()
    assert decide(RoomEvent("r", "{}"), sent, changed) is Action.SEND
    assert decide(RoomEvent("elsewhere", "{}"), sent, changed) is Action.DROP
    assert decide(RoomEvent("r", None, text="left the chat"), sent, changed) is Action.DROP  # plain text only


def test_nothing_moves_a_cursor_but_the_writer() -> None:
    sent, changed = cursors()
    decide(RoomEvent("r", "{}", seq=4), sent, changed)
    decide(RoomEvent("r", "{}", seq=2, change=6), sent, changed)
    assert (sent.cursor("r"), changed.cursor("r")) == (3, 5)
