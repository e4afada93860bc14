"""A quote is not a mention: replying to a message does not ping everyone it pinged."""

from __future__ import annotations

from hubbub.chat import mentions


def resolve(body: str, members: set[str]) -> list[str]:
    return mentions.resolve(body, members)


def test_mentions_inside_quoted_lines_do_not_count() -> None:
    members = {"ada", "bob", "Mary Ann"}
    reply = "> @ada can you look at this?\n> and @Mary Ann too\n\n@bob on it"
    assert resolve(reply, members) == ["bob"]
    assert resolve(">> nested @ada\n  > indented @bob", members) == []
    assert not mentions.mentions_room("> @room heads up\n\nthanks")
    assert mentions.mentions_room("@room heads up")


def test_a_greater_than_sign_inside_a_line_is_not_a_quote() -> None:
    assert resolve("2 > 1, right @ada?", {"ada"}) == ["ada"]
    assert resolve("@ada\n> quoted\n@bob", {"ada", "bob"}) == ["ada", "bob"]
