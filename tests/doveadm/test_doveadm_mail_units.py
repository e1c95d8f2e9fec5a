"""Pieces of the doveadm mail commands without a Maildir: the query language and the formatters."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from doveadm.rows import RowPrinter, TableMultiLineError, json_escape
from doveadm.search_query import FALSE, TRUE, QueryError, for_mailbox, mailbox_patterns, parse_query
from pydovecot.imap.protocol.commands import STAR, SearchAnd, SearchKey, SearchNot, SearchOr, SequenceSet
from tests.doveadm.mail_cases import Step, prepare, run_ours


def test_query_keys_and_implicit_and() -> None:
    tree = parse_query(["mailbox", "INBOX", "uid", "2:*", "from", "carol", "larger", "1k"])
    assert tree == SearchAnd((SearchKey("X-DOVEADM-MAILBOX", "INBOX"), SearchKey("UID", SequenceSet(((2, STAR),))),
                              SearchKey("FROM", "carol"), SearchKey("LARGER", 1024)))


def test_query_infix_or_and_its_mixing_rule() -> None:
    assert parse_query(["uid", "1", "OR", "uid", "2"]) == SearchOr(
        SearchKey("UID", SequenceSet(((1, 1),))), SearchKey("UID", SequenceSet(((2, 2),))))
    with pytest.raises(QueryError, match="Use parenthesis when mixing ANDs and ORs"):
        parse_query(["mailbox", "INBOX", "OR", "uid", "1", "uid", "2"])
    grouped = parse_query(["(", "seen", "OR", "flagged", ")", "mailbox", "Work"])
    assert isinstance(grouped, SearchAnd) and isinstance(grouped.keys[0], SearchOr)


@pytest.mark.parametrize(("args", "message"), [
    (["bogus"], "Unknown argument BOGUS"), (["uid"], "Missing parameter for search key (for search key: UID)"),
    (["before", "xyz"], "Invalid search date parameter: xyz"), (["and"], "Unknown argument AND"),
])
def test_query_errors_read_like_dovecot(args: list[str], message: str) -> None:
    with pytest.raises(QueryError) as caught:
        parse_query(args)
    assert str(caught.value) == message


def test_query_dates_and_intervals() -> None:
    assert parse_query(["since", "2w"]) == SearchKey("YOUNGER", 14 * 86400)
    assert parse_query(["before", "3-Jan-2023"]).value == parse_query(["before", "2023-01-03"]).value


def test_mailbox_keys_fold_per_mailbox() -> None:
    tree = parse_query(["mailbox", "W*", "seen"])
    assert for_mailbox(tree, "INBOX", None, ".") == FALSE
    assert for_mailbox(tree, "Work.Sub", None, ".") == SearchKey("SEEN")
    assert for_mailbox(parse_query(["NOT", "mailbox", "INBOX"]), "INBOX", None, ".") == FALSE
    assert for_mailbox(parse_query(["mailbox-guid", "AB" * 16]), "x", "ab" * 16, ".") == TRUE
    assert for_mailbox(SearchNot(SearchKey("ALL")), "x", None, ".") == FALSE


def test_expunge_safety_needs_a_mailbox_in_every_branch() -> None:
    assert mailbox_patterns(parse_query(["mailbox", "INBOX", "uid", "1"])) == ["INBOX"]
    assert mailbox_patterns(parse_query(["mailbox", "a", "OR", "uid", "1"])) is None
    assert mailbox_patterns(parse_query(["ALL"])) is None


def _rows(formatter: str, values: list[str | bytes], titles: tuple[str, ...] = ("a", "b")) -> bytes:
    printer = RowPrinter(formatter)
    for title in titles:
        printer.header(title)
    for value in values:
        if isinstance(value, bytes):
            printer.stream_value(value)
        else:
            printer.value(value)
    printer.finish()
    return bytes(printer.out)


def test_formatters_frame_rows_like_dovecot() -> None:
    assert _rows("flow", ["1", b"x\n"]) == b"a=1 b=x\n\n"
    assert _rows("tab", ["1", b"x\n"]) == b"a\tb\n1\tx\n\t\n"  # the streamed value's extra tab
    assert _rows("pager", ["1", "2", "3", "4"]) == b"a: 1\nb: 2\n\f\na: 3\nb: 4\n"
    assert _rows("json", ["1", b'q"\n']) == b'[{"a":"1","b":"q\\"\\n"}]'
    assert _rows("json", []) == b"[]"


def test_table_sizes_columns_to_eighty() -> None:
    text = _rows("table", ["1", "long value", "22", "x"]).decode()
    lines = text.splitlines()
    assert lines[0].startswith("a  b") and all(len(line) == 2 + 1 + 10 + (80 - 13) // 2 for line in lines)
    with pytest.raises(TableMultiLineError):
        _rows("table", [b"two\nlines", "x"])


def test_json_escapes_controls() -> None:
    assert json_escape("\x01\t\\") == "\\u0001\\t\\\\"


@pytest.mark.skipif(os.geteuid() != 0, reason="the prepared Maildir is owned by another uid")
def test_index_all_users_builds_our_index(open_tmp_path: Path) -> None:
    conf = prepare(open_tmp_path)
    result = run_ours(conf, Step(("index", "-A", "*")))
    assert (result["stdout"], result["stderr"], result["code"]) == ("", "", 0)
    home = open_tmp_path / "home"
    for box in (home / "alice/Maildir", home / "alice/Maildir/.Work", home / "alice/Maildir/.Work.Sub",
                home / "bob/Maildir"):
        assert (box / "pydovecot.index").is_file(), box
