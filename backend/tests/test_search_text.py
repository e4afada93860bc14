"""Search's text, with no database: folding (and its map back to the original), the grams an
index holds, the language (and what it does with abuse), and the match offsets."""

from __future__ import annotations

import dataclasses
import datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hubbub.model import FileInfo, SearchQueryError, StoredMessage
from hubbub.search.fold import fold, fold_mapped, utf16_offsets
from hubbub.search.marks import MAX_MARKS, marks
from hubbub.search.query import MAX_QUERY_CHARS, MAX_TERM_CHARS, MAX_TERMS, Term, parse
from hubbub.search.terms import grams, kinds, term_grams, unspaced

# Text that exercises folding: accents in both forms, ligatures, full-width, kana and Hangul in
# both forms, spaces and controls, emoji with selectors and joiners, scripts whose marks stay.
PIECES = [
    "e\u0301",
    "é",
    "ß",
    "ẞ",
    "İ",
    "ﬁ",
    "Ａ",  # noqa: RUF001
    "ｶ\uff9e",
    "か\u3099",
    "が",
    "\u1100\u1161",
    "가",
    "한",
    " ",
    "\t\n",
    "\x00",
    "\u00a0",
    "\u00ad",
    "❤\ufe0f",
    "👍🏽",
    "👩\u200d💻",
    "ก\u0e34",
    "क\u094d",
    "ש\u05b8",
    "¨",
    "\u0301",
    "Ω",
    "x",
    "上海",
]


@settings(max_examples=400, derandomize=True)
@given(st.lists(st.one_of(st.sampled_from(PIECES), st.text(max_size=3)), max_size=12))
def test_the_mapped_fold_is_the_fold(parts: list[str]) -> None:
    text = "".join(parts)
    folded, spans = fold_mapped(text)
    assert folded == fold(text)
    assert len(spans) == len(folded)
    # Each folded character comes from a span of the original, in order, and the spans cover
    # the original without gaps where anything was kept.
    assert all(0 <= start < end <= len(text) for start, end in spans)
    assert [start for start, _ in spans] == sorted(start for start, _ in spans)


@pytest.mark.parametrize(
    ("text", "folded"),
    [
        ("Hôtel", "hotel"),
        ("Straße", "strasse"),
        ("ＡＢＣ", "abc"),  # noqa: RUF001
        ("ﬁnance", "finance"),
        ("e\u0301te\u0301", "ete"),
        ("İstanbul", "istanbul"),
        ("ｶﾞｷ", "ガキ"),
        ("か\u3099", "が"),  # a voicing mark is part of the kana, not an accent
        ("ภาษา", "ภาษา"),  # Thai vowels stay
        ("שָׁלוֹם", "שלום"),
        ("a \t\n\x00 b", "a b"),
        ("soft\u00adhyphen", "softhyphen"),
        ("❤\ufe0f", "❤"),
    ],
)
def test_folding(text: str, folded: str) -> None:
    assert fold(text) == folded


def test_utf16_offsets_count_what_javascript_counts() -> None:
    assert utf16_offsets("a😀b") == [0, 1, 3, 4]


def test_grams() -> None:
    assert grams("abcd") == {"abc", "bcd"}
    assert grams("ab") == set()
    assert grams("上海市 ok") == {"上海市", "海市 ", "市 o", " ok", "上", "海", "市", "上海", "海市"}
    assert term_grams("上海") == {"上海"} and term_grams("猫") == {"猫"}
    assert term_grams("ok") == set() and term_grams("上a") == set()
    assert term_grams("hotel") == {"hot", "ote", "tel"}
    assert unspaced("ー") and unspaced("한") and unspaced("ไ") and not unspaced("a") and not unspaced("é")


def test_the_language() -> None:
    query = parse(
        'Deploy "Exact  Phrase" -draft -"work in progress" hot* from:@alice from:bob in:#Town '
        "has:LINK is:mentioned before:2026-11-30 after:2026-11-01"
    )
    assert query.include == (Term("deploy"), Term("exact phrase"), Term("hot", prefix=True))
    assert query.exclude == (Term("draft"), Term("work in progress"))
    assert query.authors == {"alice", "bob"} and query.rooms == {"town"}
    assert query.has == {"link"} and query.mentioned
    day = 86_400_000
    nov_30 = int(datetime.datetime(2026, 11, 30, tzinfo=datetime.UTC).timestamp() * 1000)
    assert query.before == nov_30
    assert query.after == nov_30 - 29 * day + day  # from the start of the day after Nov 1
    # Dates are the caller's days: in UTC+2 a day starts two hours earlier.
    assert parse("before:2026-11-30", offset_minutes=120).before == nov_30 - 2 * 3_600_000


