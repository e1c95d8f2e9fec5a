"""MIME parse speed: pydovecot.storage.mime.parse_message against the stdlib ``email`` parser.

    /work/main/.venv/bin/python benchmarks/mime_parse.py [--mb 50] [--rounds 3]

Three messages are built in memory: a ~``--mb`` MB multipart/mixed with many base64 and text
parts (one nested message/rfc822), a message whose body is ``--mb`` MB of 1 MB lines, and the
same size as 50k small parts.  For each, the best of ``--rounds`` runs of our parser (which only
records offsets) and of ``email.message_from_bytes`` (which copies every part) is printed with
the ratio.  A script, not a test: it prints figures and asserts nothing about them.
"""

from __future__ import annotations

import argparse
import base64
import email
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pydovecot.storage.mime import bodystructure, parse_message  # noqa: E402


def big_multipart(mb: int) -> bytes:
    blob = base64.encodebytes(os.urandom(75_000))  # ~100 KB of base64 lines
    text = b"Some text line that is long enough to look like prose.\n" * 1800
    parts = []
    size = 0
    i = 0
    while size < mb * 1_000_000:
        if i % 2:
            parts.append(b"Content-Type: application/octet-stream; name=\"f%d.bin\"\n"
                         b"Content-Transfer-Encoding: base64\n\n" % i + blob)
        else:
            parts.append(b"Content-Type: text/plain; charset=utf-8\n\n" + text)
        size += len(parts[-1])
        i += 1
    inner = b"Content-Type: message/rfc822\n\nFrom: x@y\nSubject: inner\n\ninner body\n"
    body = b"".join(b"--BOUNDARY\n" + p + b"\n" for p in [*parts, inner]) + b"--BOUNDARY--\n"
    return (b"From: a@b\nTo: c@d\nSubject: big\nMIME-Version: 1.0\n"
            b"Content-Type: multipart/mixed; boundary=BOUNDARY\n\n" + body)


def long_lines(mb: int) -> bytes:
    line = b"x" * 1_000_000 + b"\n"
    return b"From: a@b\nSubject: long lines\n\n" + line * mb


def many_parts(mb: int) -> bytes:
    count = 50_000
    chunk = b"y" * max(1, mb * 1_000_000 // count - 40)
    body = b"".join(b"--b\nContent-Type: text/plain\n\n" + chunk + b"\n" for _ in range(count))
    return b"From: a@b\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=b\n\n" + body + b"--b--\n"


def best(fn: Callable[[], object], rounds: int) -> float:
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--mb", type=int, default=50)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    for name, build in (("multipart", big_multipart), ("1MB-lines", long_lines), ("50k-parts", many_parts)):
        data = build(args.mb)
        ours = best(lambda d=data: bodystructure(parse_message(d)), args.rounds)
        theirs = best(lambda d=data: email.message_from_bytes(d), args.rounds)
        print(f"{name:10s} {len(data) / 1e6:7.1f} MB  ours(parse+BODYSTRUCTURE) {ours:7.3f}s  "
              f"email {theirs:7.3f}s  ratio {theirs / ours:6.1f}x faster")


if __name__ == "__main__":
    main()
