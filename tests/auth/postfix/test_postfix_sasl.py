"""Postfix SMTP AUTH against our auth-client socket (smtpd_sasl_type = dovecot).

A PRIVATE Postfix instance (``postfix -c TMPDIR``: its own main.cf/master.cf, queue and data
directories under the temp dir, smtpd on 127.0.0.1 and a free high port, no chroot) uses the
auth-client socket that ``pydovecot.auth.__main__.serve`` listens on; smtplib logs in with
AUTH PLAIN and AUTH LOGIN, right and wrong passwords; Postfix is stopped afterwards.
Skips when Postfix is not installed (fails under CI) and when not root (Postfix's master runs
as root and hands the queue to mail_owner).
"""

from __future__ import annotations

import asyncio
import os
import pwd
import shutil
import smtplib
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "e2e"))
from e2e_support import PASSWORD, write_setup  # noqa: E402

from pydovecot.auth.__main__ import serve  # noqa: E402
from tests.support.net import free_port, wait_port  # noqa: E402

POSTFIX = shutil.which("postfix") or "/usr/sbin/postfix"

MAIN_CF = """compatibility_level = 3.6
queue_directory = {dir}/queue
data_directory = {dir}/data
command_directory = /usr/sbin
daemon_directory = /usr/lib/postfix/sbin
meta_directory = /etc/postfix
shlib_directory = /usr/lib/postfix
mail_owner = postfix
setgid_group = postdrop
myhostname = pydovecot-test.localdomain
mydestination =
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
maillog_file = {dir}/postfix.log
maillog_file_prefixes = {dir}
smtpd_banner = $myhostname ESMTP
smtpd_tls_security_level = none
smtpd_sasl_auth_enable = yes
smtpd_sasl_type = dovecot
smtpd_sasl_path = {socket}
smtpd_relay_restrictions = permit_sasl_authenticated, reject
smtpd_client_connection_count_limit = 0
smtpd_client_connection_rate_limit = 0
smtpd_client_auth_rate_limit = 0
"""

# chroot (5th column) = n everywhere: the socket path is outside any chroot.
MASTER_CF = """127.0.0.1:{port} inet n - n - - smtpd
cleanup   unix n - n - 0 cleanup
qmgr      unix n - n 300 1 qmgr
rewrite   unix - - n - - trivial-rewrite
bounce    unix - - n - 0 bounce
defer     unix - - n - 0 bounce
trace     unix - - n - 0 bounce
verify    unix - - n - 1 verify
flush     unix n - n 1000? 0 flush
proxymap  unix - - n - - proxymap
smtp      unix - - n - - smtp
showq     unix n - n - - showq
error     unix - - n - - error
retry     unix - - n - - error
discard   unix - - n - - discard
anvil     unix - - n - 1 anvil
scache    unix - - n - 1 scache
postlog   unix-dgram n - n - 1 postlogd
"""


def _require_postfix() -> None:
    if not os.path.exists(POSTFIX):
        if os.environ.get("CI"):
            pytest.fail("CI is set but postfix is not installed (scripts/setup.sh installs it)")
        pytest.skip("postfix is not installed (scripts/setup.sh installs it)")
    if os.geteuid() != 0:
        pytest.skip("a private Postfix instance is started as root")
    try:
        pwd.getpwnam("postfix")
    except KeyError:
        pytest.skip("no postfix user (mail_owner)")


@contextmanager
def private_postfix(directory: Path, socket_path: Path) -> Iterator[int]:
    """A Postfix instance configured in ``directory``, stopped on exit; yields the smtpd port."""
    port = free_port()
    owner = pwd.getpwnam("postfix")
    # queue_directory stays root's (Postfix creates its subdirectories for mail_owner);
    # data_directory belongs to mail_owner.
    (directory / "queue").mkdir()
    (directory / "data").mkdir()
    os.chown(directory / "data", owner.pw_uid, owner.pw_gid)
    (directory / "main.cf").write_text(MAIN_CF.format(dir=directory, socket=socket_path))
    (directory / "master.cf").write_text(MASTER_CF.format(port=port))
    run = [POSTFIX, "-c", str(directory)]
    started = subprocess.run([*run, "start"], capture_output=True, text=True, timeout=60)
    if started.returncode != 0:
        log = directory / "postfix.log"
        raise RuntimeError(f"postfix start failed: {started.stdout}{started.stderr}"
                           f"{log.read_text() if log.exists() else ''}")
    try:
        wait_port(port, timeout=20.0, interval=0.1, error=TimeoutError)
        yield port
    finally:
        subprocess.run([*run, "stop"], capture_output=True, text=True, timeout=60)
        pid_file = directory / "queue" / "pid" / "master.pid"
        for _ in range(100):  # the master removes its pid file when it has stopped
            if not pid_file.exists():
                break
            time.sleep(0.1)


def _try(port: int, mechanism: str, user: str, password: str) -> tuple[int, str]:
    with smtplib.SMTP("127.0.0.1", port, timeout=30) as smtp:
        smtp.ehlo("client.test")
        smtp.user, smtp.password = user, password
        authobject = smtp.auth_plain if mechanism == "PLAIN" else smtp.auth_login
        try:
            code, message = smtp.auth(mechanism, authobject, initial_response_ok=mechanism == "PLAIN")
        except smtplib.SMTPAuthenticationError as exc:
            code, message = exc.smtp_code, exc.smtp_error
        return code, message.decode()


def test_postfix_smtp_auth_through_our_auth_socket() -> None:
    _require_postfix()
    directory = Path(tempfile.mkdtemp(prefix="pdpf", dir="/tmp"))
    directory.chmod(0o755)  # smtpd runs as the postfix user and must reach the socket

    async def main() -> tuple[list[tuple[int, str]], list[str]]:
        setup = write_setup(directory)
        setup.base_dir.chmod(0o755)
        ready, stop = asyncio.Event(), asyncio.Event()
        task = asyncio.ensure_future(serve(str(setup.conf), None, ready=ready, stop=stop, penalty=False))
        try:
            await asyncio.wait_for(ready.wait(), 30)
            pf_dir = directory / "postfix"
            pf_dir.mkdir()
            with private_postfix(pf_dir, setup.base_dir / "auth-client") as port:
                answers = []
                ehlo = await asyncio.to_thread(_ehlo, port)
                for mechanism, password in [("PLAIN", PASSWORD), ("LOGIN", PASSWORD),
                                            ("PLAIN", "wrong"), ("LOGIN", "wrong")]:
                    answers.append(await asyncio.to_thread(_try, port, mechanism, "alice", password))
            return answers, ehlo
        finally:
            stop.set()
            await task

    try:
        answers, ehlo = asyncio.run(main())
    finally:
        shutil.rmtree(directory, ignore_errors=True)
    # Postfix advertises the mechanisms our handshake offered.
    assert any(line.upper().startswith("AUTH ") and "PLAIN" in line and "LOGIN" in line for line in ehlo)
    assert [code for code, _ in answers] == [235, 235, 535, 535]
    assert answers[0][1].startswith("2.7.0 Authentication successful")
    assert answers[2][1].startswith("5.7.8 Error: authentication failed")


def _ehlo(port: int) -> list[str]:
    with smtplib.SMTP("127.0.0.1", port, timeout=30) as smtp:
        _, text = smtp.ehlo("client.test")
        return text.decode().splitlines()
