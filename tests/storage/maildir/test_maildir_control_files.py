"""dovecot-keywords, subscriptions and dovecot-uidvalidity: goldens from Dovecot 2.3.19
and the rules its readers and writers follow."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pydovecot.storage.maildir import keywords as kw
from pydovecot.storage.maildir import subscriptions as subs
from pydovecot.storage.maildir import uidvalidity as uv

GOLDENS = Path(__file__).parent / "goldens"


# --- dovecot-keywords -------------------------------------------------------------------------


@pytest.mark.parametrize("path", sorted((GOLDENS / "keywords").iterdir()), ids=lambda p: p.name)
def test_keywords_golden_round_trip(path: Path) -> None:
    data = path.read_bytes()
    assert kw.parse_keywords(data).to_bytes() == data


def test_keywords_golden_meaning() -> None:
    table = kw.parse_keywords((GOLDENS / "keywords" / "inbox.keywords").read_bytes())
    assert table.names == ("$Forwarded", "Junk", "NonJunk")
    assert table.letter_of("junk") == "b"  # case-insensitive, like Dovecot
    assert table.name_for_letter("c") == "NonJunk"
    assert table.name_for_letter("d") is None


def test_keywords_reader_rules() -> None:
    table = kw.parse_keywords(
        b"garbage\n2 Two\n26 TooHigh\n-1 Neg\n+3 Plus\n4 \n0 Zero\n2 TwoAgain\n5 Partial"
    )
    assert table.names == ("Zero", None, "TwoAgain")
    assert table.to_bytes() == b"0 Zero\n2 TwoAgain\n"


def test_keywords_allocation() -> None:
    table, index = kw.Keywords((None, "B")).with_keyword("$Label1")
    assert (index, table.names) == (0, ("$Label1", "B"))
    assert table.with_keyword("$label1")[1] == 0
    full = kw.Keywords(tuple(f"k{i}" for i in range(26)))
    assert full.with_keyword("another") == (full, None)
    placeheld, name = kw.Keywords(("unknown-3",)).with_placeholder(3)
    assert name == "unknown-3?" and placeheld.names[3] == "unknown-3?"


def test_write_keywords_replaces_and_grows_mtime(tmp_path: Path) -> None:
    (tmp_path / "dovecot-keywords.lock").write_text("left behind")
    kw.write_keywords(str(tmp_path), kw.Keywords(("$Junk", None, "x")))
    path = tmp_path / "dovecot-keywords"
    assert path.read_bytes() == b"0 $Junk\n2 x\n"
    assert not (tmp_path / "dovecot-keywords.lock").exists()
    first = int(path.stat().st_mtime)
    kw.write_keywords(str(tmp_path), kw.Keywords(("$Junk",)))
    assert int(path.stat().st_mtime) > first
    assert kw.read_keywords(str(tmp_path)).names == ("$Junk",)
    assert kw.read_keywords(str(tmp_path / "missing")).names == ()


@given(
    st.lists(
        st.none()
        | st.text(
            alphabet=st.characters(min_codepoint=33, max_codepoint=0x7E, blacklist_characters="\\"),
            min_size=1,
            max_size=12,
        ),
        max_size=26,
    )
)
def test_keywords_round_trip(names: list[str | None]) -> None:
    table = kw.Keywords(tuple(names))
    again = kw.parse_keywords(table.to_bytes())
    # Trailing unused indexes are not written, so compare up to the last name.
    while names and names[-1] is None:
        names.pop()
    assert again.names == tuple(names)


# --- subscriptions ----------------------------------------------------------------------------


@pytest.mark.parametrize("path", sorted((GOLDENS / "subscriptions").iterdir()), ids=lambda p: p.name)
def test_subscriptions_golden_round_trip(path: Path) -> None:
    data = path.read_bytes()
    assert subs.parse_subscriptions(data).to_bytes() == data


def test_subscriptions_golden_meaning() -> None:
    dot = subs.parse_subscriptions(
        (GOLDENS / "subscriptions" / "maildirpp_dot_sep.subscriptions").read_bytes()
    )
    assert dot.version == 2
    assert dot.entries() == [("Sent",), ("&ANw-n&AO8-code &- Co",), ("a", "b"), ("a",), ("Trash",)]
    assert dot.names(".")[2] == "a.b"
    slash = subs.parse_subscriptions(
        (GOLDENS / "subscriptions" / "inbox_prefix_slash_sep.subscriptions").read_bytes()
    )
    # INBOX/x/y in namespace "INBOX/" is stored without the prefix, levels TAB-separated.
    assert slash.entries() == [("x", "y"), ("Sent",), ("INBOX",)]


def test_subscribe_unsubscribe_like_dovecot() -> None:
    doc = subs.parse_subscriptions(b"V\t2\n\nSent\nx\ty\nTrash")
    assert doc.missing_final_newline
    doc2 = doc.with_subscription(["inbox"], ".")
    assert doc2.to_bytes() == b"V\t2\n\nSent\nx\ty\nTrash\nINBOX\n"
    assert doc2.with_subscription(["x", "y"], ".", subscribed=False).lines == ("Sent", "Trash", "INBOX")
    odd = doc.with_subscription(["tab\there", "nl\nx"], "/")
    assert odd.lines[-1] == "tab\x01there\tnl\x01nx"
    assert odd.entries()[-1] == ("tab\there", "nl\nx")


def test_version1_file_stays_version1() -> None:
    v1 = subs.parse_subscriptions(b"Sent\nWork.Projects\n")
    assert v1.version == 1
    assert v1.names(".") == ["Sent", "Work.Projects"]
    assert v1.with_subscription(["a", "b"], ".").to_bytes() == b"Sent\nWork.Projects\na.b\n"


def test_set_subscribed_writes_through_lock(tmp_path: Path) -> None:
    assert subs.set_subscribed(str(tmp_path), ["x", "y"], "/") is True
    assert subs.set_subscribed(str(tmp_path), ["x", "y"], "/") is False
    assert subs.set_subscribed(str(tmp_path), ["Sent"], "/") is True
    assert (tmp_path / "subscriptions").read_bytes() == b"V\t2\n\nx\ty\nSent\n"
    assert not (tmp_path / "subscriptions.lock").exists()
    assert subs.set_subscribed(str(tmp_path), ["x", "y"], "/", subscribed=False) is True
    assert subs.read_subscriptions(str(tmp_path)).lines == ("Sent",)


@given(st.lists(st.lists(st.text(min_size=1, max_size=8), min_size=1, max_size=3), max_size=6))
def test_subscriptions_round_trip(names: list[list[str]]) -> None:
    doc = subs.Subscriptions()
    for levels in names:
        doc = doc.with_subscription(levels, "/")
    again = subs.parse_subscriptions(doc.to_bytes())
    assert again == doc
    assert len(again.entries()) == len(doc.lines)


# --- dovecot-uidvalidity ----------------------------------------------------------------------


def test_uidvalidity_golden() -> None:
    value = uv.parse_value((GOLDENS / "uidvalidity" / "dovecot-uidvalidity").read_bytes())
    marker = (GOLDENS / "uidvalidity" / "marker_name.txt").read_text().strip()
    assert (GOLDENS / "uidvalidity" / "dovecot-uidvalidity").read_bytes() == uv.format_value(value)
    assert uv.marker_name(value) == marker


def test_uidvalidity_sequence(tmp_path: Path) -> None:
    d = str(tmp_path)
    first = uv.next_uidvalidity(d, now=1795619818)
    assert first == 1795619818  # a fresh root starts at the current time itself
    assert (tmp_path / "dovecot-uidvalidity").read_bytes() == b"6b06fbea"
    assert oct((tmp_path / "dovecot-uidvalidity.6b06fbea").stat().st_mode & 0o777) == "0o444"
    assert uv.next_uidvalidity(d, now=1795619900) == 1795619819  # then +1, not the time
    assert sorted(os.listdir(d)) == ["dovecot-uidvalidity", "dovecot-uidvalidity.6b06fbeb"]
    assert uv.read_current(d) == 1795619819


def test_uidvalidity_recovers_from_broken_main_file(tmp_path: Path) -> None:
    (tmp_path / "dovecot-uidvalidity").write_bytes(b"zz")
    (tmp_path / "dovecot-uidvalidity.00000010").touch()
    (tmp_path / "dovecot-uidvalidity.00000020").touch()
    assert uv.next_uidvalidity(str(tmp_path)) == 0x21
    assert sorted(os.listdir(tmp_path)) == ["dovecot-uidvalidity", "dovecot-uidvalidity.00000021"]
    assert uv.read_current(str(tmp_path)) == 0x21
