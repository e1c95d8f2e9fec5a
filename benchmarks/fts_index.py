"""Full-text indexing: ours (SQLite FTS5) against real Dovecot's fts_lucene, same mail, same run.

    python benchmarks/fts_index.py [--messages 2000] [--substring]

Generates a Maildir of 2-100 KB messages (some multipart with base64 attachments), then:
- real: a private dovecot (own base_dir, no listeners) and `doveadm index`, which indexes in
  its own process with fts_lucene; then real `imap` (PREAUTH on a pipe, no network, no
  process start-up in the figure) answers `UID SEARCH TEXT word` for words of five rarities
  (0.2% .. ~100% of the messages), each timed warm (after one unmeasured run);
- ours: the fts plugin's fts_index() on the same Maildir copy, then the same UID SEARCH run
  through our IMAP command (parse + the storage-thread search, as the session runs it);
each in its own process, so CPU seconds and peak RSS are the indexer's own. Prints ratios.
With ``--substring`` ours also indexes a third copy with ``fts_substring = yes`` (trigrams)
and prints its size and search times beside the word index's.
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
# Five rarities: (word, one message in N has it); "budget" is one of WORDS (nearly every message).
RARITIES = (("zeppelin", 500), ("quokka", 50), ("xylophone", 10), ("marzipan", 2), ("budget", 1))

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
  fts_substring = {substring}
}}
passdb {{
  driver = static
  args = nopassword
}}
userdb {{
  driver = static
  args = uid={uid} gid={uid} home={home}
}}
"""

OURS = """
import glob, os, sys, time, resource
sys.path.insert(0, {repo!r})
from pydovecot.config import load
from pydovecot.storage.mail_user import create_mail_user
user = create_mail_user(load({conf!r}).lookup(service="imap"), "u", {{"home": {home!r}}}, service="imap")
box = user.open_mailbox("INBOX")
box.sync()
t = time.perf_counter(); n = box.fts_index(); index_s = time.perf_counter() - t
usage = resource.getrusage(resource.RUSAGE_SELF)
rss, cpu = usage.ru_maxrss, usage.ru_utime + usage.ru_stime  # the indexer's own, start-up included
from pydovecot.imap.commands.search import _run_search
from pydovecot.imap.protocol.parser import parse_command
from pydovecot.imap.selected import SelectedMailbox
view = SelectedMailbox("INBOX", box, False)
view.load(box.sync(), box.known_keywords())
warm = []
for word in {words!r}:
    line = ("a UID SEARCH TEXT " + word).encode()
    hits = len(_run_search(view, parse_command(line), None))
    t = time.perf_counter()
    for _ in range({repeat}):
        _run_search(view, parse_command(line), None)
    warm.append((time.perf_counter() - t) / {repeat})
    warm.append(hits)
size = sum(os.path.getsize(p) for p in glob.glob(os.path.join({home!r}, "Maildir", "pydovecot-fts.sqlite*")))
# The same searches through our IMAP session (TCP on loopback): parse, sync, storage thread, reply.
# The session works as the mail user: hand it what this (maybe root) process created.
import asyncio, socket, subprocess, threading
subprocess.run(["chown", "-R", "{uid}:{uid}", {home!r}], check=True)
from pydovecot.auth.backend import service_from_settings
from pydovecot.imap.server import ImapService
tree = load({conf!r})
loop = asyncio.new_event_loop()
async def start():
    service = await ImapService.create(tree, auth_service=service_from_settings(tree.lookup(service="auth")))
    return (await service.serve_tcp("127.0.0.1", 0)).sockets[0].getsockname()[1]
port = 0
ready = threading.Event()
def run():
    global port
    asyncio.set_event_loop(loop)
    port = loop.run_until_complete(start())
    ready.set()
    loop.run_forever()
threading.Thread(target=run, daemon=True).start()
ready.wait(30)
# The client is another process, so that it does not compete with the server for the GIL.
client = subprocess.run([sys.executable, "-c", {CLIENT!r}, str(port), str({repeat}), *{words!r}],
                        capture_output=True, text=True, check=True)
session = client.stdout.split()
print(n, index_s, rss, size, cpu, *warm, *session)
"""


