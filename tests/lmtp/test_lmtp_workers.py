"""LMTP served by our real master from worker processes (``service lmtp { process_min_avail = 2 }``,
the text Dovecot's performance recipe uses): connections to two processes delivering into one
Maildir at once get every message saved once, numbered once, with the uidlist as the files say."""

from __future__ import annotations

import os
import threading
from pathlib import Path

from pydovecot.storage.maildir.sync import sync_mailbox
from pydovecot.storage.maildir.uidlist import read_uidlist
from tests.lmtp.harness import write_config
from tests.lmtp.test_concurrent_delivery import CONNECTIONS, PER_CONNECTION, _client, _message
from tests.support import server
from tests.support.net import free_port, wait_port

WORKERS = 2


def test_worker_processes_deliver_into_one_maildir(open_tmp_path: Path) -> None:
    port = free_port()
    conf = write_config(open_tmp_path, port, extra=f"service lmtp {{\n  process_min_avail = {WORKERS}\n}}\n")
    env = {**os.environ, "PYDOVECOT_PROCESS_MODEL": "auto"}
    proc = server.start(conf, env=env)
    replies: list[list[bytes]] = [[] for _ in range(CONNECTIONS)]
    try:
        server.wait_started(proc, open_tmp_path / "dovecot.log")
        wait_port(port, proc)
        # The first WORKERS clients hold their connections open together: with lmtp's
        # client_limit = 1 each of them is then in a process of its own.
        together = threading.Barrier(WORKERS)
        threads = [threading.Thread(target=_client, args=(port, c, replies[c], together if c < WORKERS else None))
                   for c in range(CONNECTIONS)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
        log = (open_tmp_path / "dovecot.log").read_text()
    finally:
        server.stop(proc)
    finals = [r for rs in replies for r in rs[2::3]]
    assert len(finals) == CONNECTIONS * PER_CONNECTION
    assert all(r.startswith(b"250 2.0.0 <alice@example.test> ") for r in finals), finals
    # Served by more than one process: the pids in the delivery log lines differ.
    pids = {line.split("<")[1].split(">")[0] for line in log.splitlines() if "saved mail to INBOX" in line}
    assert len(pids) > 1, pids
    box = open_tmp_path / "mail" / "alice@example.test" / "Maildir"
    records = read_uidlist(str(box))
    assert records is not None
    # Numbered at save time, in order, once -- except, as with Dovecot (a delivery only tries
    # the uidlist lock), mail saved while another process held the lock: the next sync
    # numbers those, after the others.
    numbered = [r.uid for r in records.records]
    assert numbered == list(range(1, len(numbered) + 1))
    files = set(os.listdir(box / "new"))
    assert len(files) == CONNECTIONS * PER_CONNECTION
    assert {r.filename for r in records.records} <= files
    result = sync_mailbox(str(box))
    assert [m.uid for m in result.messages] == list(range(1, CONNECTIONS * PER_CONNECTION + 1))
    assert {m.uid: m.base for m in result.messages if m.uid <= len(numbered)} == {
        r.uid: r.filename for r in records.records}
    bodies = {(box / m.relpath).read_bytes().split(b"\n\n", 1)[1] for m in result.messages}
    expected = {_message(c, n).replace(b"\r\n", b"\n").split(b"\n\n", 1)[1]
                for c in range(CONNECTIONS) for n in range(PER_CONNECTION)}
    assert bodies == expected
