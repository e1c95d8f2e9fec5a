"""Several LMTP connections delivering to one mailbox at once: each message is saved once, whole,
under its own UID, and every 250 names a message that is in the mailbox."""

from __future__ import annotations

import os
import socket
import threading
from pathlib import Path

from pydovecot.storage.maildir.sync import sync_mailbox
from tests.lmtp.harness import write_config
from tests.lmtp.ours import OurServer

CONNECTIONS = 4
PER_CONNECTION = 6


def _message(c: int, n: int) -> bytes:
    return b"Message-ID: <c%d-%d@t>\r\nSubject: c%d n%d\r\n\r\n" % (c, n, c, n) + b"line\r\n" * (100 * (n + 1))


def _client(port: int, c: int, replies: list[bytes], together: threading.Barrier | None = None) -> None:
    """One connection's deliveries; with ``together``, wait until every party of the barrier
    holds a greeted connection before delivering (each is then served at the same time)."""
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        f = sock.makefile("rb")
        f.readline()
        sock.sendall(b"LHLO t\r\n")
        while not f.readline().startswith(b"250 "):
            pass
        if together is not None:
            together.wait(60)
        for n in range(PER_CONNECTION):
            msg = _message(c, n)
            sock.sendall(b"MAIL FROM:<s@t>\r\nRCPT TO:<alice@example.test>\r\nBDAT %d LAST\r\n" % len(msg) + msg)
            replies.extend(f.readline() for _ in range(3))
        sock.sendall(b"QUIT\r\n")


def test_concurrent_connections_to_one_mailbox(tmp_path: Path) -> None:
    conf = write_config(tmp_path, 0, uid=os.geteuid())
    replies: list[list[bytes]] = [[] for _ in range(CONNECTIONS)]
    with OurServer(conf) as server:
        threads = [threading.Thread(target=_client, args=(server.port, c, replies[c])) for c in range(CONNECTIONS)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
    finals = [r for rs in replies for r in rs[2::3]]
    assert len(finals) == CONNECTIONS * PER_CONNECTION
    assert all(r.startswith(b"250 2.0.0 <alice@example.test> ") for r in finals)
    box = tmp_path / "mail" / "alice@example.test" / "Maildir"
    result = sync_mailbox(str(box))
    uids = [m.uid for m in result.messages]
    assert uids == list(range(1, CONNECTIONS * PER_CONNECTION + 1))
    bodies = {(box / m.relpath).read_bytes().split(b"\n\n", 1)[1] for m in result.messages}
    expected = {_message(c, n).replace(b"\r\n", b"\n").split(b"\n\n", 1)[1]
                for c in range(CONNECTIONS) for n in range(PER_CONNECTION)}
    assert bodies == expected