CLIENT = """
import socket, sys, time
port, repeat, words = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3:]
sock = socket.create_connection(("127.0.0.1", port))
f = sock.makefile("rb")
f.readline()
tags = iter(range(1, 1 << 30))
def command(text):
    tag = b"t%d" % next(tags)
    sock.sendall(tag + b" " + text + b"\\r\\n")
    while True:
        line = f.readline()
        if not line or line.startswith(tag + b" "):
            return line
command(b"LOGIN u x")
command(b"SELECT INBOX")
for word in words:
    line = ("UID SEARCH TEXT " + word).encode()
    command(line)
    t = time.perf_counter()
    for _ in range(repeat):
        command(line)
    print((time.perf_counter() - t) / repeat)
command(b"LOGOUT")
"""


def make_message(rng: random.Random, i: int) -> bytes:
    size = rng.randint(2, 100) * 1024
    words = rng.choices(WORDS, k=int(size * 0.6 / 7))
    for word, every in RARITIES[:-1]:
        if i % every == every // 2:
            words.insert(rng.randrange(len(words) + 1), word)
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
"""


def _child_usage() -> tuple[float, int]:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime, usage.ru_maxrss


def run_real(conf: str, home: str, repeat: int) -> tuple[float, float, int, list[tuple[float, int]]]:
    """doveadm index (in-process indexing with fts_lucene) under a private real dovecot, then
    warm UID SEARCH TEXT in real imap."""
    subprocess.run(["/usr/sbin/dovecot", "-c", conf], check=True)
    try:
        cpu0, _ = _child_usage()
        t = time.perf_counter()
        subprocess.run(["/usr/bin/doveadm", "-c", conf, "index", "-u", "u", "INBOX"], check=True)
        index_s = time.perf_counter() - t
        cpu1, rss = _child_usage()
        return index_s, cpu1 - cpu0, rss, real_searches(conf, home, repeat)
    finally:
        subprocess.run(["/usr/sbin/dovecot", "-c", conf, "stop"], check=False)


def real_searches(conf: str, home: str, repeat: int) -> list[tuple[float, int]]:
    """Real imap on a pipe (PREAUTH): each word's UID SEARCH TEXT, mean of ``repeat`` warm runs."""
    imap = subprocess.Popen(["/usr/lib/dovecot/imap", "-c", conf], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            env={"USER": "u", "HOME": home, "PATH": "/usr/bin:/bin"})
    assert imap.stdin is not None and imap.stdout is not None
    tags = iter(range(1, 1 << 30))

    def command(text: str) -> list[bytes]:
        tag = f"t{next(tags)}".encode()
        imap.stdin.write(tag + b" " + text.encode() + b"\r\n")  # type: ignore[union-attr]
        imap.stdin.flush()  # type: ignore[union-attr]
        lines = []
        while True:
            line = imap.stdout.readline()  # type: ignore[union-attr]
            if not line:
                raise RuntimeError("real imap closed the connection")
            lines.append(line)
            if line.startswith(tag + b" "):
                return lines

    try:
        imap.stdout.readline()  # PREAUTH greeting
        command("SELECT INBOX")
        out = []
        for word, _ in RARITIES:
            found = command(f"UID SEARCH TEXT {word}")
            hits = len(found[0].split()) - 2 if found[0].startswith(b"* SEARCH") else 0
            t = time.perf_counter()
            for _ in range(repeat):
                command(f"UID SEARCH TEXT {word}")
            out.append(((time.perf_counter() - t) / repeat, hits))
        command("LOGOUT")
        return out
    finally:
        imap.stdin.close()
        imap.wait(timeout=30)


def run_ours(repo: str, conf: str, home: str, uid: int,
             repeat: int) -> tuple[int, float, float, int, int, list[tuple[float, int, float]]]:
    done = subprocess.run([sys.executable, "-c", OURS.format(repo=repo, conf=conf, home=home, uid=uid, repeat=repeat,
                                                            CLIENT=CLIENT, words=[w for w, _ in RARITIES])],
                          capture_output=True, text=True)
    if done.returncode:
        raise SystemExit(f"ours failed:\n{done.stderr}")
    out = done.stdout.split()
    words = len(RARITIES)
    searches = [(float(out[k]), int(out[k + 1]), float(out[5 + 2 * words + i]))
                for i, k in enumerate(range(5, 5 + 2 * words, 2))]
    return int(out[0]), float(out[1]), float(out[4]), int(out[2]), int(out[3]), searches


