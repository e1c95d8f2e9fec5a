"""NOTIFY's argument parser and filters (pydovecot/imap/notify.py), without a server."""

from __future__ import annotations

import pytest

from pydovecot.imap.notify import (
    BoxStatus,
    Event,
    Filter,
    NotifyError,
    matches,
    parse_notify,
    status_items,
)


def _error(args: str) -> NotifyError:
    with pytest.raises(NotifyError) as info:
        parse_notify(b" " + args.encode())
    return info.value


def test_set_with_every_group() -> None:
    spec = parse_notify(b" SET STATUS (SELECTED-DELAYED (MessageNew (UID FLAGS) MessageExpunge FlagChange))"
                        b" (INBOXES (MessageNew)) (SUBSCRIBED (MailboxName)) (SUBTREE (a a/b b) (MessageExpunge))"
                        b" (MAILBOXES inbox (SubscriptionChange)) (PERSONAL NONE)")
    assert spec.send_status and spec.selected_set and not spec.immediate_expunges
    assert [a.name for a in spec.fetch_attributes] == ["UID", "FLAGS"]
    assert spec.selected_events == Event.MESSAGE_NEW | Event.MESSAGE_EXPUNGE | Event.FLAG_CHANGE
    assert [(f.kind, f.names) for f in spec.filters] == [
        ("personal", ()), ("subscribed", ()), ("subtree", ("a", "b")), ("mailboxes", ("INBOX",))]


@pytest.mark.parametrize(("args", "status", "text", "code"), [
    ("", "BAD", "Invalid arguments", None),
    ("SET (SELECTED (MessageNew))", "BAD", "MessageNew and MessageExpunge must be together", None),
    ("SET (SELECTED (FlagChange))", "BAD", "FlagChange requires MessageNew and MessageExpunge", None),
    ("SET (SELECTED NONE) (SELECTED NONE)", "BAD", "Duplicate selected filter", None),
    ("SET (PERSONAL (AnnotationChange ServerMetadataChange))", "NO", "Unsupported NOTIFY events.",
     "BADEVENT AnnotationChange ServerMetadataChange"),
    ("SET (SELECTED (MessageNew (NOPE) MessageExpunge))", "BAD", "Invalid fetch-att list: Unknown parameter: NOPE",
     None),
    ("SET (PERSONAL (MessageNew)", "BAD", "Missing ')'", None),
    ("NONE )", "BAD", "Unexpected ')'", None),
    ('SET (SUBTREE "x (MessageNew))', "BAD", "Missing '\"'", None),
    ("SET (MAILBOXES (" + " ".join(f"m{i}" for i in range(101)) + ") (MessageNew))", "NO",
     "Too many mailbox names", "NOTIFICATIONOVERFLOW"),
])
def test_refusals(args: str, status: str, text: str, code: str | None) -> None:
    error = _error(args)
    assert (error.status, error.text, error.code) == (status, text, code)


def test_none_ignores_the_rest_and_set_may_be_empty() -> None:
    assert not parse_notify(b" NONE whatever").filters
    assert not parse_notify(b" SET").filters


def test_matching() -> None:
    subtree = Filter("subtree", ("a",), Event.MESSAGE_NEW)
    assert matches(subtree, "a", set()) and matches(subtree, "a/b", set())
    assert not matches(subtree, "ab", set())
    assert matches(Filter("subscribed", (), Event.MESSAGE_NEW), "x", {"x"})
    assert not matches(Filter("mailboxes", ("a",), Event.MESSAGE_NEW), "a/b", set())


def test_status_items_follow_what_changed() -> None:
    old = BoxStatus(messages=1, uidnext=2, uidvalidity=7, unseen=1, highestmodseq=3)
    everything = Event.MESSAGE_NEW | Event.MESSAGE_EXPUNGE | Event.FLAG_CHANGE
    appended = BoxStatus(2, 3, 7, 2, 4)
    assert status_items(old, appended, everything, False) == ["MESSAGES", "UIDNEXT", "UNSEEN"]
    assert status_items(old, appended, Event.MESSAGE_EXPUNGE, False) is None
    seen = BoxStatus(1, 2, 7, 0, 4)
    assert status_items(old, seen, everything, False) == ["UNSEEN"]
    flagged = BoxStatus(1, 2, 7, 1, 4)
    assert status_items(old, flagged, everything, False) is None
    assert status_items(old, flagged, everything, True) == ["HIGHESTMODSEQ"]
    assert status_items(old, seen, everything, False, first=True) == ["MESSAGES", "UIDNEXT", "UIDVALIDITY", "UNSEEN"]


def test_random_arguments_only_ever_give_notify_errors() -> None:
    """Whatever the client sends, the parser answers with a spec or a NotifyError."""
    import random

    words = [b"SET", b"NONE", b"STATUS", b"(", b")", b"SELECTED", b"SELECTED-DELAYED", b"PERSONAL",
             b"SUBTREE", b"MAILBOXES", b"SUBSCRIBED", b"INBOXES", b"MessageNew", b"MessageExpunge",
             b"FlagChange", b"MailboxName", b"AnnotationChange", b"\"q", b"\"a b\"", b"{3}\r\nabc",
             b"~{1}\r\nx", b"BODY[", b"UID", b"NIL", b"\x00", b"\xff", b"&Jjo-", b"INBOX", b"*"]
    rng = random.Random(5465)
    for _ in range(3000):
        args = b" " + b" ".join(rng.choice(words) for _ in range(rng.randint(0, 12)))
        try:
            parse_notify(args)
        except NotifyError:
            pass
