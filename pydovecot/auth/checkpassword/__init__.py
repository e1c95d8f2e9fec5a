"""Running a checkpassword program for the checkpassword passdb and userdb (db-checkpassword.c).

The protocol (qmail's checkpassword, as Dovecot extends it):

* The program gets ``user NUL password NUL timestamp NUL`` on fd 3 (the password and the
  timestamp empty for lookups; at most 512 bytes) and the reply program's path as its last
  argument (``args`` is split at spaces, after %-expansion).
* For a lookup (userdb, or a passdb credentials lookup) ``AUTHORIZED=1`` is set, and
  ``CREDENTIALS_LOOKUP=1`` + ``SCHEME=`` for the passdb: the program must not check a password
  and hands ``AUTHORIZED=2`` to the reply program, which then exits 2.
* On success the program execs the reply program, which writes ``user=``, ``userdb_home=``,
  the variables named in ``EXTRA`` (lowercased) and ``userdb_uid``/``userdb_gid`` as
  TAB-separated fields to fd 4.
* The environment carries the request: SERVICE, TCPLOCALIP/TCPREMOTEIP (+ the older LOCAL_IP and
  REMOTE_IP), ports, MASTER_USER, the passdb's extra fields so far (uppercased) and every auth
  %-variable as AUTH_<NAME> except the password.

Exit codes, as Dovecot reads them: logins 0 = OK (with reply input), 1/3/12/13/15/20-23 =
login failed, 2 = a userdb-only program used as passdb, 111 (and others) = temporary failure;
lookups 2 = found (with reply input), 3 = unknown user, others = temporary failure.

The program runs with posix_spawn and is waited for through a pidfd on the event loop, so no
lookup ever blocks the loop or a thread.
"""

from __future__ import annotations

import asyncio
import enum
import os
import signal
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from pydovecot.auth.wire.tabescape import tab_unescape

if TYPE_CHECKING:
    from pydovecot.auth.fields import AuthRequest

MAX_REQUEST_LEN = 512  # CHECKPASSWORD_MAX_REQUEST_LEN
# Our own reply program (stdlib only); Dovecot's C one is used when ours cannot be executed.
OUR_REPLY = Path(__file__).with_name("reply.py")
DOVECOT_REPLY = Path("/usr/lib/dovecot/checkpassword-reply")
_DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
# Login failure codes: the standard 1 and vpopmail's (3 user unknown / password mismatch, 12 null
# user, 13 null password, 15 no password, 20 bad characters, 21-23 system user/shadow/password).
_LOGIN_FAILED = frozenset({1, 3, 12, 13, 15, 20, 21, 22, 23})


class Status(enum.Enum):
    OK = "ok"
    FAILURE = "failure"  # wrong password (login) or unknown user (lookup)
    INTERNAL_FAILURE = "internal_failure"


@dataclass(frozen=True)
class Reply:
    status: Status
    fields: tuple[tuple[str, str], ...] = ()  # the reply program's key=value fields, in order


def reply_program() -> str:
    if os.access(OUR_REPLY, os.X_OK):
        return str(OUR_REPLY)
    return str(DOVECOT_REPLY)


# %-variables Dovecot exports under two names (its short long-key and the newer alias).
_ALIASES = {
    "local_ip": ("LIP", "LOCAL_IP"), "remote_ip": ("RIP", "REMOTE_IP"),
    "local_port": ("LPORT", "LOCAL_PORT"), "remote_port": ("RPORT", "REMOTE_PORT"),
    "real_local_ip": ("REAL_LIP", "REAL_LOCAL_IP"), "real_remote_ip": ("REAL_RIP", "REAL_REMOTE_IP"),
    "real_local_port": ("REAL_LPORT", "REAL_LOCAL_PORT"),
    "real_remote_port": ("REAL_RPORT", "REAL_REMOTE_PORT"),
    "mechanism": ("MECH", "MECHANISM"), "original_user": ("ORIG_USER", "ORIGINAL_USER"),
    "original_username": ("ORIG_USERNAME", "ORIGINAL_USERNAME"),
    "original_domain": ("ORIG_DOMAIN", "ORIGINAL_DOMAIN"),
}
# Variables Dovecot always has a value for, even when the request does not know it.
_ALWAYS = {"pid": "0", "local_port": "0", "remote_port": "0", "mechanism": "", "secured": "", "cert": ""}
_NOT_EXPORTED = {"password", "%!"}


