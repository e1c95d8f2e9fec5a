"""SELECT + ``UID FETCH 1:* (FLAGS)`` on a big Maildir, ours against real Dovecot's imap.

    /work/main/.venv/bin/python benchmarks/storage_select.py [--sizes 10000 100000] [--runs 3]

For each size a Maildir of that many messages in cur/ (random flags, some keywords) is written
twice under a temp dir: one copy for real Dovecot 2.3.19, run as ``/usr/lib/dovecot/imap`` in
PREAUTH mode on stdin/stdout (uid 65534, no daemon), one for us. "Cold" is the first open
(no uidlist, no index: both build them); "warm" is a later open from a new process (uidlist
and index on disk, nothing in memory). Ours is ``MaildirIndexedMailbox.sync(take_recent=True)``
plus building every ``* n FETCH (UID u FLAGS (...))`` line, timed in-process (our process
start-up is not counted; Dovecot's exec + config read is, a few ms). Best of ``--runs``.
A script, not a test: it prints figures and asserts nothing. Run as root.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pydovecot.storage import mailbox as mailbox_module  # noqa: E402
from pydovecot.storage.mailbox import MaildirIndexedMailbox  # noqa: E402
from tests.support.real_dovecot import IMAP, NOBODY, chown_tree, imap_preauth  # noqa: E402

BODY = b"From: a@example.test\nSubject: bench\n\nhello\n"


def make_maildir(root: Path, count: int) -> None:
    rng = random.Random(count)
    for sub in ("cur", "new", "tmp"):
        (root / sub).mkdir(parents=True)
    (root / "dovecot-keywords").write_text("0 $Forwarded\n1 Junk\n")
    for i in range(count):
        flags = "".join(sorted(rng.sample("DFRST", rng.randint(0, 2)))) + ("a" if i % 7 == 0 else "")
        name = f"{1700000000 + i}.M{i % 1000000}P1234.bench,S={len(BODY)},W={len(BODY) + 4}:2,{flags}"
        (root / "cur" / name).write_bytes(BODY)


def real_select(base: Path) -> float:
    conf = base / "dovecot.conf"
    if not conf.exists():
        conf.write_text(f"mail_location = maildir:~/Maildir\nmail_uid = {NOBODY}\nmail_gid = {NOBODY}\n"
                        f"base_dir = {base}/run\nlog_path = /dev/null\nssl = no\n")
        (base / "run").mkdir(exist_ok=True)
    start = time.perf_counter()
    # stdin stays open until the FETCH is answered: imap drops pending output at EOF.
    proc = imap_preauth(conf, "bench", base / "home", stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                        stderr=subprocess.DEVNULL)
    assert proc.stdin is not None and proc.stdout is not None
    proc.stdin.write(b"a SELECT INBOX\r\nb UID FETCH 1:* (FLAGS)\r\n")
    proc.stdin.flush()
    tail = b""
    while b"\r\nb OK" not in tail and b"\r\nb NO" not in tail and b"\r\nb BAD" not in tail:
        chunk = proc.stdout.read1(1 << 16)
        if not chunk:
            break
        tail = tail[-64:] + chunk
    elapsed = time.perf_counter() - start
    proc.stdin.write(b"z LOGOUT\r\n")
    proc.stdin.close()
    proc.stdout.read()
    proc.wait(timeout=60)
    if b"b OK" not in tail:
        raise RuntimeError(tail)
    return elapsed


def our_select(maildir: Path) -> float:
    mailbox_module._SNAPSHOTS.clear()  # a new process: nothing cached in memory
    start = time.perf_counter()
    box = MaildirIndexedMailbox("INBOX", str(maildir))
    snap = box.sync(take_recent=True)
    lines = []
    for seq, msg in enumerate(snap.messages, 1):
        flags = msg.all_flags + (("\\Recent",) if msg.uid in snap.recent_uids else ())
        lines.append(f"* {seq} FETCH (UID {msg.uid} FLAGS ({' '.join(flags)}))\r\n")
    payload = "".join(lines).encode()
    elapsed = time.perf_counter() - start
    assert len(snap.messages) == payload.count(b"FETCH")
    return elapsed


def bench(count: int, runs: int, work: Path) -> None:
    template = work / f"template-{count}"
    make_maildir(template, count)
    real_base = work / f"real-{count}"
    (real_base / "home").mkdir(parents=True)
    os.chmod(work, 0o755)
    os.chmod(real_base, 0o755)
    shutil.copytree(template, real_base / "home" / "Maildir", symlinks=True)
    chown_tree(real_base / "home", NOBODY)
    ours = work / f"ours-{count}"
    shutil.copytree(template, ours, symlinks=True)

    real_cold = real_select(real_base) if os.path.exists(IMAP) else float("nan")
    our_cold = our_select(ours)
    # "Later": past the 2 s within which a just-changed directory may change unseen.
    time.sleep(2.5)
    our_select(ours)  # the first settled open records the stamp a later process trusts
    real_warm = min(real_select(real_base) for _ in range(runs)) if os.path.exists(IMAP) else float("nan")
    our_warm = min(our_select(ours) for _ in range(runs))
    for label, real, our in (("cold", real_cold, our_cold), ("warm", real_warm, our_warm)):
        print(f"{count:>7} msgs {label}: real dovecot {real * 1000:8.0f} ms   ours {our * 1000:8.0f} ms   "
              f"ours/real {our / real:5.2f}x", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10000, 100000])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-select-"))
    try:
        for count in args.sizes:
            bench(count, args.runs, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
