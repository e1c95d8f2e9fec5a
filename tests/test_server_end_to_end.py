"""The whole server: `dovecot -F` on a config, mail in over LMTP, out over POP3 and IMAP."""

from __future__ import annotations

import imaplib
import os
import poplib
import signal
import smtplib
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
TIMEOUT = 30

CONF = """\
protocols = imap pop3 lmtp
listen = 127.0.0.1
base_dir = {tmp}/run
state_dir = {tmp}/state
log_path = {tmp}/dovecot.log
ssl = no
auth_failure_delay = 0
disable_plaintext_auth = no
mail_location = maildir:~/Maildir
mail_home = {tmp}/mail/%d/%n
{identity}
passdb {{
  driver = passwd-file
  args = {tmp}/users
}}
userdb {{
  driver = passwd-file
  args = {tmp}/users
}}
service imap-login {{
  inet_listener imap {{
    port = {imap}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service pop3-login {{
  inet_listener pop3 {{
    port = {pop3}
  }}
  inet_listener pop3s {{
    port = 0
  }}
}}
service lmtp {{
  inet_listener lmtp {{
    port = {lmtp}
  }}
}}
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for(predicate, what: str) -> None:  # noqa: ANN001
    deadline = time.monotonic() + TIMEOUT
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture
def server(open_tmp_path: Path):
    tmp = open_tmp_path
    ports = {"imap": free_port(), "pop3": free_port(), "lmtp": free_port()}
    (tmp / "users").write_text("alice@example.test:{PLAIN}secret::::::\n")
    (tmp / "mail").mkdir()
    if os.getuid() == 0:
        # As root the master drops to the mail account after binding, as a vmail set-up would.
        identity = "mail_uid = nobody\nmail_gid = nogroup\n"
        os.chown(tmp / "mail", 65534, 65534)
    else:
        identity = ""
    conf = tmp / "dovecot.conf"
    conf.write_text(CONF.format(tmp=tmp, identity=identity, **ports))
    proc = subprocess.Popen([sys.executable, "-m", "pydovecot", "-F", "-c", str(conf)], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    log = tmp / "dovecot.log"
    try:
        wait_for(lambda: log.exists() and "starting up" in log.read_text() or proc.poll() is not None, "start-up")
        assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
        yield ports, log, proc, tmp
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=TIMEOUT)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        for stream in (proc.stdout, proc.stderr):
            if stream:
                stream.close()


def test_deliver_then_read_over_pop3_and_imap(server) -> None:
    ports, log, proc, tmp = server
    with smtplib.LMTP("127.0.0.1", ports["lmtp"], timeout=TIMEOUT) as lmtp:
        refused = lmtp.sendmail("sender@example.test", ["alice@example.test"],
                                b"Subject: end to end\r\nMessage-ID: <e2e@test>\r\n\r\nhello alice\r\n")
    assert refused == {}

    pop = poplib.POP3("127.0.0.1", ports["pop3"], timeout=TIMEOUT)
    assert pop.getwelcome().startswith(b"+OK")
    pop.user("alice@example.test")
    pop.pass_("secret")
    count, _size = pop.stat()
    lines = pop.retr(count)[1]
    assert b"Subject: end to end" in lines and b"hello alice" in lines
    assert lines[0].startswith(b"Return-Path:")  # LMTP added Dovecot's delivery headers
    pop.quit()

    imap = imaplib.IMAP4("127.0.0.1", ports["imap"], timeout=TIMEOUT)
    with pytest.raises(imaplib.IMAP4.error, match="AUTHENTICATIONFAILED"):
        imap.login("alice@example.test", "wrong")
    imap = imaplib.IMAP4("127.0.0.1", ports["imap"], timeout=TIMEOUT)
    imap.login("alice@example.test", "secret")
    typ, data = imap.select("INBOX")
    assert typ == "OK" and data == [b"1"]
    typ, data = imap.fetch("1", "(FLAGS BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
    assert typ == "OK" and b"Subject: end to end" in data[0][1]
    assert b"\\Seen" in data[0][0]  # POP3's RETR marked it seen at QUIT
    imap.logout()

    text = log.read_text()
    assert "saved mail to INBOX" in text and "msgid=<e2e@test>" in text
    assert "pop3-login: Info: Login: user=<alice@example.test>, method=PLAIN" in text
    assert "imap-login: Info: Login: user=<alice@example.test>" in text
    if os.getuid() == 0:
        maildir = tmp / "mail" / "example.test" / "alice" / "Maildir" / "cur"
        assert {f.stat().st_uid for f in maildir.iterdir()} == {65534}


def test_sigterm_stops_and_cleans_up(server) -> None:
    ports, log, proc, tmp = server
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=TIMEOUT) == 0
    assert not (tmp / "run" / "master.pid").exists()
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", ports["imap"]), timeout=2).close()
