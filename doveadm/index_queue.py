"""`doveadm index -q`: queue mailboxes for a background indexer instead of indexing now.

Real doveadm writes ``APPEND\\t0\\t<user>\\t<mailbox>\\t<max recent>`` lines to the indexer
service's socket (base_dir/indexer). pydovecot has no indexer service, so the same lines are
appended to a queue file, ``base_dir/pydovecot-indexer-queue``, and a detached background
process (the "indexer") drains it: it takes the queued lines, indexes them (as `doveadm index
-u USER -n MAX MAILBOX...` would) and exits when the queue is empty. Its errors go to
``base_dir/pydovecot-indexer.log``. Only one indexer runs at a time (an flock); the queue file
is itself locked while lines are appended or taken, so nothing queued is lost or done twice,
and an indexer killed half-way leaves at worst a batch to redo by the next ``-q``.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass

QUEUE_NAME = "pydovecot-indexer-queue"
LOG_NAME = "pydovecot-indexer.log"
_ESCAPES = {"\x01": "\x011", "\t": "\x01t", "\r": "\x01r", "\n": "\x01n"}
_UNESCAPES = {v[1]: k for k, v in _ESCAPES.items()}


@dataclass(frozen=True)
class Entry:
    username: str
    mailbox: str
    max_recent: int


def tab_escape(text: str) -> str:
    """str_append_tabescaped()."""
    return "".join(_ESCAPES.get(ch, ch) for ch in text)


def tab_unescape(text: str) -> str:
    out = []
    chars = iter(text)
    for ch in chars:
        out.append(_UNESCAPES.get(next(chars, ""), "") if ch == "\x01" else ch)
    return "".join(out)


def format_entry(entry: Entry) -> str:
    return f"APPEND\t0\t{tab_escape(entry.username)}\t{tab_escape(entry.mailbox)}\t{entry.max_recent}\n"


def parse_entry(line: str) -> Entry | None:
    fields = line.rstrip("\n").split("\t")
    if len(fields) != 5 or fields[0] != "APPEND" or not fields[4].isdigit():
        return None
    return Entry(tab_unescape(fields[2]), tab_unescape(fields[3]), int(fields[4]))


@contextlib.contextmanager
def _locked(path: str) -> Iterator[int]:
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield fd
    finally:
        os.close(fd)


def enqueue(base_dir: str, entries: list[Entry]) -> str:
    """Append entries to the queue; returns its path."""
    os.makedirs(base_dir, exist_ok=True)
    path = os.path.join(base_dir, QUEUE_NAME)
    with _locked(path) as fd:
        os.write(fd, "".join(format_entry(e) for e in entries).encode("utf-8"))
    return path


def take(base_dir: str) -> list[Entry]:
    """Everything queued, emptying the queue."""
    path = os.path.join(base_dir, QUEUE_NAME)
    with _locked(path) as fd:
        data = b""
        while chunk := os.pread(fd, 65536, len(data)):
            data += chunk
        os.ftruncate(fd, 0)
    return [e for e in map(parse_entry, data.decode("utf-8", "replace").splitlines()) if e is not None]


def drain(base_dir: str, index: Callable[[Entry], None]) -> int:
    """Index everything queued, batch after batch, while we are the only indexer; returns the
    number of entries done (0 if another indexer already runs)."""
    lock = os.open(os.path.join(base_dir, QUEUE_NAME + ".lock"), os.O_RDWR | os.O_CREAT, 0o600)
    done = 0
    try:
        while True:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                return done  # the running indexer will see our entries
            while batch := take(base_dir):
                for entry in batch:
                    index(entry)
                    done += 1
            fcntl.flock(lock, fcntl.LOCK_UN)
            # Lines queued between our last take and the unlock: their enqueuer's indexer may
            # have given up on our lock, so look once more.
            if not os.path.getsize(os.path.join(base_dir, QUEUE_NAME)):
                return done
    finally:
        os.close(lock)


def start_background(base_dir: str, index: Callable[[Entry], None]) -> None:
    """Drain the queue in a detached grandchild process; returns at once."""
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid:
        os.waitpid(pid, 0)
        return
    try:  # the child: fork again so the indexer is not our zombie, then detach
        if os.fork():
            os._exit(0)
        os.setsid()
        null = os.open(os.devnull, os.O_RDWR)
        log = os.open(os.path.join(base_dir, LOG_NAME), os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        os.dup2(null, 0)
        os.dup2(null, 1)
        os.dup2(log, 2)
        drain(base_dir, index)
    finally:
        with contextlib.suppress(Exception):
            sys.stderr.flush()
        os._exit(0)