def test_prefix_only_where_a_word_starts() -> None:
    term = Term("hot", prefix=True)
    assert term.found_in("hotel") and term.found_in("a hotel") and term.found_in("(hotel")
    assert not term.found_in("shot") and term.found_in("shot hot")
    assert list(term.occurrences("hot shothot hot")) == [0, 12]


@pytest.mark.parametrize(
    ("text", "include", "exclude"),
    [
        ('"unclosed quote', ["unclosed quote"], []),
        ('say "hi', ["say", "hi"], []),
        ("a OR b AND NOT c", ["a", "or", "b", "and", "not", "c"], []),
        ("NEAR(a b) title:x ^y col:z", ["near(a", "b)", "title:x", "^y", "col:z"], []),
        ("* ** -", ["*", "-"], []),
        ("-*", [], ["*"]),
        ("x\x00y \x00", ["x", "y"], []),
        ("🎉 👍🏽", ["🎉", "👍🏽"], []),
        ("from: in: has:", ["from:", "in:", "has:"], []),
        ("http://example.com", ["http://example.com"], []),
    ],
)
def test_abuse_is_text(text: str, include: list[str], exclude: list[str]) -> None:
    query = parse(text)
    assert [t.text for t in query.include] == include
    assert [t.text for t in query.exclude] == exclude


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("", "nothing to search for"),
        ('"" \x00 \u0301', "nothing to search for"),
        (" ".join(["w"] * 10_000)[:MAX_QUERY_CHARS], f"at most {MAX_TERMS} words"),
        (" ".join(["w"] * 10_000), f"at most {MAX_QUERY_CHARS} characters"),
        ("x" * (MAX_TERM_CHARS + 1), f"at most {MAX_TERM_CHARS} characters"),
        ("has:pdf", "has: takes link, file"),
        ("is:online", "is: takes mentioned"),
        ("before:yesterday", "before: takes a date like 2026-11-30"),
        ("after:2026-13-01", "after: takes a date"),
        ("after:20261101", "after: takes a date"),
        ("-from:alice", "-from: is not supported"),
    ],
)
def test_refused(text: str, says: str) -> None:
    with pytest.raises(SearchQueryError, match=says):
        parse(text)


def test_marks() -> None:
    body = "Das Hôtel, Straße ist lang 😀 hotline"
    found = marks(body, parse('hotel "strasse ist" hot*'))
    assert [_join(body_utf16(body)[s : s + n]) for s, n in found] == ["Hôtel", "Straße ist", "hot"]
    assert found[2] == (30, 3)  # after the emoji's two UTF-16 units
    assert marks(body, parse("-hotel from:alice")) == []  # exclusions and operators: no marks
    assert marks("e\u0301te\u0301", parse("ete")) == [(0, 5)]  # whole characters, marks and all
    assert marks("stra\u00dfe", parse("stras")) == [(0, 5)]  # "ß" is "ss": it takes all of it
    assert marks("aaaa", parse("aa")) == [(0, 4)]  # touching matches merge
    assert len(marks("x " * 200, parse("x"))) == MAX_MARKS


def body_utf16(text: str) -> list[str]:
    """The text as JavaScript indexes it: one entry per UTF-16 code unit."""
    units: list[str] = []
    for ch in text:
        units += [ch, ""] if ord(ch) > 0xFFFF else [ch]
    return units


def _join(units: list[str]) -> str:
    return "".join(units)


def test_what_a_message_has() -> None:
    plain = StoredMessage(room="r", seq=1, id="a", author="ann", body="see the plan", ts=0)
    linked = dataclasses.replace(plain, body="see https://example.com")
    attached = dataclasses.replace(
        plain, files=(FileInfo(id="f", name="plan.pdf", size=3, type="application/pdf"),)
    )
    assert [kinds(m, fold(m.body)) for m in (plain, linked, attached)] == [(), ("link",), ("file",)]
    assert parse("has:file plan").has == {"file"}
