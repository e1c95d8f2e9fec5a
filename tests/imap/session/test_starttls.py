"""STARTTLS with ssl = yes: advertised before TLS, not after; login and mail work over TLS."""

from __future__ import annotations

import imaplib
import shutil
import ssl

import pytest

from .cases import PASSWORD
from .harness import running_server

pytestmark = pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl makes the test certificate")


def test_starttls_then_login() -> None:
    with running_server("ssl = yes\n") as server:
        imap = imaplib.IMAP4("127.0.0.1", server.port, timeout=10)
        assert "STARTTLS" in imap.capabilities
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        typ, _ = imap.starttls(context)
        assert typ == "OK"
        assert "STARTTLS" not in imap.capabilities  # imaplib asked again over TLS
        typ, _ = imap.login("alice@example.test", PASSWORD)
        assert typ == "OK"
        typ, data = imap.select("INBOX")
        assert typ == "OK"
        imap.send(b"x STARTTLS\r\n")  # after login it is not a command any more
        assert imap.readline().startswith(b"x BAD Error in IMAP command STARTTLS: Unknown command.")
        imap.logout()
