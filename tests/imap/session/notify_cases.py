"""NOTIFY (RFC 5465) transcripts: session 1 sets NOTIFY, session 2 changes mailboxes.

Lines as in cases.py, plus: "#2 cmd" goes to connection 2 (logged in on first use) and
"~1 SECS" collects what connection 1 was sent unasked within SECS seconds (NOTIFY's pushes).
Literal CRLFs inside a line are written as \\r\\n. Recorded from real Dovecot 2.3.19 by
record_notify_goldens.py; test_notify.py replays them against ours.

Real Dovecot starts watching the selected mailbox only a second after the client's last
command ended (IMAP_NOTIFY_WATCH_ADD_DELAY_MSECS) and misses changes made before that; the
cases wait ("~1 1.5") before changing the selected mailbox, so both servers see the change.

REPLACING: a NOTIFY SET that replaces another one with mailbox filters gets no events in
Dovecot 2.3.19 (it adds its inotify watch on the list index log, then freeing the old NOTIFY
removes that same watch); a third one works again. We do not copy that bug; the cases put a
NOTIFY NONE between two such NOTIFY SETs, after which Dovecot works too.
"""

from __future__ import annotations

import re
import time

from .cases import LOGIN, _Conn, normalise

MSG = "{5+}\\r\\nabc\\r\\n"
HDR = "{21+}\\r\\nSubject: hi\\r\\n\\r\\nbody\\r\\n"
WAIT = "~1 1.5"

