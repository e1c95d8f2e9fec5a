"""Full-text indexing: ours (SQLite FTS5) against real Dovecot's fts_lucene, same mail, same run.

    python benchmarks/fts_index.py [--messages 2000]

Generates a Maildir of 2-100 KB messages (some multipart with base64 attachments), then:
- real: a private dovecot (own base_dir, no listeners) and `doveadm index`, which indexes in
  its own process with fts_lucene; then `doveadm search body WORD` (warm);
- ours: the fts plugin's fts_index() on the same Maildir copy, then fts_lookup warm;
each in its own process, so CPU seconds and peak RSS are the indexer's own. Prints ratios.
"""

from __future__ import annotations

import argparse
import base64
import os
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time

WORDS = ("alpha bravo charlie delta echo foxtrot golf hotel india juliet kilo lima mike november oscar papa "
         "quebec romeo sierra tango uniform victor whiskey xray yankee zulu mail server index search query "
         "report quarter budget meeting project deadline invoice customer support").split()
RARE = ("zeppelin", "quokka", "xylophone", "marzipan", "kumquat")

CONF = """\
mail_location = maildir:{home}/Maildir
base_dir = {root}/run
state_dir = {root}/state
ssl = no
mail_uid = {uid}
mail_gid = {uid}
first_valid_uid = 0
mail_plugins = fts fts_lucene
plugin {{
  fts = lucene
  fts_lucene = whitespace_chars=@.
}}
"""

OURS = """
import sys, time, resource
sys.path.insert(0, {repo!r})
from pydovecot.config import load
from pydovecot.storage.mail_user import create_mail_user
user = create_mail_user(load({conf!r}).lookup(service="imap"), "u", {{"home": {home!r}}}, service="imap")
box = user.open_mailbox("INBOX")
box.sync()
t = time.perf_counter(); n = box.fts_index(); index_s = time.perf_counter() - t
t = time.perf_counter()
for _ in range(5):
    box.fts_lookup("BODY", {word!r})
warm = (time.perf_counter() - t) / 5
print(n, index_s, warm, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""


def make_message(rng: random.Random, i: int) -> bytes:
    size = rng.randint(2, 100) * 1024
    words = []
    while sum(len(w) + 1 for w in words) < size * 0.6:
        words.append(rng.choice(WORDS))
    if i % 97 == 0:
        words.append(RARE[i % len(RARE)])
    body = "\n".join(" ".join(words[k:k + 12]) for k in range(0, len(words), 12))
    head = f"From: user{i}@example.test\nTo: u@example.test\nSubject: message {i} {rng.choice(WORDS)}\n" \
           f"Message-ID: <{i}@bench>\nDate: Wed, 25 Nov 2026 10:00:00 +0000\n"
    if i % 3:
        return (head + "\n" + body + "\n").encode()
    attachment = base64.encodebytes(rng.randbytes(size // 3)).decode()
    return (head + "MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=B\n\n--B\n"
            "Content-Type: text/plain\n\n" + body + "\n--B\nContent-Type: application/octet-stream\n"
            "Content-Transfer-Encoding: base64\n\n" + attachment + "--B--\n").encode()


def build_maildir(root: str, count: int) -> str:
    rng = random.Random(42)
    home = os.path.join(root, "home")
    cur = os.path.join(home, "Maildir", "cur")
    for sub in ("cur", "new", "tmp"):
        os.makedirs(os.path.join(home, "Maildir", sub))
    for i in range(count):
        data = make_message(rng, i)
        with open(os.path.join(cur, f"{1700000000 + i}.M{i}P1.bench,S={len(data)}:2,S"), "wb") as f:
            f.write(data)
    return home


REAL_EXTRA = """\
protocols =
log_path = {root}/dovecot.log
passdb {{
  driver = static
  args = nopassword
}}
userdb {{
  driver = static
  args = uid={uid} gid={uid} home={home}
}}
"""


def _child_usage() -> tuple[float, int]:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime, usage.ru_maxrss


def run_real(conf: str, word: str) -> tuple[float, float, float, int]:
    """doveadm index (in-process indexing with fts_lucene) under a private real dovecot."""
    subprocess.run(["/usr/sbin/dovecot", "-c", conf], check=True)
    try:
        cpu0, _ = _child_usage()
        t = time.perf_counter()
        subprocess.run(["/usr/bin/doveadm", "-c", conf, "index", "-u", "u", "INBOX"], check=True)
        index_s = time.perf_counter() - t
        cpu1, rss = _child_usage()

        def search(query: list[str]) -> float:
            t = time.perf_counter()
            for _ in range(5):
                subprocess.run(["/usr/bin/doveadm", "-c", conf, "search", "-u", "u", "mailbox", "INBOX", *query],
                               check=True, capture_output=True)
            return (time.perf_counter() - t) / 5

        # The FTS lookup alone: a body search minus a search that needs no index (process start-up).
        warm = max(search(["body", word]) - search(["uid", "1"]), 1e-6)
        return index_s, cpu1 - cpu0, warm, rss
    finally:
        subprocess.run(["/usr/sbin/dovecot", "-c", conf, "stop"], check=False)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=2000)
    args = parser.parse_args()
    repo = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    root = tempfile.mkdtemp(prefix="pydovecot-fts-bench-")
    os.chmod(root, 0o755)
    try:
        uid = 65534 if os.getuid() == 0 else os.getuid()
        real_home = build_maildir(os.path.join(root, "real"), args.messages)
        ours_home = os.path.join(root, "ours", "home")
        shutil.copytree(real_home, ours_home)
        subprocess.run(["chown", "-R", f"{uid}:{uid}", root], check=True)
        word = RARE[0]
        confs = {}
        for who, home in (("real", real_home), ("ours", ours_home)):
            confs[who] = os.path.join(root, who, "dovecot.conf")
            with open(confs[who], "w") as f:
                f.write(CONF.format(home=home, root=os.path.join(root, who), uid=uid))
                if who == "real":
                    f.write(REAL_EXTRA.format(home=home, root=os.path.join(root, who), uid=uid))
        mb = sum(os.path.getsize(os.path.join(real_home, "Maildir", "cur", n))
                 for n in os.listdir(os.path.join(real_home, "Maildir", "cur"))) / 1e6
        real_index, real_cpu, real_warm, real_rss = run_real(confs["real"], word)
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        out = subprocess.run([sys.executable, "-c", OURS.format(repo=repo, conf=confs["ours"], home=ours_home,
                                                               word=word)],
                             capture_output=True, text=True, check=True).stdout.split()
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        ours_cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
        count, ours_index, ours_warm, ours_rss = int(out[0]), float(out[1]), float(out[2]), int(out[3])
        print(f"{args.messages} messages, {mb:.0f} MB; indexed by ours: {count}")
        print(f"{'':24}{'real lucene':>14}{'ours':>12}{'ratio':>10}")
        print(f"{'index rate (msg/s)':24}{args.messages / real_index:14.0f}{args.messages / ours_index:12.0f}"
              f"{real_index / ours_index:9.2f}x")
        print(f"{'index CPU (s)':24}{real_cpu:14.2f}{ours_cpu:12.2f}{ours_cpu / real_cpu:9.2f}x")
        print(f"{'peak RSS (MB)':24}{real_rss / 1024:14.1f}{ours_rss / 1024:12.1f}{ours_rss / real_rss:9.2f}x")
        print(f"{'warm search (ms)':24}{real_warm * 1000:14.1f}{ours_warm * 1000:12.1f}{ours_warm / real_warm:9.2f}x")
        print("(real's warm search: doveadm search body minus doveadm search uid; ours: the lookup alone)")
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
