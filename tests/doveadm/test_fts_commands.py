"""doveadm fts lookup|tokenize|optimize|rescan and doveadm index -A, against real 2.3.19's goldens
(goldens_fts/real.json, recorded by record_fts_goldens.py from the same fixture)."""

from __future__ import annotations

import io
import json
import os
import re
import sys
import tempfile
import time
import unicodedata
from pathlib import Path

import pytest

from tests.doveadm.fts_cases import CASES, MAILS, build

GOLDEN = json.loads((Path(__file__).parent / "goldens_fts" / "real.json").read_text())


def run(conf: Path, *args: str, stdin: str = "") -> dict:
    from doveadm.cli import main  # noqa: PLC0415

    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        saved = sys.stdin, sys.stdout, sys.stderr
        sys.stdin = io.TextIOWrapper(io.BytesIO(stdin.encode()))
        sys.stdout = io.TextIOWrapper(out, write_through=True)
        sys.stderr = io.TextIOWrapper(err, write_through=True)
        try:
            code = main(["doveadm", "-c", str(conf), *args])
            sys.stdout.flush()
            sys.stderr.flush()
        finally:
            for stream in (sys.stdout, sys.stderr):
                stream.detach()
            sys.stdin, sys.stdout, sys.stderr = saved
        out.seek(0)
        err.seek(0)
        return {"stdout": out.read().decode(), "stderr": err.read().decode(), "code": code}


@pytest.fixture
def conf(tmp_path: Path) -> Path:
    path = build(tmp_path, os.getuid())
    for user, mailbox, text in MAILS:
        if mailbox != "INBOX":
            run(path, "mailbox", "create", "-u", user, mailbox)
        assert run(path, "save", "-u", user, "-m", mailbox, stdin=text)["code"] == 0
    return path


def _real_stderr(text: str) -> str:
    # fts_lucene's one-time notice about its own settings; ours has no such state
    return "".join(line for line in text.splitlines(keepends=True) if "Warning: fts-lucene" not in line)


def test_every_case_matches_real(conf: Path) -> None:
    for name, args in CASES:
        if name.startswith("tokenize"):
            continue  # tokens differ by design: test_tokenize_differs_only_as_documented
        ours, real = run(conf, *args), GOLDEN[name]
        assert (name, ours["stdout"], ours["code"]) == (name, real["stdout"], real["code"])
        assert ours["stderr"] == _real_stderr(real["stderr"]), name


def _as_ours(real_tokens: list[str]) -> list[str]:
    """Real's libfts tokens turned into unicode61's, per the differences fts.py documents."""
    out = []
    for token in real_tokens:
        if "@" in token:
            continue  # the whole address: ours gives its parts only
        folded = "".join(c for c in unicodedata.normalize("NFKD", token) if not unicodedata.combining(c))
        out.extend(re.findall(r"[^\W_]+", folded.lower()))
    return out


def test_tokenize_differs_only_as_documented(conf: Path) -> None:
    ours = run(conf, *dict(CASES)["tokenize"])
    real = GOLDEN["tokenize"]
    assert ours["code"] == real["code"] == 0
    assert ours["stdout"].split("\n")[:-1] == _as_ours(real["stdout"].split("\n")[:-1])
    bad = run(conf, *dict(CASES)["tokenize_bad_language"])
    assert (bad["stderr"], bad["code"]) == (GOLDEN["tokenize_bad_language"]["stderr"], 64)


def _fts_db(conf: Path, user: str) -> Path:
    return conf.parent / "home" / user / "Maildir" / "pydovecot-fts.sqlite"


def test_rescan_throws_the_index_away_and_lookup_rebuilds_it(conf: Path) -> None:
    assert run(conf, "index", "-A", "*")["code"] == 0
    assert _fts_db(conf, "u1").exists()
    assert run(conf, "fts", "rescan", "-u", "u1")["code"] == 0
    assert not _fts_db(conf, "u1").exists() and _fts_db(conf, "u2").exists()
    assert run(conf, "fts", "lookup", "-u", "u1", "mailbox", "INBOX", "body", "lazy")["stdout"] == "INBOX: 2\n"


