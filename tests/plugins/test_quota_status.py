"""quota-status as Postfix's policy service: ours under ``python -m pydovecot -F`` and the real
one under a real dovecot, asked the same requests over a raw socket."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import real_dovecot_available, require_real_dovecot
from tests.plugins.real_imap import mail_uid, make_home

GOLDEN = Path(__file__).parent / "goldens" / "quota_status.json"
ROOT = Path(__file__).resolve().parents[2]

# (name, request attributes) — answers depend on the userdb and the stored mail.
REQUESTS = [
    ("room", {"request": "smtpd_access_policy", "protocol_state": "RCPT", "recipient": "full+x@example.com",
              "size": "100"}),
    ("over", {"request": "smtpd_access_policy", "recipient": "full@example.com", "size": "4500"}),
    ("nouser", {"request": "smtpd_access_policy", "recipient": "nobody@example.com", "size": "10"}),
    ("norecipient", {"request": "smtpd_access_policy", "size": "10"}),
    ("default_user", {"recipient": "plain@example.com", "size": "1"}),
    ("too_large", {"recipient": "plain@example.com", "size": "7000"}),
]
VARIANTS = {
    "configured": "  quota_status_success = DUNNO\n  quota_status_nouser = DUNNO\n"
                  "  quota_status_overquota = \"552 5.2.2 Mailbox is full\"\n",
    "defaults": "  quota_max_mail_size = 5k\n",
}


def write_conf(root: Path, port: int, homes: dict[str, Path], variant: str) -> Path:
    uid = mail_uid()
    (root / "users").write_text("".join(f"{name}@example.com::{uid}:{uid}::{home}::\n"
                                        for name, home in homes.items()))
    conf = root / "dovecot.conf"
    conf.write_text(
        f"base_dir = {root}/run\nstate_dir = {root}/state\nprotocols = \nssl = no\n"
        "first_valid_uid = 0\nlisten = 127.0.0.1\nrecipient_delimiter = +\n"
        f"log_path = {root}/log\nmail_location = maildir:~/Maildir\nmail_plugins = quota\n"
        f"passdb {{\n  driver = passwd-file\n  args = {root}/users\n}}\n"
        f"userdb {{\n  driver = passwd-file\n  args = {root}/users\n}}\n"
        "service quota-status {\n  executable = quota-status -p postfix\n"
        f"  inet_listener {{\n    port = {port}\n    address = 127.0.0.1\n  }}\n  client_limit = 1\n}}\n"
        "plugin {\n  quota = count:User quota\n  quota_rule = *:storage=10k\n  quota_grace = 0\n"
        "  quota_vsizes = yes\n" + VARIANTS[variant] + "}\n")
    return conf


def fill(home: Path, size: int) -> None:
    new = home / "Maildir" / "new"
    for sub in ("new", "cur", "tmp"):
        (home / "Maildir" / sub).mkdir(parents=True, exist_ok=True)
    (new / "1000.M1P1.host").write_bytes(b"Subject: s\n\n" + b"x" * size)
    for path in [home, *home.rglob("*")]:
        os.chown(path, mail_uid(), mail_uid()) if os.getuid() == 0 else None


def ask(port: int) -> dict[str, str]:
    answers: dict[str, str] = {}
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        stream = sock.makefile("rb")
        for name, attrs in REQUESTS:  # one connection, several requests, as Postfix reuses it
            sock.sendall("".join(f"{k}={v}\n" for k, v in attrs.items()).encode() + b"\n")
            lines = []
            while (line := stream.readline()) not in (b"\n", b""):
                lines.append(line.decode().rstrip("\n"))
            answers[name] = "\n".join(lines)
    return answers


def wait_port(port: int) -> None:
    for _ in range(200):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.05)
    raise AssertionError(f"port {port} never opened")


def serve(root: Path, port: int, real: bool, variant: str) -> dict[str, str]:
    root.mkdir()
    homes = {"full": make_home(root, "full"), "plain": make_home(root, "plain")}
    fill(homes["full"], 6000)
    conf = write_conf(root, port, homes, variant)
    if real:
        subprocess.run(["dovecot", "-c", str(conf)], check=True, timeout=30)
        try:
            wait_port(port)
            return ask(port)
        finally:
            subprocess.run(["dovecot", "-c", str(conf), "stop"], timeout=30, check=False)
    proc = subprocess.Popen([sys.executable, "-m", "pydovecot", "-F", "-c", str(conf)], cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_port(port)
        return ask(port)
    finally:
        proc.terminate()
        proc.wait(timeout=30)


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_ours_answers_as_recorded(open_tmp_path: Path, variant: str) -> None:
    if os.getuid() != 0:
        pytest.skip("the master needs root to run the mail user's lookups as configured")
    ours = serve(open_tmp_path / "ours", 24000 + os.getpid() % 1000, real=False, variant=variant)
    assert ours == json.loads(GOLDEN.read_text())[variant]


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_real_quota_status_agrees(open_tmp_path: Path, variant: str) -> None:
    require_real_dovecot()
    real = serve(open_tmp_path / "real", 25000 + os.getpid() % 1000, real=True, variant=variant)
    recorded = json.loads(GOLDEN.read_text()) if GOLDEN.exists() else {}
    if variant not in recorded and real_dovecot_available():
        recorded[variant] = real
        GOLDEN.write_text(json.dumps(recorded, indent=2, sort_keys=True) + "\n")
    assert real == recorded[variant]


def test_strip_detail() -> None:
    from pydovecot.plugins.quota.status import strip_detail

    assert strip_detail("bob+lists@example.com", "+") == "bob@example.com"
    assert strip_detail("bob-x+y@example.com", "+-") == "bob@example.com"
    assert strip_detail("bob+x", "") == "bob+x"
