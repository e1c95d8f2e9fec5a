"""The login side of the auth client protocol, against our auth service in-process."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from pydovecot.auth.backend import service_from_settings
from pydovecot.config import load
from pydovecot.login.auth_client import AuthClient, AuthClientError, AuthParams

# alice's password is "secret" ({PLAIN} keeps the test fast; schemes are tested elsewhere).
CONF = """\
auth_mechanisms = plain login
auth_failure_delay = 0
passdb {{
  driver = passwd-file
  args = {users}
}}
userdb {{
  driver = passwd-file
  args = {users}
}}
"""


@pytest.fixture
def service(tmp_path: Path):
    users = tmp_path / "users"
    users.write_text("alice@example.test:{PLAIN}secret:1000:1000::/home/alice::userdb_mail=maildir:~/M\n")
    conf = tmp_path / "dovecot.conf"
    conf.write_text(CONF.format(users=users))
    return service_from_settings(load(str(conf)).lookup(service="auth"))


def run(coro):
    return asyncio.run(asyncio.wait_for(coro, 10))


def test_handshake_and_plain(service) -> None:
    async def go():
        client = await AuthClient.in_process(service)
        try:
            assert set(client.mechanisms) == {"PLAIN", "LOGIN"}
            params = AuthParams(service="imap", remote_ip="192.0.2.1", local_ip="192.0.2.2", secured=True)
            ok = await client.begin("PLAIN", params, b"\0alice@example.test\0secret")
            bad = await client.begin("PLAIN", params, b"\0alice@example.test\0nope")
            return ok, bad
        finally:
            await client.close()

    ok, bad = run(go())
    assert ok.kind == "OK" and ok.user == "alice@example.test"
    assert bad.kind == "FAIL" and bad.user == "alice@example.test" and not bad.temporary


def test_login_mechanism_round_trips(service) -> None:
    async def go():
        client = await AuthClient.in_process(service)
        try:
            first = await client.begin("LOGIN", AuthParams(service="pop3", secured=True))
            second = await client.cont(first.id, b"alice@example.test")
            final = await client.cont(second.id, b"secret")
            return first, second, final
        finally:
            await client.close()

    first, second, final = run(go())
    assert (first.kind, first.data) == ("CONT", b"Username:")
    assert (second.kind, second.data) == ("CONT", b"Password:")
    assert final.kind == "OK"


def test_requests_after_close_fail_cleanly(service) -> None:
    async def go():
        client = await AuthClient.in_process(service)
        await client.close()
        with pytest.raises(AuthClientError):
            await client.begin("PLAIN", AuthParams(service="imap"), b"\0a\0b")

    run(go())
