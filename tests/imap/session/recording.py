"""Recording IMAP transcripts from real Dovecot into golden files: the steps every recorder of
this package shares (a fresh mail home, real Dovecot on it, the case, the normalised replies)."""

from __future__ import annotations

import json
import tempfile
import time
from collections.abc import Callable, Mapping
from pathlib import Path

from tests.support import real_dovecot

from .cases import write_config

Runner = Callable[[str, int, list[str]], list[tuple[str, str]]]


def record_against_real(lines: list[str], settings: str, port: int, run: Runner,
                        normalise: Callable[[str], str]) -> list[list[str]]:
    """``lines`` run by ``run`` against real Dovecot on a fresh mail home (config + ``settings``)."""
    with tempfile.TemporaryDirectory(prefix="imaprecord") as tmp:
        base = Path(tmp)
        base.chmod(0o755)
        conf = write_config(base, port, settings)
        with real_dovecot.running(conf):
            time.sleep(0.3)
            pairs = run("127.0.0.1", port, lines)
    return [[line, normalise(reply)] for line, reply in pairs]


def update_goldens(golden: Path, cases: Mapping[str, object], names: list[str],
                   record: Callable[[str], list[list[str]]]) -> None:
    """Record ``names`` (all cases when empty) into ``golden``, keeping the other cases' recordings,
    in the cases' order."""
    out: dict[str, list[list[str]]] = json.loads(golden.read_text()) if golden.exists() else {}
    for name in names or list(cases):
        out[name] = record(name)
    out = {name: out[name] for name in cases if name in out}
    golden.write_text(json.dumps(out, indent=1, ensure_ascii=False) + "\n")
