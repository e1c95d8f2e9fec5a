"""Random but well-seeded command streams after login: every reply is a proper IMAP reply and the
server never logs an internal error (a handler that raised)."""

from __future__ import annotations

import logging
import random
import socket

from .cases import LOGIN, SIMPLE, append
from .harness import running_server

SLOTS = {
    "seq": ["1", "2", "*", "1:*", "2:4", "$", "4294967295", "3,1", "0"],
    "box": ["INBOX", "Trash", "Nope", '""', "&ZeVnLIqe-", "Work", "Work/Sub", "Drafts"],
    "flags": ["(\\Seen)", "(\\Deleted $X)", "()", "(\\Answered \\Flagged)", "(\\Recent)"],
    "item": ["FLAGS", "UID", "BODY[]", "BODY.PEEK[1.MIME]", "(ENVELOPE BODYSTRUCTURE)", "BINARY[1]",
             "RFC822.SIZE", "(BODY.PEEK[HEADER.FIELDS (Subject)]<0.5> MODSEQ)", "FAST", "PREVIEW"],
    "key": ["ALL", "OR SEEN FLAGGED", "NOT DELETED", "SUBJECT plain", "1:2 UNSEEN", "MODSEQ 1", "$", "UID 2:*"],
    "action": ["FLAGS", "+FLAGS", "-FLAGS.SILENT", "(UNCHANGEDSINCE 1) +FLAGS"],
    "status": ["(MESSAGES)", "(UIDNEXT UNSEEN HIGHESTMODSEQ SIZE)", "(RECENT UIDVALIDITY)"],
}
TEMPLATES = [
    "NOOP", "CHECK", "SELECT {box}", "EXAMINE {box}", "SELECT {box} (CONDSTORE)", "FETCH {seq} {item}",
    "UID FETCH {seq} {item}", "UID FETCH {seq} FLAGS (CHANGEDSINCE 1)", "STORE {seq} {action} {flags}",
    "UID STORE {seq} {action} {flags}", "SEARCH {key}", "UID SEARCH RETURN (MIN MAX COUNT) {key}",
    "SEARCH RETURN (SAVE) {key}", "SORT (DATE) UTF-8 {key}", "THREAD REFERENCES UTF-8 {key}",
    "COPY {seq} {box}", "MOVE {seq} {box}", "UID MOVE {seq} {box}", "EXPUNGE", "UID EXPUNGE {seq}",
    "STATUS {box} {status}", 'LIST "" *', 'LIST (SUBSCRIBED RECURSIVEMATCH) "" %', 'LSUB "" *',
    "CREATE {box}", "DELETE {box}", "RENAME {box} {box}", "SUBSCRIBE {box}", "UNSUBSCRIBE {box}",
    "APPEND {box} {flags} {{5+}}\r\nabcde", "ENABLE QRESYNC", "NAMESPACE", "ID NIL", "UNSELECT",
    "CLOSE", "CAPABILITY", "IDLE\r\nDONE", "FETCH {seq} (BODY[TEXT]<0.2>", "STORE {seq} FLAGS",
    "{box} {seq}", "UID {box}",
]


def random_command(rng: random.Random) -> str:
    template = rng.choice(TEMPLATES)
    for slot, values in SLOTS.items():
        while "{" + slot + "}" in template:
            template = template.replace("{" + slot + "}", rng.choice(values), 1)
    return template.replace("{{", "{").replace("}}", "}")


class _Errors(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


def test_random_commands_never_break_the_server() -> None:
    rng = random.Random(20231119)
    errors = _Errors()
    logging.getLogger("pydovecot.imap").addHandler(errors)
    try:
        with running_server() as server:
            for _round in range(4):
                sock = socket.create_connection(("127.0.0.1", server.port), timeout=10)
                lines = [LOGIN, append("p1", "INBOX", SIMPLE, "(\\Flagged) "), append("p2", "INBOX", SIMPLE),
                         "s SELECT INBOX"]
                for i in range(80):
                    lines.append(f"t{i} {random_command(rng)}")
                lines.append("z LOGOUT")
                sock.sendall("".join(line + "\r\n" for line in lines).encode())
                received = b""
                while True:
                    chunk = sock.recv(65536)
                    if not chunk:
                        break
                    received += chunk
                sock.close()
                assert b"* BYE" in received
                replies = [line for line in received.split(b"\r\n") if line[:1] == b"t"]
                assert sum(line.split(b" ")[1:2] == [b"OK"] for line in replies) > 10
    finally:
        logging.getLogger("pydovecot.imap").removeHandler(errors)
    assert not errors.records, [r.getMessage() for r in errors.records]
