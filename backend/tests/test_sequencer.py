"""The per-room cursor rules on their own: no sockets, no store."""

from __future__ import annotations

from hubbub.chat.sequencer import Fill, Sequencer, Verdict, start_cursor


def test_in_order_messages_are_sent_and_advance_the_cursor() -> None:
    rooms = Sequencer()
    rooms.join("r", 0)
    for seq in (1, 2, 3):
        assert rooms.offer("r", seq) is Verdict.SEND
        rooms.sent("r", seq)
    assert rooms.cursor("r") == 3


def test_duplicates_and_rooms_not_joined_are_dropped() -> None:
    rooms = Sequencer()
    assert rooms.offer("r", 1) is Verdict.DROP  # not joined
    rooms.join("r", 5)
    assert rooms.offer("r", 5) is Verdict.DROP
    assert rooms.offer("r", 2) is Verdict.DROP
    rooms.leave("r")
    assert rooms.offer("r", 6) is Verdict.DROP


def test_a_message_ahead_of_the_cursor_asks_for_the_gap_first() -> None:
    rooms = Sequencer()
    rooms.join("r", 2)
    assert rooms.offer("r", 6) == Fill("r", 2, 5)
    # The fill sends 3..5 through the same rules; then 6 is next, and late copies are dropped.
    for seq in (3, 4, 5):
        assert rooms.offer("r", seq) is Verdict.SEND
        rooms.sent("r", seq)
    assert rooms.offer("r", 6) is Verdict.SEND
    rooms.sent("r", 6)
    assert [rooms.offer("r", seq) for seq in (3, 4, 5, 6)] == [Verdict.DROP] * 4


def test_reordered_arrivals_go_out_in_order_once() -> None:
    rooms = Sequencer()
    rooms.join("r", 0)
    sent: list[int] = []
    store = [1, 2, 3, 4]
    for seq in (3, 1, 4, 2):
        verdict = rooms.offer("r", seq)
        if isinstance(verdict, Fill):
            assert verdict.upto is not None
            for stored in store:
                if verdict.after < stored <= verdict.upto:
                    assert rooms.offer("r", stored) is Verdict.SEND
                    rooms.sent("r", stored)
                    sent.append(stored)
            verdict = rooms.offer("r", seq)
        if verdict is Verdict.SEND:
            rooms.sent("r", seq)
            sent.append(seq)
    assert sent == [1, 2, 3, 4]


def test_catch_up_after_broker_loss_starts_at_the_cursor() -> None:
    rooms = Sequencer()
    assert rooms.catch_up("r") is None
    rooms.join("r", 7)
    assert rooms.catch_up("r") == Fill("r", 7, None)
    assert list(rooms) == ["r"]
    rooms.leave("r")
    assert "r" not in rooms


def test_start_cursor_first_visit_resume_and_truncation() -> None:
    assert start_cursor(head=120, after=None, page_size=50, resume_max=1000) == (70, False)
    assert start_cursor(head=20, after=None, page_size=50, resume_max=1000) == (0, False)
    assert start_cursor(head=120, after=100, page_size=50, resume_max=1000) == (100, False)
    assert start_cursor(head=120, after=500, page_size=50, resume_max=1000) == (120, False)  # past head
    assert start_cursor(head=5000, after=10, page_size=50, resume_max=1000) == (4000, True)
