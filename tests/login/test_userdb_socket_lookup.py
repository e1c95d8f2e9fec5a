"""The owners of shared namespaces looked up over the master's auth-userdb socket, as a process
without an in-process auth service (a worker, a separated mail process) does."""

from __future__ import annotations

import asyncio

import pytest

from pydovecot.login.userdb_lookup import socket_lookup
from pydovecot.storage.shared import UserLookupUnavailable
from tests.support.auth import serving, short_tmpdir
from tests.support.conf import auth_sockets, passwd_file_dbs


def test_lookup_over_auth_userdb() -> None:
    with short_tmpdir("udb") as tmp:
        users = tmp / "users"
        users.write_text("bob@x:{PLAIN}pw:10000:10000::/srv/bob::userdb_mail=maildir:~/M\n")
        conf = tmp / "dovecot.conf"
        conf.write_text(f"base_dir = {tmp}\nlog_path = {tmp}/log\nauth_mechanisms = plain\n"
                        + passwd_file_dbs(users) + auth_sockets("auth-userdb"))

        async def run() -> tuple[object, object]:
            async with serving(conf):
                lookup = socket_lookup(str(tmp / "auth-userdb"), "imap")
                # blocking, as in a storage worker thread
                return await asyncio.to_thread(lookup, "bob@x"), await asyncio.to_thread(lookup, "nobody@x")

        found, missing = asyncio.run(run())
    assert found == {"user": "bob@x", "uid": "10000", "gid": "10000", "home": "/srv/bob", "mail": "maildir:~/M"}
    assert missing is None


def test_no_auth_service_is_unavailable_not_unknown() -> None:
    with short_tmpdir("udb") as tmp, pytest.raises(UserLookupUnavailable):
        socket_lookup(str(tmp / "auth-userdb"), "imap")("bob@x")