def auth_variables(request: AuthRequest) -> dict[str, str]:
    """AUTH_<NAME> for every auth %-variable with a value, the password excepted."""
    table = dict(request.var_table())
    # Without a proxy in front, the "real" addresses are the connection's own.
    for name in ("local_ip", "remote_ip", "local_port", "remote_port"):
        if table.get(f"real_{name}") is None:
            table[f"real_{name}"] = table.get(name)
    table["secured"] = "secured" if request.secured else ""
    env: dict[str, str] = {}
    for name, value in table.items():
        if name in _NOT_EXPORTED:
            continue
        if value is None:
            value = _ALWAYS.get(name.removeprefix("real_"))
            if value is None:
                continue
        for env_name in _ALIASES.get(name, (name.upper(),)):
            env[f"AUTH_{env_name}"] = value
    return env


def environment(request: AuthRequest, *, authenticate: bool, scheme: str | None) -> dict[str, str]:
    """The program's environment (checkpassword_setup_env). Only PATH and TZ are inherited: a
    USER or HOME of ours would otherwise end up in the reply program's answer."""
    env = {"PATH": os.environ.get("PATH", _DEFAULT_PATH)}
    if "TZ" in os.environ:
        env["TZ"] = os.environ["TZ"]
    if not authenticate:
        env["AUTHORIZED"] = "1"
        if scheme is not None:
            env["CREDENTIALS_LOOKUP"] = "1"
            env["SCHEME"] = scheme
    env.update({"PROTO": "TCP", "ORIG_UID": str(os.getuid()), "SERVICE": request.service})
    if request.local_ip:
        env["TCPLOCALIP"] = env["LOCAL_IP"] = request.local_ip
    if request.remote_ip:
        env["TCPREMOTEIP"] = env["REMOTE_IP"] = request.remote_ip
    if request.local_port and request.local_port != "0":
        env["TCPLOCALPORT"] = request.local_port
    if request.remote_port and request.remote_port != "0":
        env["TCPREMOTEPORT"] = request.remote_port
    if request.master_user is not None:
        env["MASTER_USER"] = request.master_user
    for name, value in request.extra_fields.items():
        # Fields from an earlier (master) passdb.
        env[name.upper()] = value if value is not None else "1"
    env.update(auth_variables(request))
    return env


def split_reply(text: str) -> tuple[tuple[str, str], ...]:
    """t_strsplit_tabescaped, then key=value (a trailing TAB gives an empty field, kept as Dovecot
    keeps it)."""
    fields = []
    for item in text.split("\t"):
        key, _, value = tab_unescape(item).partition("=")
        fields.append((key, value))
    return tuple(fields)


@dataclass(frozen=True)
class CheckpasswordDb:
    """One configured program (``args``); shared by the passdb and userdb drivers."""

    command: str  # args: the program, %-expanded per request, split at spaces

    async def call(self, request: AuthRequest, password: bytes | None, *, scheme: str | None = None) -> Reply:
        """Run the program for ``request``: authenticate when ``password`` is given, else a
        lookup (``scheme`` set for a passdb credentials lookup)."""
        user = request.user.encode("utf-8", "surrogateescape")
        data = user + b"\0" + (password or b"") + b"\0\0"
        if len(data) > MAX_REQUEST_LEN:
            request.log("info", f"Username+password combination too long ({len(data)} bytes)")
            return Reply(Status.FAILURE)
        command, error = request.expand(self.command)
        if error is not None:
            request.log("error", f"Failed to expand args: {error}")
            return Reply(Status.INTERNAL_FAILURE)
        argv = f"{command} {reply_program()}".split(" ")
        env = environment(request, authenticate=password is not None, scheme=scheme)
        request.log("debug", f"execute: {' '.join(argv)}")
        try:
            run = await _spawn(argv, env, data)
        except OSError as exc:
            request.log("error", f"execv({argv[0]}) failed: {exc.strerror}")
            return Reply(Status.INTERNAL_FAILURE)
        return self._interpret(request, run, authenticate=password is not None)

    @staticmethod
    def _interpret(request: AuthRequest, run: _Run, *, authenticate: bool) -> Reply:
        if run.signal is not None:
            request.log("error", f"Child {run.pid} died with signal {run.signal}")
            return Reply(Status.INTERNAL_FAILURE)
        output = run.output.decode("utf-8", "surrogateescape")
        if "\n" in output:
            request.log("error", "LF characters in checkpassword reply")
            return Reply(Status.INTERNAL_FAILURE)
        code = run.exit_code
        request.log("debug", f"exit_status={code}")
        ok_code = 0 if authenticate else 2
        if code == ok_code:
            if output == "":
                request.log("error", "Received no input")
                return Reply(Status.INTERNAL_FAILURE)
            request.log("debug", f"Received input: {output}")
            return Reply(Status.OK, split_reply(output))
        if authenticate and code in _LOGIN_FAILED:
            request.log("info", f"Login failed (status={code})")
            return Reply(Status.FAILURE)
        if not authenticate and code == 3:
            request.log("info", "User unknown")
            return Reply(Status.FAILURE)
        if authenticate and code == 2:
            request.log("error", f"Child {run.pid} exited with status 2 (tried to use userdb-only "
                                 "checkpassword program for passdb?)")
        else:
            request.log("error", f"Child {run.pid} exited with status {code}")
        return Reply(Status.INTERNAL_FAILURE)


