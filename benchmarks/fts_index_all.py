"""`doveadm index -A '*'`: ours against real Dovecot 2.3.19 with fts_lucene, in one run.

    python benchmarks/fts_index_all.py [--users 5] [--messages 2000] [--max-kb 20]

Builds USERS Maildirs of MESSAGES generated messages each (2..MAX_KB KB of words, every third
multipart with a base64 attachment), one copy for real and one for ours, then:
1. full: `doveadm index -A '*'` wall time, real (a private dovecot for the userdb: own
   base_dir, no listeners, stopped afterwards) vs ours (`python -m doveadm`, a process pool);
2. incremental: 100 new messages delivered to one user's new/, then `doveadm index -u USER
   INBOX`; ours is also timed in-process (fts_index() alone, without interpreter start-up).
Targets: full >= 4x faster than real; incremental <= 0.3 s.
"""

from __future__ import annotations

import argparse
import base64
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.support.conf import passwd_file_tree  # noqa: E402

WORDS = ("alpha bravo charlie delta echo foxtrot golf hotel india juliet kilo lima mike november oscar papa "
         "quebec romeo sierra tango uniform victor whiskey xray yankee zulu mail server index search query "
         "report quarter budget meeting project deadline invoice customer support").split()


IN_PROCESS = """
import sys, time
sys.path.insert(0, {repo!r})
from pydovecot.config import load
from pydovecot.storage.mail_user import create_mail_user
user = create_mail_user(load({conf!r}).lookup(service="doveadm"), "u0", {{"home": {home!r}}}, service="doveadm")
box = user.open_mailbox("INBOX")
t = time.perf_counter(); n = box.fts_index(); print(n, time.perf_counter() - t)
"""


def make_message(rng: random.Random, i: int, max_kb: int) -> bytes:
    size = rng.randint(2, max_kb) * 1024
    words = [rng.choice(WORDS) for _ in range(size // 7)]
    body = "\n".join(" ".join(words[k:k + 12]) for k in range(0, len(words), 12))
    head = (f"From: user{i}@example.test\nTo: u@example.test\nSubject: message {i} {rng.choice(WORDS)}\n"
            f"Message-ID: <{i}.{rng.random()}@bench>\nDate: Wed, 25 Nov 2026 10:00:00 +0000\n")
    if i % 3:
        return (head + "\n" + body + "\n").encode()
    attachment = base64.encodebytes(rng.randbytes(size // 3)).decode()
    return (head + "MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=B\n\n--B\n"
            "Content-Type: text/plain\n\n" + body + "\n--B\nContent-Type: application/octet-stream\n"
            "Content-Transfer-Encoding: base64\n\n" + attachment + "--B--\n").encode()


def deliver(maildir: str, sub: str, rng: random.Random, first: int, count: int, max_kb: int) -> None:
    for i in range(first, first + count):
        data = make_message(rng, i, max_kb)
        flags = ":2,S" if sub == "cur" else ""
        with open(os.path.join(maildir, sub, f"{1700000000 + i}.M{i}P1.bench,S={len(data)}{flags}"), "wb") as f:
            f.write(data)


def setup(root: str, users: int, messages: int, max_kb: int, uid: int) -> str:
    os.makedirs(os.path.join(root, "run"))
    os.makedirs(os.path.join(root, "state"))
    lines = []
    for n in range(users):
        home = os.path.join(root, "home", f"u{n}")
        for sub in ("cur", "new", "tmp"):
            os.makedirs(os.path.join(home, "Maildir", sub))
        deliver(os.path.join(home, "Maildir"), "cur", random.Random(n), 0, messages, max_kb)
        lines.append(f"u{n}:{{PLAIN}}x:{uid}:{uid}::{home}\n")
    with open(os.path.join(root, "passwd"), "w") as f:
        f.writelines(lines)
    conf = os.path.join(root, "dovecot.conf")
    with open(conf, "w") as f:
        f.write(passwd_file_tree(root, mail_plugins="fts fts_lucene", plugin="  fts = lucene\n",
                                 log_name="dovecot.log"))
    return conf


def timed(cmd: list[str], env: dict[str, str] | None = None) -> float:
    t = time.perf_counter()
    subprocess.run(cmd, check=True, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - t


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--users", type=int, default=5)
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--max-kb", type=int, default=20)
    args = parser.parse_args()
    repo = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    top = tempfile.mkdtemp(prefix="pydovecot-index-all-")
    os.chmod(top, 0o755)
    uid = 65534 if os.getuid() == 0 else os.getuid()
    env = dict(os.environ, PYTHONPATH=repo)
    ours_cmd = [sys.executable, "-m", "doveadm"]
    try:
        t = time.perf_counter()
        confs = {who: setup(os.path.join(top, who), args.users, args.messages, args.max_kb, uid)
                 for who in ("real", "ours")}
        subprocess.run(["chown", "-R", f"{uid}:{uid}", top], check=True)
        total = args.users * args.messages
        print(f"{args.users} users x {args.messages} messages (2-{args.max_kb} KB), "
              f"generated in {time.perf_counter() - t:.0f}s; {os.cpu_count()} cores")
        subprocess.run(["/usr/sbin/dovecot", "-c", confs["real"]], check=True)
        try:
            real_full = timed(["/usr/bin/doveadm", "-c", confs["real"], "index", "-A", "*"])
            deliver(os.path.join(top, "real", "home", "u0", "Maildir"), "new", random.Random(99), total, 100,
                    args.max_kb)
            subprocess.run(["chown", "-R", f"{uid}:{uid}", top], check=True)
            real_incr = timed(["/usr/bin/doveadm", "-c", confs["real"], "index", "-u", "u0", "INBOX"])
        finally:
            subprocess.run(["/usr/sbin/dovecot", "-c", confs["real"], "stop"], check=False)
        ours_full = timed([*ours_cmd, "-c", confs["ours"], "index", "-A", "*"], env)
        ours_home = os.path.join(top, "ours", "home", "u0")
        deliver(os.path.join(ours_home, "Maildir"), "new", random.Random(99), total, 100, args.max_kb)
        subprocess.run(["chown", "-R", f"{uid}:{uid}", top], check=True)
        ours_incr = timed([*ours_cmd, "-c", confs["ours"], "index", "-u", "u0", "INBOX"], env)
        deliver(os.path.join(ours_home, "Maildir"), "new", random.Random(98), total + 100, 100, args.max_kb)
        subprocess.run(["chown", "-R", f"{uid}:{uid}", top], check=True)
        out = subprocess.run([sys.executable, "-c", IN_PROCESS.format(repo=repo, conf=confs["ours"], home=ours_home)],
                             check=True, capture_output=True, text=True).stdout.split()
        print(f"{'':34}{'real lucene':>12}{'ours':>10}{'ratio':>9}")
        print(f"{'index -A (s, wall)':34}{real_full:12.2f}{ours_full:10.2f}{real_full / ours_full:8.2f}x"
              f"   ({total / real_full:.0f} vs {total / ours_full:.0f} msg/s)")
        print(f"{'index 100 new, command (s, wall)':34}{real_incr:12.2f}{ours_incr:10.2f}"
              f"{real_incr / ours_incr:8.2f}x")
        print(f"{'index 100 new, in-process (s)':34}{'':12}{float(out[1]):10.3f}   ({out[0]} messages)")
    finally:
        shutil.rmtree(top, ignore_errors=True)


if __name__ == "__main__":
    main()
