"""The IMAP grammar: typed commands from valid input, Dovecot's reasons for invalid input."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest

from pydovecot.imap.protocol import commands as c
from pydovecot.imap.protocol.errors import ImapProtocolError, Severity
from pydovecot.imap.protocol.mutf7 import InvalidMutf7, decode_mutf7, encode_mutf7
from pydovecot.imap.protocol.parser import parse_command


def _error(raw: bytes) -> ImapProtocolError:
    with pytest.raises(ImapProtocolError) as info:
        parse_command(raw)
    return info.value


def test_login_with_quoted_escapes_and_literals() -> None:
    assert parse_command(b'a1 login "al\\"ice" {5+}\r\nse cr') == c.Login(b"a1", b'al"ice', b"se cr")


def test_authenticate_with_sasl_ir() -> None:
    assert parse_command(b"t AUTHENTICATE plain AGFsaWNlAHNlY3JldA==") == c.Authenticate(
        b"t", "PLAIN", b"AGFsaWNlAHNlY3JldA=="
    )
    assert parse_command(b"t AUTHENTICATE PLAIN") == c.Authenticate(b"t", "PLAIN", None)


def test_select_with_condstore_and_qresync() -> None:
    assert parse_command(b"a EXAMINE inbox (CONDSTORE)") == c.Select(b"a", "INBOX", True, True)
    cmd = parse_command(b"a SELECT &Jjo- (QRESYNC (67890007 20050715194045000 41,43:211 (1:9 3:99)))")
    assert cmd == c.Select(
        b"a",
        "\u263a",
        qresync=c.QresyncParams(
            67890007,
            20050715194045000,
            c.SequenceSet(((41, 41), (43, 211))),
            (c.SequenceSet(((1, 9),)), c.SequenceSet(((3, 99),))),
        ),
    )


def test_sequence_sets() -> None:
    fetch = parse_command(b"a FETCH 1:*,5,*:3,4294967294 FLAGS")
    assert isinstance(fetch, c.Fetch)
    assert fetch.sequence_set.ranges == ((1, c.STAR), (5, 5), (c.STAR, 3), (4294967294, 4294967294))
    saved = parse_command(b"a UID COPY $ Trash")
    assert saved == c.Copy(b"a", c.SequenceSet(saved_result=True), "Trash", uid=True)
    for bad in (b"0", b"4294967296", b"1:2:3", b"x", b"1,,2", b"-1"):
        assert _error(b"a FETCH " + bad + b" FLAGS").reason == "Invalid messageset"


def test_fetch_attributes() -> None:
    fetch = parse_command(
        b"a UID FETCH 1 (FLAGS BODY.PEEK[1.2.HEADER.FIELDS (From To)]<0.100> BINARY[3]"
        b" BINARY.SIZE[1] MODSEQ SAVEDATE SNIPPET PREVIEW BODY[] RFC822.SIZE) (CHANGEDSINCE 12345 VANISHED)"
    )
    assert isinstance(fetch, c.Fetch)
    assert fetch.uid and fetch.changed_since == 12345 and fetch.vanished
    assert fetch.attributes == (
        c.FetchAttribute("UID"),
        c.FetchAttribute("FLAGS"),
        c.FetchAttribute("BODY", c.Section((1, 2), "HEADER.FIELDS", ("FROM", "TO")), (0, 100), peek=True),
        c.FetchAttribute("BINARY", c.Section((3,))),
        c.FetchAttribute("BINARY.SIZE", c.Section((1,))),
        c.FetchAttribute("MODSEQ"),
        c.FetchAttribute("SAVEDATE"),
        c.FetchAttribute("SNIPPET"),
        c.FetchAttribute("PREVIEW"),
        c.FetchAttribute("BODY", c.Section()),
        c.FetchAttribute("RFC822.SIZE"),
    )


def test_fetch_macros_only_outside_lists() -> None:
    fast = parse_command(b"a FETCH 1 FAST")
    assert isinstance(fast, c.Fetch)
    assert [a.name for a in fast.attributes] == ["FLAGS", "INTERNALDATE", "RFC822.SIZE"]
    assert _error(b"a FETCH 1 (ALL)").reason == "Unknown parameter: ALL"
    assert _error(b"a FETCH 1 ALL FLAGS").reason == "Invalid arguments"
    assert _error(b"a FETCH 1 BODY[1.]").reason == "Invalid BODY[..] section"


def test_search_grammar() -> None:
    search = parse_command(
        b'a UID SEARCH RETURN (MIN COUNT SAVE) CHARSET UTF-8 OR (FROM "bob" SINCE 1-Feb-2024) NOT SEEN'
        b" HEADER X-Spam yes UID 1:5 2,4 LARGER 100 MODSEQ 5 YOUNGER 3600"
    )
    assert search == c.Search(
        b"a",
        c.SearchAnd(
            (
                c.SearchOr(
                    c.SearchAnd((c.SearchKey("FROM", "bob"), c.SearchKey("SINCE", date(2024, 2, 1)))),
                    c.SearchNot(c.SearchKey("SEEN")),
                ),
                c.SearchKey("HEADER", ("X-Spam", "yes")),
                c.SearchKey("UID", c.SequenceSet(((1, 5),))),
                c.SearchKey("SEQUENCE", c.SequenceSet(((2, 2), (4, 4)))),
                c.SearchKey("LARGER", 100),
                c.SearchKey("MODSEQ", 5),
                c.SearchKey("YOUNGER", 3600),
            )
        ),
        uid=True,
        charset="UTF-8",
        return_options=("MIN", "COUNT", "SAVE"),
    )


def test_search_redundant_nesting_is_folded_and_depth_is_limited() -> None:
    deep = parse_command(b"a SEARCH " + b"(" * 30000 + b"ALL" + b")" * 30000)
    assert deep == c.Search(b"a", c.SearchAnd((c.SearchKey("ALL"),)))
    nots = parse_command(b"a SEARCH " + b"NOT " * 1001 + b"SEEN")
    assert nots == c.Search(b"a", c.SearchAnd((c.SearchNot(c.SearchKey("SEEN")),)))
    ors = b"a SEARCH " + b"OR SEEN " * 200 + b"ALL"
    assert _error(ors).reason == "Too deep nesting of search keys"


def test_store_with_unchangedsince() -> None:
    assert parse_command(
        b"a STORE 1:3 (UNCHANGEDSINCE 320162338) +FLAGS.SILENT (\\deleted $Junk)"
    ) == c.Store(
        b"a",
        c.SequenceSet(((1, 3),)),
        c.StoreAction.ADD,
        (c.Flag("\\Deleted"), c.Flag("$Junk")),
        silent=True,
        unchanged_since=320162338,
    )
    assert parse_command(b"a STORE 2 FLAGS \\Seen \\Draft") == c.Store(
        b"a", c.SequenceSet(((2, 2),)), c.StoreAction.REPLACE, (c.Flag("\\Seen"), c.Flag("\\Draft"))
    )


def test_multiappend_and_catenate() -> None:
    cmd = parse_command(
        b'a APPEND Drafts (\\Seen) " 5-Mar-2024 10:11:12 +0100" {3+}\r\nabc {2+}\r\nde'
        b' CATENATE (URL "/INBOX;UID=20/;section=1" TEXT {2+}\r\nfg)'
    )
    tz = timezone(timedelta(hours=1))
    assert cmd == c.Append(
        b"a",
        "Drafts",
        (
            c.AppendMessage((c.Flag("\\Seen"),), datetime(2024, 3, 5, 10, 11, 12, tzinfo=tz), (b"abc",)),
            c.AppendMessage((), None, (b"de",)),
            c.AppendMessage((), None, (c.CatenateUrl(b"/INBOX;UID=20/;section=1"), b"fg"), catenate=True),
        ),
    )
    binary = parse_command(b"a APPEND INBOX ~{2+}\r\n\x00\x01")
    assert isinstance(binary, c.Append) and binary.messages[0].binary


def test_list_extended_and_status() -> None:
    cmd = parse_command(
        b'a LIST (SUBSCRIBED RECURSIVEMATCH) "" ("INBOX" %/&Jjo-) RETURN (CHILDREN STATUS (MESSAGES SIZE))'
    )
    assert cmd == c.ListMailboxes(
        b"a",
        "",
        ("INBOX", "%/\u263a"),
        ("SUBSCRIBED", "RECURSIVEMATCH"),
        ("CHILDREN", "STATUS"),
        ("MESSAGES", "SIZE"),
        extended=True,
    )
    assert parse_command(b'a LIST "" * RETURN ()').extended  # type: ignore[union-attr]
    assert not parse_command(b'a LIST "" *').extended  # type: ignore[union-attr]
    assert parse_command(b'a LSUB "" *') == c.ListMailboxes(b"a", "", ("*",), lsub=True)
    assert parse_command(b"a STATUS Sent (UIDNEXT HIGHESTMODSEQ)") == c.Status(
        b"a", "Sent", ("UIDNEXT", "HIGHESTMODSEQ")
    )


def test_enable_id_idle_uid_expunge() -> None:
    assert parse_command(b"a ENABLE condstore QRESYNC") == c.Enable(b"a", ("CONDSTORE", "QRESYNC"))
    assert parse_command(b'a ID ("name" "mutt" "version" NIL)') == c.Id(
        b"a", (("name", "mutt"), ("version", None))
    )
    assert parse_command(b"a ID NIL") == c.Id(b"a", None)
    assert parse_command(b"a IDLE") == c.Idle(b"a")
    assert parse_command(b"a UID EXPUNGE 3:5") == c.Expunge(b"a", c.SequenceSet(((3, 5),)))
    assert parse_command(b"a CREATE Junk (USE (\\Junk))") == c.Create(b"a", "Junk", ("\\Junk",))


def test_invalid_mutf7_mailbox_is_a_tagged_no() -> None:
    error = _error(b"a SELECT &ZZZ-")
    assert (error.severity, error.reason, error.tag) == (
        Severity.NO,
        "Mailbox name is not valid mUTF-7",
        b"a",
    )


@pytest.mark.parametrize(
    ("text", "name"),
    [(b"&Jjo-", "\u263a"), (b"A&-B", "A&B"), (b"&AOk-t&AOk-", "\u00e9t\u00e9"), (b"&2D3eAA-", "\U0001f600")],
)
def test_mutf7_round_trip(text: bytes, name: str) -> None:
    assert decode_mutf7(text) == name
    assert encode_mutf7(name) == text


@pytest.mark.parametrize("text", [b"&ZZZ", b"&AGE-", b"&AGEAZQ-", b"caf\xc3\xa9", b"&2D0-", b"&AC0-"])
def test_mutf7_rejects_invalid(text: bytes) -> None:
    with pytest.raises(InvalidMutf7):
        decode_mutf7(text)