CASES: dict[str, list[str]] = {
    # One session: the parser, the refusals, NOTIFY SET STATUS.
    "syntax": [
        "b NOTIFY",
        "c NOTIFY NONE",
        "d NOTIFY FOO",
        "e NOTIFY SET",
        "f NOTIFY SET (SELECTED (MessageNew))",
        "g NOTIFY SET (SELECTED (MessageNew MessageExpunge))",
        "h NOTIFY SET (SELECTED (FlagChange))",
        "i NOTIFY SET (SELECTED (MessageNew MessageExpunge AnnotationChange))",
        "j NOTIFY SET (PERSONAL (MailboxMetadataChange ServerMetadataChange))",
        "j2 NOTIFY SET (SELECTED (MessageNew MessageExpunge AnnotationChange)) (PERSONAL (MailboxMetadataChange))",
        "k NOTIFY SET (PERSONAL (Foo))",
        "l NOTIFY SET (PERSONAL ())",
        "m NOTIFY SET (PERSONAL NONE)",
        "o NOTIFY SET (SELECTED NONE) (SELECTED-DELAYED NONE)",
        "o2 NOTIFY SET (SELECTED-DELAYED (MessageNew MessageExpunge)) (SELECTED NONE)",
        "p NOTIFY SET (SUBTREE INBOX (MailboxName))",
        "q NOTIFY SET (MAILBOXES (INBOX Sent) (MessageNew))",
        "r NOTIFY SET (MAILBOXES () (MessageNew))",
        "s NOTIFY SET (FOO (MessageNew))",
        "u NOTIFY SET (SELECTED (MessageNew (UID FLAGS BODY[HEADER.FIELDS (Subject)]) MessageExpunge))",
        "v NOTIFY SET (SELECTED (MessageNew (FOO) MessageExpunge))",
        "v2 NOTIFY SET (SELECTED (MessageNew (ALL) MessageExpunge))",
        "v3 NOTIFY SET (SELECTED (MessageNew FAST MessageExpunge))",
        "x NOTIFY SET (selected (messagenew messageexpunge))",
        "y NOTIFY NONE EXTRA",
        "z NOTIFY SET (PERSONAL MessageNew)",
        'A NOTIFY SET "STATUS" (PERSONAL (MessageNew))',
        "B NOTIFY SET (SUBTREE (INBOX nonexist) (MessageNew))",
        "C NOTIFY SET (SELECTED (MessageNew MessageExpunge NONE))",
        "D NOTIFY SET (SELECTED (MessageNew (FLAGS) (UID) MessageExpunge))",
        "E NOTIFY SET (SELECTED (MessageExpunge MessageNew (FLAGS)))",
        "F NOTIFY SET (PERSONAL (MessageNew (FLAGS)))",
        "G NOTIFY SET (SELECTED (MessageNew MessageExpunge) extra)",
        "H NOTIFY SET (SUBTREE (MessageNew))",
        "I NOTIFY SET (SELECTED ())",
        "J NOTIFY SET (SELECTED)",
        "K NOTIFY SET ()",
        "L NOTIFY SET STATUS",
        "M NOTIFY SET (SUBTREE \"\" (MessageNew))",
        "N NOTIFY SET (SELECTED (MessageNew (UID BODY.PEEK[]<0.10> MODSEQ) MessageExpunge))",
        "O NOTIFY SET (MAILBOXES INBOX (MessageNew)) (MAILBOXES INBOX (MessageNew FlagChange))",
        "P NOTIFY SET STATUS (PERSONAL (MailboxName SubscriptionChange))",
        'R NOTIFY SET (SUBTREE "unterminated (MessageNew))',
        "S NOTIFY SET (PERSONAL (MessageNew)",
        "T NOTIFY SET (SELECTED (MessageNew (BODY[ MessageExpunge))",
        "U NOTIFY SET (SUBTREE {3+}\\r\\nBox (MessageNew))",
        "V NOTIFY SET (SUBTREE &Jjo- (MessageNew))",
        "W NOTIFY SET (PERSONAL (MessageNew)))",
        "X NOTIFY NONE )",
        "Y NOTIFY NONE (",
        "Q LOGOUT",
    ],
    "set_status": [
        "b STATUS INBOX (MESSAGES)",  # real lists INBOX only once something opened it
        "c NOTIFY SET STATUS (PERSONAL (MessageNew MessageExpunge))",
        "d NOTIFY SET STATUS (INBOXES (MessageNew MessageExpunge FlagChange))",
        "e NOTIFY SET STATUS (SUBSCRIBED (MessageNew MessageExpunge)) (SELECTED (MessageNew MessageExpunge))",
        "f NOTIFY set status (mailboxes inbox (MessageNew))",
        "g NOTIFY SET STATUS (MAILBOXES Nonexistent (MessageNew))",
        "h SELECT Sent",
        "i NOTIFY SET STATUS (PERSONAL (MessageNew MessageExpunge))",
        "i2 NOTIFY SET STATUS (SUBTREE (INBOX INBOX/x inbox) (MessageNew))",
        "j LOGOUT",
    ],
    # MessageNew's fetch-att after any sync that finds new mail: a NOOP's, IDLE's.
    "selected_fetch": [
        "b SELECT INBOX",
        "c NOTIFY SET (SELECTED (MessageNew (UID FLAGS) MessageExpunge))",
        f"#2 d APPEND INBOX {MSG}",
        "d NOOP",
        "e IDLE",
        f"#2 f APPEND INBOX {MSG}",
        "~1 2",
        "DONE",
        "g LOGOUT",
    ],
    # Without the mailbox list index Dovecot does not advertise NOTIFY; the command is there
    # but only the selected mailbox can be watched.
    "no_list_index": [
        "b NOTIFY SET (SELECTED (MessageNew MessageExpunge))",
        "c NOTIFY SET (PERSONAL (MessageNew MessageExpunge))",
        "d NOTIFY SET (PERSONAL NONE)",
        "e NOTIFY SET (SELECTED (MessageNew MessageExpunge AnnotationChange))",
        "f NOTIFY NONE",
        "g LOGOUT",
    ],
    # Two sessions: STATUS for other mailboxes, LIST for names and subscriptions.
    "personal": [
        "#2 x CREATE Box",
        "#2 x2 STATUS INBOX (MESSAGES)",
        "b NOTIFY SET (PERSONAL (MessageNew MessageExpunge FlagChange MailboxName SubscriptionChange))",
        f"#2 c APPEND Box {MSG}",
        WAIT,
        "#2 e SELECT Box",
        "#2 f STORE 1 +FLAGS (\\Flagged)",
        WAIT,
        "#2 g STORE 1 +FLAGS (\\Seen)",
        WAIT,
        "#2 h STORE 1 +FLAGS (\\Deleted)",
        "#2 i EXPUNGE",
        WAIT,
        "#2 j UNSELECT",
        "#2 j2 CREATE New",
        WAIT,
        "#2 k RENAME New Newer",
        WAIT,
        "#2 l SUBSCRIBE Newer",
        WAIT,
        "#2 m UNSUBSCRIBE Newer",
        WAIT,
        "#2 n DELETE Newer",
        WAIT,
        "#2 o CREATE a/b/c",
        WAIT,
        "p ENABLE CONDSTORE",
        f"#2 q APPEND Box {MSG}",
        WAIT,
        "#2 r SELECT Box",
        "#2 s STORE 1 +FLAGS (\\Flagged)",
        WAIT,
        "t LOGOUT",
    ],
    "filters": [
        "#2 x CREATE Box",
        "#2 x2 CREATE Other",
        "#2 x3 CREATE Box/Sub",
        "b NOTIFY SET (SUBTREE Box (MessageNew MessageExpunge MailboxName)) (MAILBOXES Other (MailboxName))",
        "#2 c CREATE New",
        f"#2 c2 APPEND New {MSG}",
        WAIT,
        f"#2 d APPEND Box/Sub {MSG}",
        f"#2 d2 APPEND Other {MSG}",
        WAIT,
        "#2 e CREATE Box/Sub2",
        WAIT,
        "#2 e2 DELETE Other",
        WAIT,
        "#2 f RENAME Box/Sub2 Box/Sub3",
        WAIT,
        "#2 f2 RENAME New Box/New",
        WAIT,
        "#2 f3 CREATE Box/Fresh",
        f"#2 f4 APPEND Box/Fresh {MSG}",
        WAIT,
        # SUBSCRIBED pushes are not compared: Dovecot 2.3.19 sends none unless the filter also
        # wants SubscriptionChange, and then an extra LIST (\\Subscribed) on the mailbox's first
        # change. test_notify.py checks ours. NONE first: see REPLACING above.
        "k0 NOTIFY NONE",
        "k NOTIFY SET (MAILBOXES Sent (MessageNew MessageExpunge FlagChange))",
        f"#2 m APPEND Sent {MSG}",
        f"#2 n APPEND Trash {MSG}",
        WAIT,
        "s LOGOUT",
    ],
    # The selected mailbox: EXISTS, FETCH of MessageNew's attributes, FLAGS, EXPUNGE now or later.
    "selected": [
        f"#2 x APPEND INBOX {MSG}",
        "b SELECT INBOX",
        "c NOTIFY SET (SELECTED (MessageNew (UID FLAGS BODY.PEEK[HEADER.FIELDS (Subject)]) MessageExpunge "
        "FlagChange)) (PERSONAL (MessageNew MessageExpunge))",
        WAIT,
        "#2 e SELECT INBOX",
        "#2 f STORE 1 +FLAGS (\\Flagged)",
        WAIT,
        f"#2 g APPEND INBOX {HDR}",
        WAIT,
        "#2 h STORE 1 +FLAGS (\\Deleted)",
        "#2 i EXPUNGE",
        WAIT,
        "i2 NOOP",
        "j NOTIFY SET (SELECTED-DELAYED (MessageNew MessageExpunge))",
        WAIT,
        "#2 l STORE 1 +FLAGS (\\Deleted)",
        "#2 m EXPUNGE",
        WAIT,
        "n NOOP",
        "r NOTIFY NONE",
        WAIT,
        f"#2 s APPEND INBOX {MSG}",
        WAIT,
        "t NOOP",
        "u LOGOUT",
    ],
    # LAYOUT=fs: nested folders are directories inside directories, each needing its own watch.
    "fs_names": [
        "#2 x CREATE top",
        "b NOTIFY SET (PERSONAL (MessageNew MessageExpunge MailboxName SubscriptionChange))",
        WAIT,
        "#2 c CREATE a/b/c",
        WAIT,
        f"#2 d APPEND a/b/c {MSG}",
        WAIT,
        "#2 e CREATE a/b/d",
        WAIT,
        "#2 f RENAME a/b/c a/x/c2",
        WAIT,
        f"#2 g APPEND a/x/c2 {MSG}",
        WAIT,
        "#2 h SUBSCRIBE a/x/c2",
        WAIT,
        "#2 i DELETE a/x/c2",
        WAIT,
        "#2 j CREATE top/r/s",
        WAIT,
        f"#2 k APPEND top/r/s {MSG}",
        WAIT,
        "#2 l DELETE top",
        WAIT,
        "#2 m RENAME top t2",
        WAIT,
        f"#2 n APPEND t2/r/s {MSG}",
        WAIT,
        "#2 o DELETE a/b/d",
        WAIT,
        "p LOGOUT",
    ],
    "fs_filters": [
        "#2 x CREATE a/b/c",
        "#2 x2 CREATE b/c",
        "b NOTIFY SET (SUBTREE a (MessageNew MessageExpunge MailboxName)) (MAILBOXES (z/y b/c) (MessageNew))",
        WAIT,
        f"#2 c APPEND a/b/c {MSG}",
        WAIT,
        "#2 d CREATE a/n/m",
        WAIT,
        f"#2 e APPEND a/n/m {MSG}",
        WAIT,
        "#2 f CREATE z/y",
        WAIT,
        f"#2 g APPEND z/y {MSG}",
        f"#2 g2 APPEND b/c {MSG}",
        WAIT,
        "#2 h SELECT a/b/c",
        "#2 i STORE 1 +FLAGS (\\Deleted)",
        "#2 j EXPUNGE",
        WAIT,
        "#2 k UNSELECT",
        "#2 l CREATE b/c/d",
        f"#2 m APPEND b/c/d {MSG}",
        WAIT,
        "#2 n RENAME a/n b/n",
        WAIT,
        "#2 o RENAME b/c a/c",
        WAIT,
        f"#2 p APPEND a/c {MSG}",
        f"#2 q APPEND a/c/d {MSG}",
        WAIT,
        "r LOGOUT",
    ],
    "fs_status": [
        "#2 x CREATE a/b/c",
        "#2 x2 CREATE a/d",
        "#2 x3 CREATE z/y",
        f"#2 x4 APPEND a/b/c {MSG}",
        "b NOTIFY SET STATUS (SUBTREE a (MessageNew MessageExpunge))",
        "c NOTIFY SET STATUS (MAILBOXES (a/b/c z/y a/b) (MessageNew))",
        "d NOTIFY SET STATUS (SUBTREE (a/b z) (MessageNew)) (MAILBOXES a/d (MessageNew))",
        "e NOTIFY NONE",
        "f NOTIFY SET STATUS (PERSONAL (MessageNew))",
        "h LOGOUT",
    ],
}