def test_optimize_drops_rows_of_expunged_mail(conf: Path) -> None:
    from pydovecot.plugins.fts.engine import FtsIndex  # noqa: PLC0415

    assert run(conf, "index", "-u", "u1", "INBOX")["code"] == 0
    assert run(conf, "expunge", "-u", "u1", "mailbox", "INBOX", "uid", "2")["code"] == 0
    directory = str(_fts_db(conf, "u1").parent)
    index = FtsIndex(directory)
    assert index.indexed_uids() == {1, 2, 3}  # contentless: the row stays...
    index.close()
    assert run(conf, "fts", "optimize", "-A")["code"] == 0
    index = FtsIndex(directory)
    assert index.indexed_uids() == {1, 3}  # ...until optimize rebuilds
    index.close()
    assert run(conf, "fts", "lookup", "-u", "u1", "mailbox", "INBOX", "body", "zebra")["stdout"] == "INBOX: 1\n"


def test_index_all_reports_a_broken_user_at_the_end_and_goes_on(conf: Path) -> None:
    _fts_db(conf, "u1").mkdir()  # sqlite cannot open a directory: u1's indexing fails
    result = run(conf, "-v", "index", "-A", "*")
    assert result["code"] == 75
    lines = result["stderr"].splitlines()
    assert lines[-1].startswith("doveadm(u1): Error: Mailbox INBOX: Indexing failed:")
    assert any(re.fullmatch(r"index: 2/2 users, 3 msgs, \d+ msg/s, done in [\d.]+s", line) for line in lines)
    # u1's Work (1 message) and the other user (2) were indexed all the same
    assert _fts_db(conf, "u2").is_file()
    assert run(conf, "fts", "lookup", "-u", "u2", "mailbox", "INBOX", "body", "zebra")["stdout"] == "INBOX: 1\n"


def test_index_n_skips_mailboxes_with_too_much_recent_mail(conf: Path, monkeypatch) -> None:
    import dataclasses  # noqa: PLC0415

    from doveadm.commands import mail  # noqa: PLC0415

    opened = mail.open_mailbox

    def with_recent(user, listed):  # noqa: ANN001, ANN202 - three recent messages, whatever the sync says
        box = opened(user, listed)
        return dataclasses.replace(box, recent=frozenset({1, 2, 3}))

    monkeypatch.setattr(mail, "open_mailbox", with_recent)
    assert run(conf, "index", "-u", "u2", "-n", "2", "INBOX")["code"] == 0
    assert not _fts_db(conf, "u2").exists()
    assert run(conf, "index", "-u", "u2", "-n", "3", "INBOX")["code"] == 0
    assert _fts_db(conf, "u2").exists()


def test_index_q_queues_for_the_background_indexer(conf: Path) -> None:
    from doveadm import index_queue  # noqa: PLC0415
    from pydovecot.plugins.fts.engine import FtsIndex  # noqa: PLC0415

    base_dir = str(conf.parent / "run")
    assert run(conf, "index", "-q", "-A", "INBOX")["code"] == 0
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if _fts_db(conf, "u2").exists() and not os.path.getsize(os.path.join(base_dir, index_queue.QUEUE_NAME)):
            index = FtsIndex(str(_fts_db(conf, "u2").parent))
            done = index.last_uid
            index.close()
            if done == 2:
                break
        time.sleep(0.05)
    else:
        pytest.fail("the background indexer did not index the queued mailboxes")


def test_queue_lines_are_the_indexer_protocol() -> None:
    from doveadm.index_queue import Entry, format_entry, parse_entry  # noqa: PLC0415

    entry = Entry("us\ter", "Box\nname", 5)
    line = format_entry(entry)
    assert line == "APPEND\t0\tus\x01ter\tBox\x01nname\t5\n"
    assert parse_entry(line) == entry
