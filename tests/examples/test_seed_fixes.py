"""Small fixes the seed tree exposed, checked without a server (the e2e test needs root and
MariaDB; these run anywhere).

* login_log_format_elements: the seed's own format (no ``lip=``) and ``%k``, as Dovecot
  writes them (lines from tests/examples/goldens/seed_real_dovecot.json).
* auth listeners: Postfix's ``private/auth`` socket speaks the client protocol.
* the maildir quota's ``maildirsize`` limits line, as Dovecot writes it.
* a TLS context built while root is reused when the key became unreadable.
"""

from __future__ import annotations

import ssl
from pathlib import Path
from typing import Any

import pytest

from pydovecot.auth.__main__ import listener_role
from pydovecot.config import load
from pydovecot.login.log_elements import login_elements
from pydovecot.master import tls
from pydovecot.plugins.quota.usage import MaildirsizeBackend

SEED_ELEMENTS = "user=<%u> method=%m rip=%r mpid=%e %c %k session=<%{session}>"
DEFAULT_ELEMENTS = "user=<%u> method=%m rip=%r lip=%l mpid=%e %c session=<%{session}>"


def _values(**changes: str | None) -> dict[str, str | None]:
    values: dict[str, str | None] = {
        "user": "alice@example.test", "mechanism": "PLAIN", "remote_ip": "127.0.0.1",
        "local_ip": "127.0.0.1", "mail_pid": "42", "secured": "secured", "ssl_security": None,
        "session": "SESSION"}
    values.update(changes)
    return values


def test_seed_login_elements_as_real_dovecot() -> None:
    assert login_elements(SEED_ELEMENTS, _values()) == \
        "user=<alice@example.test>, method=PLAIN, rip=127.0.0.1, mpid=42, secured, session=<SESSION>"
    tls_values = _values(secured="TLS", mail_pid=None, user="bob@example.test",
                         ssl_security="TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits)")
    assert login_elements(SEED_ELEMENTS, tls_values) == (
        "user=<bob@example.test>, method=PLAIN, rip=127.0.0.1, TLS, "
        "TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits), session=<SESSION>")


def test_empty_elements_are_left_out_but_the_user_stays() -> None:
    values = _values(user="", mechanism=None, mail_pid=None)
    assert login_elements(DEFAULT_ELEMENTS, values) == \
        "user=<>, rip=127.0.0.1, lip=127.0.0.1, secured, session=<SESSION>"


@pytest.mark.parametrize(("path", "role"), [
    ("auth-client", "client"), ("auth-master", "master"), ("auth-userdb", "userdb"),
    ("/var/spool/postfix/private/auth", "client"), ("auth-login", None), ("token-login", None),
    ("login/tokenlogin", None),
])
def test_auth_listener_roles(path: str, role: str | None) -> None:
    assert listener_role(path) == role


@pytest.mark.parametrize(("limits", "line"), [
    ((1073741824, 0), "1073741824S"),  # the seed's alice: bytes only (real Dovecot's golden)
    ((0, 0), "0S"),
    ((0, 100), "100C"),
    ((1000, 100), "1000S,100C"),
])
def test_maildirsize_limits_line(limits: tuple[int, int], line: str) -> None:
    backend = MaildirsizeBackend("/nonexistent", limits, None, lambda _: True)  # type: ignore[arg-type]
    assert backend.limits_line == line


def test_tls_context_reused_when_the_key_is_no_longer_readable(monkeypatch: pytest.MonkeyPatch) -> None:
    key = Path("/etc/pki/dovecot/private/dovecot.pem")
    try:
        key.read_bytes()
    except OSError:
        pytest.skip("the seed's certificate pair (scripts/setup.sh) is not readable here")
    seed = load(str(Path(__file__).resolve().parents[2] / "examples" / "seed" / "dovecot.conf")).lookup()
    overrides: dict[str, Any] = {}

    class Node:  # the seed's settings (its 10-ssl.conf names this certificate pair)
        def get(self, name: str) -> Any:
            return overrides[name] if name in overrides else seed.get(name)

    built = tls.tls_context(Node())
    assert isinstance(built, ssl.SSLContext)

    def refuse(*_: object, **__: object) -> None:
        raise PermissionError(13, "Permission denied")

    # After the master dropped root: the key file cannot be opened any more.
    monkeypatch.setattr(ssl.SSLContext, "load_cert_chain", refuse)
    assert tls.tls_context(Node()) is built
    overrides["ssl_min_protocol"] = "TLSv1.3"  # other settings: nothing built for them
    with pytest.raises(tls.TLSConfigError, match="Permission denied"):
        tls.tls_context(Node())