@dataclass(frozen=True)
class _Run:
    pid: int
    exit_code: int | None
    signal: int | None
    output: bytes


async def _spawn(argv: list[str], env: dict[str, str], data: bytes) -> _Run:
    """posix_spawn with the input pipe's read end as fd 3 and the reply pipe's write end as fd 4;
    the input is written, the reply read to EOF and the exit awaited without blocking."""
    in_read, in_write = os.pipe()
    out_read, out_write = os.pipe()
    try:
        actions = [(os.POSIX_SPAWN_DUP2, in_read, 3), (os.POSIX_SPAWN_DUP2, out_write, 4)]
        pid = os.posix_spawn(argv[0], argv, env, file_actions=actions)
    except OSError:
        for fd in (in_read, in_write, out_read, out_write):
            os.close(fd)
        raise
    os.close(in_read)
    os.close(out_write)
    try:
        _write_input(in_write, data)
        output, status = await asyncio.gather(_read_all(out_read), _wait(pid))
    except BaseException:
        # Cancelled (client gone, service closing): do not leave the program running.
        _kill(pid)
        raise
    finally:
        os.close(out_read)
    if os.WIFSIGNALED(status):
        return _Run(pid, None, os.WTERMSIG(status), output)
    return _Run(pid, os.waitstatus_to_exitcode(status), None, output)


def _write_input(fd: int, data: bytes) -> None:
    # At most 512 bytes: always fits in the pipe buffer, so this write never blocks.
    try:
        os.write(fd, data)
    except BrokenPipeError:
        pass  # the program exited without reading; its exit status tells what happened
    finally:
        os.close(fd)


async def _read_all(fd: int) -> bytes:
    loop = asyncio.get_running_loop()
    os.set_blocking(fd, False)
    chunks: list[bytes] = []
    done: asyncio.Future[None] = loop.create_future()

    def readable() -> None:
        try:
            chunk = os.read(fd, 65536)
        except BlockingIOError:
            return
        if chunk:
            chunks.append(chunk)
            return
        loop.remove_reader(fd)
        if not done.done():
            done.set_result(None)

    loop.add_reader(fd, readable)
    try:
        await done
    finally:
        loop.remove_reader(fd)
    return b"".join(chunks)


async def _wait(pid: int) -> int:
    """The child's wait status, through a pidfd the loop watches (Linux 5.3+)."""
    loop = asyncio.get_running_loop()
    pidfd = os.pidfd_open(pid)
    exited: asyncio.Future[None] = loop.create_future()

    def ready() -> None:
        if not exited.done():
            exited.set_result(None)

    loop.add_reader(pidfd, ready)
    try:
        await exited
    finally:
        loop.remove_reader(pidfd)
        os.close(pidfd)
    _, status = os.waitpid(pid, 0)  # the child has exited: returns at once
    return status


def _kill(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)  # just killed: returns at once
    except (ProcessLookupError, ChildProcessError):
        pass