FS = "mail_location = maildir:~/Maildir:LAYOUT=fs\n"

# Cases run with extra settings appended to the config.
CASE_SETTINGS: dict[str, str] = {"no_list_index": "mailbox_list_index = no\n", "fs_names": FS,
                                 "fs_filters": FS, "fs_status": FS}


def drain(conn: _Conn, seconds: float) -> str:
    """What `conn` was sent within `seconds`, unasked."""
    data = conn.buf
    end = time.monotonic() + seconds
    while (left := end - time.monotonic()) > 0:
        conn.sock.settimeout(left)
        try:
            chunk = conn.sock.recv(65536)
        except OSError:
            break
        if not chunk:
            break
        data += chunk
    conn.buf = b""
    conn.sock.settimeout(10)
    return data.decode("utf-8", "replace")


def run_notify_case(host: str, port: int, lines: list[str]) -> list[tuple[str, str]]:
    conns: dict[str, _Conn] = {}
    out: list[tuple[str, str]] = []
    try:
        for line in lines:
            if line.startswith("~"):
                name, seconds = line[1:].split()
                out.append((line, drain(conns[name], float(seconds))))
                continue
            name, text = "1", line
            if line.startswith("#"):
                name, text = line[1:].split(" ", 1)
            if name not in conns:
                conns[name] = _Conn(host, port, 10)
                conns[name].read_until(lambda ls: True)
                conns[name].command(LOGIN)
            reply = conns[name].command(text.replace("\\r\\n", "\r\n"))
            out.append((line, reply or ""))
            if name == "1" and reply is not None and "* BYE" in reply:
                break
    finally:
        for conn in conns.values():
            conn.sock.close()
    return out


