"""Compare our FETCH answers with the recorded (or live) Dovecot ones."""

from __future__ import annotations

import re
from pathlib import Path

from pydovecot.storage.mime import BinaryError, parse_message, render_item
from tests.storage.mime.oracle import CRASHED, read_golden

_UNTAGGED = re.compile(rb"^\* 1 FETCH \((?P<body>.*)\)\r\n$", re.DOTALL)


def split_answer(raw: bytes) -> tuple[bytes | None, bytes]:
    """(FETCH payload or None, tagged status without the tag) of one recorded answer."""
    tag_at = raw.rfind(b"\r\nt", 0, len(raw) - 2)
    untagged, tagged = (raw[:tag_at + 2], raw[tag_at + 2:]) if tag_at >= 0 else (b"", raw)
    status = tagged.split(b" ", 1)[1].rstrip(b"\r\n")
    if not status.startswith(b"OK"):
        return None, status
    m = _UNTAGGED.match(untagged)
    return (m["body"] if m else None), status


def ours(message: bytes, item: str) -> tuple[bytes | None, bytes]:
    msg = parse_message(message)
    try:
        return render_item(msg, item), b"OK Fetch completed."
    except BinaryError as exc:
        return None, f"NO [{exc.code}] {exc.text}".encode()


# (corpus name, item) pairs where we knowingly differ from the recorded answer, with the reason.
KNOWN_DIFFERENCES: dict[tuple[str, str], str] = {}


def container_declares_encoding(message: bytes) -> bool:
    """A multipart or message/rfc822 part that claims base64/quoted-printable (RFC 2045 forbids it).

    For such messages Dovecot's BINARY answers depend on what the session fetched before (its
    binary cache and part tree state), so they are not comparable item by item.
    """
    from pydovecot.storage.mime.binary import part_cte

    msg = parse_message(message)
    if any(p.children and part_cte(p) in ("base64", "qp") for p in msg.walk()):
        return True
    # A converting encoding on a header that never ends (no empty line): Dovecot sizes the
    # literal for a converted header but sends the unconverted one, cut short.
    return any(not p.eoh and part_cte(p) in ("base64", "qp") for p in msg.walk())


def compare(message: bytes, answers: dict[str, bytes]) -> list[tuple[str, bytes | None, bytes | None]]:
    """Items that differ: (item, expected payload/status, ours)."""
    bad = []
    for item, raw in answers.items():
        if raw == CRASHED:
            continue  # Dovecot died: nothing to compare with
        want = split_answer(raw)
        got = ours(message, item)
        if want != got:
            bad.append((item, want[0] or want[1], got[0] or got[1]))
    return bad


def parity(corpus: Path, goldens: Path) -> tuple[int, int, list[str]]:
    """(identical items, total items, descriptions of the differing ones) over a corpus."""
    same = total = 0
    bad: list[str] = []
    for golden in sorted(goldens.glob("*.txt")):
        answers = read_golden(golden)
        diffs = compare((corpus / (golden.stem + ".eml")).read_bytes(), answers)
        total += len(answers)
        same += len(answers) - len(diffs)
        bad += [f"{golden.stem} {item}" for item, _, _ in diffs]
    return same, total, bad


if __name__ == "__main__":
    here = Path(__file__).resolve().parent
    ok, n, differing = parity(here / "corpus", here / "goldens")
    print(f"parity: {ok}/{n} items identical")
    for line in differing:
        print("  differs:", line)
