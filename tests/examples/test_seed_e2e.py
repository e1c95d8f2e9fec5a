"""The seed deployment, served end to end by our server.

A private copy of examples/seed (seed_support.py: own data directory, database and ports;
the seed's files otherwise unchanged) is prepared with its own prepare.sh and served by
``python -m pydovecot -F``, as root like the seed. The client scenario (seed_scenario.py)
delivers over LMTP to a seed user out of MariaDB, reads over POP3 and IMAPS, copies, deletes
and expunges, tries wrong passwords. The checks: what the clients saw and what is on disk
(gzip file under uid 10000, maildirsize), the log's login, mail_log and delivery lines, all
compared with the real Dovecot 2.3.19 running the same scenario on the same tree
(goldens/seed_real_dovecot.json, recorded by record_seed_goldens.py). Then a private Postfix
relays SMTP with SASL through our auth socket to our LMTP, and ``pydovecot stop`` leaves
nothing running.

Skips when MariaDB (127.0.0.1:3306, root, no password) is unreachable or not root; fails
under CI.
"""

from __future__ import annotations

import gzip
import importlib.util
import json
import os
import pwd
import re
import shutil
import smtplib
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.examples.seed_scenario import (
    BOB,
    BOB_PASSWORD,
    maildir_files,
    message,
    normalize,
    run_scenario,
    wait_for,
)
from tests.examples.seed_support import SeedInstance, new_instance, port_open, require_seed_environment

VMAIL = [10000, 10000]
GOLDEN = json.loads((Path(__file__).resolve().parent / "goldens" / "seed_real_dovecot.json").read_text())
POSTFIX_HARNESS = Path(__file__).resolve().parents[1] / "auth" / "postfix" / "test_postfix_sasl.py"


def _postfix_user() -> bool:
    try:
        pwd.getpwnam("postfix")
    except KeyError:
        return False
    return True


def _sasl_listener(base: Path) -> str:
    """The tutorial's Postfix SASL socket: added to the copy for the Postfix test only."""
    return f"""
# Test only: Postfix's SASL socket, as the tutorial's Postfix uses it.
service auth {{
  unix_listener {base}/sasl/auth {{
    mode = 0660
    user = postfix
    group = postfix
  }}
}}
"""


@pytest.fixture(scope="module")
def seed() -> Iterator[SeedInstance]:
    require_seed_environment()
    if importlib.util.find_spec("pydovecot.imap.server") is None:
        pytest.skip("the IMAP server (pydovecot/imap/server.py) has not landed yet")
    inst = new_instance()
    try:
        if _postfix_user():
            (inst.base / "sasl").mkdir()
            inst.extra_local_conf = _sasl_listener(inst.base)
        inst.make_tree()
        inst.prepare()
        inst.start()
        yield inst
    finally:
        inst.cleanup()


@pytest.fixture(scope="module")
def seen(seed: SeedInstance) -> dict[str, Any]:
    return run_scenario(seed)


# --- what the clients saw, what is on disk ---------------------------------------------------

def test_lmtp_delivery_is_stored_gzip_as_vmail_with_maildirsize(seen: dict[str, Any]) -> None:
    assert seen["refused"] == {}
    assert seen["stored_count"] == 1
    assert seen["stored_gzip"], "zlib_save = gz"
    assert seen["stored_first_line"] == "Return-Path: <sender@sender.test>"
    assert seen["stored_ends_with_message"]
    assert seen["stored_name_has_plain_size"]
    assert seen["stored_owner"] == VMAIL
    assert seen["maildirsize_counts_it"]
    # alice's quota column (1 GiB) through user_query's quota_rule = *:bytes=...
    assert seen["maildirsize_limits"].split(",")[0] == "1073741824S"
    for key in ("stored_gzip", "stored_first_line", "stored_owner", "stored_name_has_plain_size",
                "maildirsize_counts_it"):
        assert seen[key] == GOLDEN[key], key


def test_maildirsize_limits_line_as_real_dovecot(seen: dict[str, Any]) -> None:
    assert seen["maildirsize_limits"] == GOLDEN["maildirsize_limits"]


def test_pop3_and_imap_as_real_dovecot(seen: dict[str, Any]) -> None:
    assert seen["pop3"] == GOLDEN["pop3"] == {"count": 1, "ends_with_message": True}
    assert seen["pop3s_wrong"] == GOLDEN["pop3s_wrong"]
    assert seen["imap_wrong"] == GOLDEN["imap_wrong"]
    assert seen["imap_right"] == GOLDEN["imap_right"] == "OK"
    ours = {k: v for k, v in seen["imaps"].items() if k != "list"}
    assert ours == {k: v for k, v in GOLDEN["imaps"].items() if k != "list"}
    # The seed's 15-mailboxes.conf: Drafts, Sent and Trash, special-use.
    for name in ("Drafts", "Sent", "Trash"):
        assert f'(\\HasNoChildren \\{name}) "/" INBOX/{name}' in seen["imaps"]["list"]


def test_imap_list_as_real_dovecot(seen: dict[str, Any]) -> None:
    assert seen["imaps"]["list"] == GOLDEN["imaps"]["list"]


# --- the log ---------------------------------------------------------------------------------

def _golden_line(start: str) -> str:
    found = [line for line in GOLDEN["log"] if line.startswith(start)]
    assert len(found) == 1, (start, found)
    return found[0]


