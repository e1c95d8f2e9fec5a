"""Unit tests of the pieces under SEARCH/SORT/THREAD: casemap, base subject, addresses, dates,
sequence sets, charset errors, sort programs and the THREAD renderer."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from pydovecot.imap.protocol.commands import STAR, SearchKey, SequenceSet
from pydovecot.storage.casemap import casemap
from pydovecot.storage.search import (
    BadCharsetError,
    SearchableMessage,
    SearchContext,
    in_sequence_set,
    matches,
    search,
)
from pydovecot.storage.search.addresses import parse_addresses, write_addresses
from pydovecot.storage.search.dates import parse_date_header
from pydovecot.storage.search.message_text import MessageText, casemap_header_value
from pydovecot.storage.sort import SortError, base_subject, parse_sort_program, sort_messages
from pydovecot.storage.thread import ThreadError, ThreadNode, render_threads, thread_messages


@dataclass(frozen=True)
class Msg:
    seq: int
    data: bytes
    uid: int = 0
    flags: frozenset[str] = frozenset()
    keywords: frozenset[str] = frozenset()
    internaldate: int = 0
    savedate: int | None = None
    size: int = 0
    modseq: int = 1

    def raw(self) -> bytes:
        return self.data


def _msg(seq: int, headers: str, body: str = "body\n", **kw: object) -> Msg:
    return Msg(seq, (headers + "\n\n" + body).encode(), uid=seq * 10, **kw)  # type: ignore[arg-type]


def _ctx(count: int = 3, charset: str | None = None) -> SearchContext:
    return SearchContext(messages_count=count, max_uid=count * 10, charset=charset, tz_offset=lambda _: 0)


@pytest.mark.parametrize(
    ("text", "mapped"),
    [
        ("abc", "ABC"),
        ("caf\u00e9", "CAFE\u0301"),
        ("\u01c6", "\u01c5"),  # dz digraph: title case, not upper case
        ("\u00df", "\u00df"),  # no one-to-one title case: kept
        ("\ufb01", "\ufb01"),  # compatibility decomposition is not applied
        ("\u0130", "I\u0307"),
        ("\u043f\u0440\u0438", "\u041f\u0420\u0418"),
    ],
)
def test_casemap(text: str, mapped: str) -> None:
    assert casemap(text) == mapped


@pytest.mark.parametrize(
    ("subject", "base", "reply"),
    [
        ("Re: [fwd: Project plan]", "PROJECT PLAN", True),
        ("Re: Project plan (fwd)", "PROJECT PLAN", True),
        ("[PATCH v2] [fwd: fix bug]", "FIX BUG", True),
        ("RE:re: [list] Weekly   report", "WEEKLY REPORT", True),
        ("Fwd: Re: Fwd: Budget", "BUDGET", True),
        ("[blob only]", "[BLOB ONLY]", False),
        ("Re:", "", True),
        ("", "", False),
        ("=?UTF-8?Q?R=C3=A9union?=", "RE\u0301UNION", False),
    ],
)
def test_base_subject(subject: str, base: str, reply: bool) -> None:
    assert base_subject(subject) == (base, reply)


def test_address_normal_form() -> None:
    value = 'Team: ann@example.com, "Zed" <zed@example.com>;, "Smith, John" <john@x.org>, <@r.ex:u@h>'
    assert write_addresses(parse_addresses(value)) == (
        'Team: <ann@example.com>, Zed <zed@example.com>;, "Smith, John" <john@x.org>, <@r.ex:u@h>'
    )
    assert write_addresses(parse_addresses("Friends: ;")) == "Friends:;"
    (addr,) = parse_addresses("aaron@example.com (Aaron Comment)")
    assert addr.name == "Aaron Comment"
    (addr,) = parse_addresses("(leading) bare@example.com")
    assert addr.name is None
    (addr,) = parse_addresses("justuser")
    assert (addr.mailbox, addr.domain) == ("justuser", "MISSING_DOMAIN")


def test_unknown_charset_word_is_not_normalized() -> None:
    value = "Hello=?utf-8?q?_there?= =?x-unknown?q?abc?= =?utf-8?b?w6k=?="
    assert casemap_header_value(value) == "HELLO THEREabcE\u0301"


@pytest.mark.parametrize(
    ("value", "parsed"),
    [
        ("Mon, 13 Nov 2023 10:00:00 +0100", (1699866000, 60)),
        ("21 Nov 23 23:59:59 -1200", (1700654399, -720)),
        ("Mon, 20 Nov 2023 11:00:00 EST", (1700496000, -300)),
        ("Thu, 07 Dec 2023 9:5 +0000", None),
        ("not a date", None),
        (None, None),
    ],
)
def test_date_header(value: str | None, parsed: tuple[int, int] | None) -> None:
    assert parse_date_header(value) == parsed


def test_sequence_sets_follow_dovecot() -> None:
    assert not in_sequence_set(10, SequenceSet(((100, STAR),)), star=10)
    assert not in_sequence_set(10, SequenceSet(((STAR, 100),)), star=10)
    assert in_sequence_set(7, SequenceSet(((STAR, 5),)), star=10)
    assert in_sequence_set(10, SequenceSet(((200, STAR),)), star=10, uid=True)


def test_bad_charset_raises_before_matching() -> None:
    with pytest.raises(BadCharsetError) as info:
        search(SearchKey("ALL"), [], _ctx(charset="BOGUS"))
    assert info.value.response_code == "BADCHARSET"
    assert search(SearchKey("ALL"), [_msg(1, "Subject: x")], _ctx(charset="ISO-8859-1")) == [1]


def test_protocol_and_basic_keys() -> None:
    msg = _msg(1, "Subject: Hello\nX-Empty:", flags=frozenset({"\\Seen", "\\Recent"}), size=50)
    assert isinstance(msg, SearchableMessage)
    ctx = _ctx()
    assert matches(SearchKey("HEADER", ("X-Empty", "")), msg, ctx)
    assert not matches(SearchKey("HEADER", ("X-Missing", "")), msg, ctx)
    assert not matches(SearchKey("NEW"), msg, ctx)
    assert matches(SearchKey("LARGER", 49), msg, ctx) and not matches(SearchKey("LARGER", 50), msg, ctx)
    assert not matches(SearchKey("SAVEDATESUPPORTED"), msg, ctx)
    assert matches(
        SearchKey("UID", SequenceSet(saved_result=True)), msg, SearchContext(1, 10, frozenset({10}))
    )


def test_sort_program_and_ties() -> None:
    assert parse_sort_program(["REVERSE", "date", "SUBJECT"]) == [("DATE", True), ("SUBJECT", False)]
    for bad in (["REVERSE"], [], ["NOPE"], ["REVERSE", "REVERSE", "DATE"]):
        with pytest.raises(SortError):
            parse_sort_program(bad)
    same = [_msg(i, "Subject: Same\nDate: Mon, 13 Nov 2023 10:00:00 +0000") for i in (1, 2, 3)]
    assert [m.seq for m in sort_messages(same, ["REVERSE", "DATE"])] == [1, 2, 3]


def test_threads_and_rendering() -> None:
    msgs = [
        _msg(1, "Message-ID: <a@x>\nSubject: A\nDate: Mon, 13 Nov 2023 10:00:00 +0000"),
        _msg(
            2, "Message-ID: <b@x>\nReferences: <a@x>\nSubject: Re: A\nDate: Mon, 13 Nov 2023 11:00:00 +0000"
        ),
        _msg(3, "Message-ID: <c@x>\nReferences: <gone@x>\nSubject: C\nDate: Mon, 13 Nov 2023 12:00:00 +0000"),
        _msg(4, "Message-ID: <d@x>\nReferences: <gone@x>\nSubject: D\nDate: Mon, 13 Nov 2023 13:00:00 +0000"),
        _msg(
            5, "Message-ID: <e@x>\nIn-Reply-To: <a@x>\nSubject: Re: A\nDate: Mon, 13 Nov 2023 09:00:00 +0000"
        ),
    ]
    seq = lambda m: m.seq  # noqa: E731
    assert render_threads(thread_messages("REFERENCES", msgs), seq) == "(1 (5)(2))((3)(4))"
    assert render_threads(thread_messages("ORDEREDSUBJECT", msgs), seq) == "(5 (1)(2))(3)(4)"
    assert render_threads(thread_messages("REFS", msgs), seq) == "(1 (5)(2))((3)(4))"
    with pytest.raises(ThreadError):
        thread_messages("NOPE", msgs)
    chain: ThreadNode[Msg] = ThreadNode(msgs[0])
    node = chain
    for m in msgs[1:] * 400:  # a long chain renders without recursion trouble
        node.children.append(ThreadNode(m))
        node = node.children[0]
    assert render_threads([chain], seq).count(" ") == 1600


def test_message_text_parts() -> None:
    raw = (
        b"Content-Type: multipart/mixed; boundary=b\n\npre\n--b\nContent-Type: text/plain\n\none\n"
        b"--b\nContent-Type: image/png\n\nbinary\n--b\nContent-Type: message/rfc822\n\n"
        b"Subject: inner\n\ntwo\n--b--\npost\n"
    )
    text = MessageText(raw)
    assert [t.strip() for t in text.body_texts] == ["one", "two"]
    assert "SUBJECT: INNER" in text.header_text
