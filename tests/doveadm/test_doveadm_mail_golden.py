"""Our doveadm mail commands against real doveadm 2.3.19's recorded answers (goldens_mail/),
on the same prepared Maildir (mail_cases.py), and live against the real one when installed."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import require_real_dovecot
from tests.doveadm.mail_cases import CASES, MAIL_UID, Step, comparable, prepare, run_ours, run_real
from tests.support import real_dovecot

GOLDEN = Path(__file__).parent / "goldens_mail" / "mail_cases.json"
RECORDED: dict[str, list[dict]] = json.loads(GOLDEN.read_text(encoding="utf-8"))

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="the prepared Maildir is owned by another uid")


def _fresh(root: Path) -> Path:
    shutil.rmtree(root / "home", ignore_errors=True)
    return prepare(root)


@pytest.mark.parametrize("name", sorted(CASES))
def test_mail_case_matches_real(name: str, open_tmp_path: Path) -> None:
    conf = _fresh(open_tmp_path)
    assert [s["args"] for s in RECORDED[name]] == [list(s.args) for s in CASES[name]], "re-record the goldens"
    for step, expected in zip(CASES[name], RECORDED[name], strict=True):
        got = comparable(run_ours(conf, step), open_tmp_path)
        want = {key: expected[key] for key in ("stdout", "stderr", "code")}
        assert got == want, f"doveadm {' '.join(step.args)}"


def test_created_files_belong_to_the_mail_user(open_tmp_path: Path) -> None:
    conf = _fresh(open_tmp_path)
    run_ours(conf, Step(("mailbox", "create", "-u", "alice", "Fresh")))
    run_ours(conf, Step(("save", "-u", "alice", "-m", "Fresh"), "Subject: x\n\ny\n"))
    fresh = open_tmp_path / "home" / "alice" / "Maildir" / ".Fresh"
    assert fresh.stat().st_uid == MAIL_UID
    assert all(path.stat().st_uid == MAIL_UID for path in fresh.rglob("*"))


@pytest.fixture
def live_root(open_tmp_path: Path) -> Iterator[Path]:
    """A running real dovecot (auth only) for the prepared configuration."""
    require_real_dovecot()
    with real_dovecot.running(prepare(open_tmp_path), timeout=30):
        yield open_tmp_path


@pytest.mark.parametrize("name", ["search", "fetch", "status", "list-users"])
def test_mail_case_live(name: str, live_root: Path) -> None:
    for step in CASES[name]:
        conf = _fresh(live_root)
        want = comparable(run_real(conf, step), live_root)
        conf = _fresh(live_root)
        assert comparable(run_ours(conf, step), live_root) == want, f"doveadm {' '.join(step.args)}"


def test_interop_save_and_fetch_both_ways(live_root: Path) -> None:
    conf = _fresh(live_root)
    mail = "From: interop@example.test\nSubject: {who} saved\n\nbody by {who}\n"
    assert run_ours(conf, Step(("save", "-u", "bob", "-m", "INBOX"), mail.format(who="ours")))["code"] == 0
    assert run_real(conf, Step(("save", "-u", "bob"), mail.format(who="real")))["code"] == 0
    fetch = Step(("fetch", "-u", "bob", "uid text", "subject", "saved"))
    real, ours = run_real(conf, fetch), run_ours(conf, fetch)
    for result in (real, ours):
        assert result["code"] == 0
        assert "body by ours" in result["stdout"] and "body by real" in result["stdout"]
    assert comparable(ours, live_root) == comparable(real, live_root)