# Lines of the real Dovecot's log that ours must have too (after normalize()); each is
# picked by its start, exactly one in the golden log.
SAME_LINES = {
    "lmtp saved": "TS lmtp(alice@example.test)<PID><SESSION>: Info: msgid=MSGID: saved mail",
    "pop3 logout": "TS pop3(alice@example.test)<PID><SESSION>: Info: Disconnected: Logged out",
    "mail_log delete": "TS imap(alice@example.test)<PID><SESSION>: Info: delete:",
    "mail_log expunge": "TS imap(alice@example.test)<PID><SESSION>: Info: expunge:",
    "imap logout alice": "TS imap(alice@example.test)<PID><SESSION>: Info: Disconnected:",
    "imap logout bob": "TS imap(bob@example.test)<PID><SESSION>: Info: Disconnected:",
    "imap login bob": "TS imap-login: Info: Login: user=<bob@example.test>",
    "imap login alice": "TS imap-login: Info: Login: user=<alice@example.test>",
    "mail_log copy": "TS imap(alice@example.test)<PID><SESSION>: Info: copy from INBOX:",
    "pop3 login alice": "TS pop3-login: Info: Login: user=<alice@example.test>",
    "pop3s auth failed bob": "TS pop3-login: Info: Disconnected: Aborted login by logging out (auth failed",
}
@pytest.mark.parametrize("key", sorted(SAME_LINES))
def test_log_line_as_real_dovecot(seed: SeedInstance, seen: dict[str, Any], key: str) -> None:
    expected = _golden_line(SAME_LINES[key])
    # A session's last lines (a logout) may still be on their way to the log when the scenario ends.
    deadline = time.monotonic() + 10
    ours = normalize(seed.log_lines())
    while expected not in ours and time.monotonic() < deadline:
        time.sleep(0.1)
        ours = normalize(seed.log_lines())
    assert expected in ours, [line for line in ours if line.startswith(SAME_LINES[key][:30])]


def test_log_is_clean(seed: SeedInstance, seen: dict[str, Any]) -> None:
    lines = seed.log_lines()
    # log_timestamp = "%Y-%m-%d %H:%M:%S " (the seed's 10-logging.conf) on every line.
    assert all(re.match(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d \S", line) for line in lines if line.strip())
    assert not any(re.search(r": (Fatal|Error|Panic): |Traceback", line) for line in lines), lines
    assert not (seed.output().strip()), seed.output()


# --- Postfix ---------------------------------------------------------------------------------

POSTFIX_MAIN_EXTRA = """virtual_mailbox_domains = example.test
virtual_transport = lmtp:inet:127.0.0.1:{lmtp_port}
"""
POSTFIX_MASTER_EXTRA = "lmtp      unix - - n - - lmtp\n"


def _postfix_harness() -> Any:
    """tests/auth/postfix's private-instance harness (a module of its own, loaded by path)."""
    spec = importlib.util.spec_from_file_location("seed_postfix_harness", POSTFIX_HARNESS)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_postfix_sasl_and_lmtp_delivery(seed: SeedInstance, seen: dict[str, Any]) -> None:
    if not shutil.which("postfix") and not os.path.exists("/usr/sbin/postfix"):
        if os.environ.get("CI"):
            pytest.fail("CI is set but postfix is not installed (scripts/setup.sh installs it)")
        pytest.skip("postfix is not installed (scripts/setup.sh installs it)")
    if not _postfix_user():
        pytest.skip("no postfix user (Postfix's mail_owner)")
    harness = _postfix_harness()
    # The harness's instance, plus a virtual domain handed to our LMTP.
    harness.MAIN_CF += POSTFIX_MAIN_EXTRA.format(lmtp_port=seed.ports["lmtp"])
    harness.MASTER_CF += POSTFIX_MASTER_EXTRA
    socket_path = seed.base / "sasl" / "auth"
    assert socket_path.is_socket()
    pf_dir = seed.base / "postfix"
    pf_dir.mkdir()
    maildir = seed.maildir(BOB)
    before = set(maildir_files(maildir))
    msgid, data = message(BOB, "through postfix", "relayed by a private postfix")

    def arrived() -> list[Path]:
        return [p for p in maildir_files(maildir) if p not in before]

    with harness.private_postfix(pf_dir, socket_path) as port:
        with smtplib.SMTP("127.0.0.1", port, timeout=30) as smtp:
            smtp.ehlo("client.test")
            with pytest.raises(smtplib.SMTPAuthenticationError):
                smtp.login(BOB, "wrong")
            smtp.login(BOB, BOB_PASSWORD)
            assert smtp.sendmail("sender@sender.test", [BOB], data) == {}
        if not wait_for(arrived, 60):
            log = pf_dir / "postfix.log"
            pytest.fail(f"no delivery to {maildir}: {log.read_text() if log.exists() else ''}")
    stored = gzip.decompress(arrived()[0].read_bytes())
    assert f"Message-ID: {msgid}".encode() in stored
    assert stored.endswith(b"relayed by a private postfix\n")
    assert any(f"lmtp({BOB})<" in line and f"msgid={msgid}: saved mail to INBOX" in line
               for line in seed.log_lines())


# --- stop ------------------------------------------------------------------------------------

def test_stop_leaves_nothing_running(seed: SeedInstance, seen: dict[str, Any]) -> None:
    assert seed.proc is not None and seed.proc.poll() is None
    assert seed.pid_file.exists()
    assert seed.stop() == 0
    assert seed.proc.returncode is not None
    assert seed.processes() == []
    assert not any(port_open(port) for port in seed.ports.values())
    assert not seed.pid_file.exists()
    assert _golden_line("TS master: Warning: Killed with signal 15") in normalize(seed.log_lines())