def tree_size(path: str) -> int:
    return sum(os.path.getsize(os.path.join(d, n)) for d, _, names in os.walk(path) for n in names)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=20, help="warm searches timed per word")
    parser.add_argument("--substring", action="store_true", help="also measure fts_substring = yes")
    args = parser.parse_args()
    repo = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    root = tempfile.mkdtemp(prefix="pydovecot-fts-bench-")
    os.chmod(root, 0o755)
    try:
        uid = 65534 if os.getuid() == 0 else os.getuid()
        real_home = build_maildir(os.path.join(root, "real"), args.messages)
        ours_home = os.path.join(root, "ours", "home")
        shutil.copytree(real_home, ours_home)
        substr_home = os.path.join(root, "substr", "home")
        if args.substring:
            shutil.copytree(real_home, substr_home)
        subprocess.run(["chown", "-R", f"{uid}:{uid}", root], check=True)
        confs = {}
        for who, home in (("real", real_home), ("ours", ours_home), ("substr", substr_home)):
            confs[who] = os.path.join(root, who, "dovecot.conf")
            os.makedirs(os.path.dirname(confs[who]), exist_ok=True)
            with open(confs[who], "w") as f:
                f.write(CONF.format(home=home, root=os.path.join(root, who), uid=uid,
                                    substring="yes" if who == "substr" else "no"))
                if who == "real":
                    f.write(REAL_EXTRA.format(home=home, root=os.path.join(root, who), uid=uid))
        mb = sum(os.path.getsize(os.path.join(real_home, "Maildir", "cur", n))
                 for n in os.listdir(os.path.join(real_home, "Maildir", "cur"))) / 1e6
        real_index, real_cpu, real_rss, real_warm = run_real(confs["real"], real_home, args.repeat)
        real_size = tree_size(os.path.join(real_home, "Maildir", "lucene-indexes"))
        count, ours_index, ours_cpu, ours_rss, ours_size, ours_warm = run_ours(repo, confs["ours"], ours_home, uid,
                                                                               args.repeat)
        print(f"{args.messages} messages, {mb:.0f} MB; indexed by ours: {count}")
        print(f"{'':24}{'real lucene':>14}{'ours':>12}{'ratio':>10}")
        print(f"{'index rate (msg/s)':24}{args.messages / real_index:14.0f}{args.messages / ours_index:12.0f}"
              f"{real_index / ours_index:9.2f}x")
        print(f"{'index CPU (s)':24}{real_cpu:14.2f}{ours_cpu:12.2f}{ours_cpu / real_cpu:9.2f}x")
        print(f"{'peak RSS (MB)':24}{real_rss / 1024:14.1f}{ours_rss / 1024:12.1f}{ours_rss / real_rss:9.2f}x")
        print(f"{'index size (MB)':24}{real_size / 1e6:14.1f}{ours_size / 1e6:12.1f}{ours_size / real_size:9.2f}x")
        print(f"warm UID SEARCH TEXT (ms){'real imap':>11}{'ours cmd':>10}{'ratio':>8}"
              f"{'ours session':>14}{'ratio':>8}   hits real/ours")
        for (word, every), (real_s, real_hits), (ours_s, ours_hits, sess_s) in zip(RARITIES, real_warm, ours_warm,
                                                                                    strict=True):
            label = f"  {word} (1/{every})"
            print(f"{label:24}{real_s * 1000:12.3f}{ours_s * 1000:10.3f}{ours_s / real_s:7.2f}x"
                  f"{sess_s * 1000:14.3f}{sess_s / real_s:7.2f}x   {real_hits}/{ours_hits}")
        print(f"(mean of {args.repeat} warm runs each; real: imap PREAUTH on a pipe, whole command round trip; "
              "ours cmd: parse + the storage-thread search in-process; ours session: the whole command "
              "through our IMAP server on loopback TCP, the client in its own process)")
        if args.substring:
            _, sub_index, _, sub_rss, sub_size, sub_warm = run_ours(repo, confs["substr"], substr_home, uid,
                                                          args.repeat)
            print(f"fts_substring = yes: index {args.messages / sub_index:.0f} msg/s, peak RSS {sub_rss / 1024:.1f} MB,"
                  f" size {sub_size / 1e6:.1f} MB = {sub_size / ours_size:.2f}x the word index")
            for (word, _), (sub_s, hits, sess_s) in zip(RARITIES, sub_warm, strict=True):
                print(f"  TEXT {word:10} cmd {sub_s * 1000:7.3f} ms  session {sess_s * 1000:7.3f} ms  hits {hits}")
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
