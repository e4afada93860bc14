"""What a JSON connection does with one room event, decided once for both of its ways to write:
straight to the socket (JsonSession._write_now) and through its queue (JsonSession._write).
Pure: it reads the connection's two cursors (chat/sequencer.py) and changes nothing.

The rules: a message is sent in seq order, once, after filling any gap from the store; a
change to a message is sent in change order, once, and never before the message itself (a
change to message N waits for messages up to N); presence, typing and room notices go to a
room the connection is in. Nothing goes to a room it left.
"""

from __future__ import annotations

from enum import Enum

from hubbub.chat.hub import RoomEvent
from hubbub.chat.sequencer import Fill, Sequencer, Verdict


class Action(Enum):
    SEND_MESSAGE = "send message"  # write it, then the message cursor moves to its seq
    SEND_CHANGE = "send change"  # write it, then the change cursor moves to its number
    SEND = "send"  # write it (presence, typing, a notice): no cursor moves
    DROP = "drop"  # already sent, or not for this connection
    FILL_CHANGES = "fill changes"  # bring the changes up to date from the store first


# Module-level names for the members: Action.X is an attribute lookup through the Enum's
# metaclass (~130 ns on CPython 3.11), and this runs once per delivery.
SEND_MESSAGE, SEND_CHANGE, SEND, DROP, FILL_CHANGES = (
    Action.SEND_MESSAGE,
    Action.SEND_CHANGE,
    Action.SEND,
    Action.DROP,
    Action.FILL_CHANGES,
)
_SENDABLE, _DUPLICATE = Verdict.SEND, Verdict.DROP  # the same, for the sequencer's verdicts


def decide(event: RoomEvent, messages: Sequencer, changes: Sequencer) -> Action | Fill:
    """The next step for the event: an Action, or a Fill of messages from the store to do
    first (then decide again)."""
    room, seq, change = event.room, event.seq, event.change
    if event.frame is None:
        return DROP  # nothing for this protocol
    if change is None and seq is not None:  # a message, the common case
        verdict = messages.offer(room, seq)
        if verdict is _SENDABLE:
            return SEND_MESSAGE
        return verdict if isinstance(verdict, Fill) else DROP
    if room not in messages:
        return DROP
    if seq is None or change is None:  # presence, typing, room notices
        return SEND
    cursor = messages.cursor(room)
    if cursor is not None and seq > cursor:
        return Fill(room, cursor, seq)  # a change to a message not sent yet: the message first
    verdict = changes.offer(room, change)
    if verdict is _SENDABLE:
        return SEND_CHANGE
    return DROP if verdict is _DUPLICATE else FILL_CHANGES


# A change may need the messages up to it, then the changes before it, then goes: three steps.
MOST_STEPS = 3