_HIGHESTMODSEQ = re.compile(r"HIGHESTMODSEQ \d+")


def normalise_notify(text: str) -> str:
    """cases.normalise, and runs of untagged STATUS lines sorted: Dovecot lists them in its
    mailbox list index's order, which is not stable from one run to the next. The same for
    runs of renames (`* LIST ... ("OLDNAME" ...)`): a moved subtree's names come in any order."""
    out: list[str] = []
    run: list[str] = []
    kind = ""
    for line in normalise(text).split("\r\n"):
        this = "STATUS" if line.startswith("* STATUS ") else "RENAME" if ' ("OLDNAME" (' in line else ""
        if not this or this != kind:
            out.extend(sorted(run))
            run = []
        kind = this
        if this:
            run.append(line)
        else:
            out.append(line)
    out.extend(sorted(run))
    return "\r\n".join(out)


def views(pairs: list[list[str]]) -> tuple[str, list[list[str]]]:
    """What the comparison looks at: connection 1's whole output as one text (a push may come
    in the drain after the change or with the next reply: Dovecot's timing varies, the order
    and the content may not), and connection 2's replies step by step."""
    first = "".join(reply for line, reply in pairs if not line.startswith("#"))
    second = [[line, reply] for line, reply in pairs if line.startswith("#")]
    return first, second
