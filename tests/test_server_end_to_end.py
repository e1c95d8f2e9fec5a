"""The whole server: `dovecot -F` on a config, mail in over LMTP, out over POP3 and IMAP."""

from __future__ import annotations

import imaplib
import os
import poplib
import signal
import smtplib
import socket
from pathlib import Path

import pytest

from tests.support import server as our_server
from tests.support.conf import inet_listeners, passwd_file_dbs
from tests.support.net import free_port

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
{dbs}{listeners}"""


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
    conf.write_text(CONF.format(tmp=tmp, identity=identity, dbs=passwd_file_dbs(tmp / "users"),
                                 listeners=inet_listeners(imap=ports["imap"], imaps=0, pop3=ports["pop3"], pop3s=0,
                                                          lmtp=ports["lmtp"])))
    proc = our_server.start(conf)
    log = tmp / "dovecot.log"
    try:
        our_server.wait_started(proc, log, TIMEOUT)
        yield ports, log, proc, tmp
    finally:
        our_server.stop(proc, TIMEOUT)


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
