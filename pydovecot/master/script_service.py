"""``executable = script PATH [ARGS]``: Dovecot's "script" service, run by our master.

Any service whose executable is ``script`` (``service decode2text { executable = script
/usr/lib/dovecot/decode2text.sh; unix_listener decode2text { mode = 0666 } }``, the fts decoder,
or a quota-warning/post-login style script reached through a socket) is served here: each
connection runs the script once, as the service's ``user`` when we are root.

The wire protocol is script binary's (version 4):

    VERSION<TAB>script<TAB>4<TAB><minor><LF>
    [alarm=<secs><LF>]                 kill the script after that many seconds
    [env_<NAME>=<value><LF>]...        passed when -e NAME,... on the executable line allows it
    noreply<LF> | -<LF>                noreply: the script's exit status is not reported
    <arg 1><LF> ...                    the script's arguments (tab-escaped)
    <LF>
    <data>                             the script's stdin; its stdout goes back on the socket

Without ``noreply`` a line ``+`` (exit status 0) or ``-`` (anything else) follows the
script's output. The script gets an empty environment (plus the allowed env_ lines), as the
real binary's env_clean() leaves it; its stderr lines are logged as errors.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import pwd
from typing import Any

from pydovecot.log import Log

from .registry import ConnInfo, SharedContext, register_executable
from .services import ServiceSpec

MAJOR_VERSION = b"4"
READ_TIMEOUT_S = 10  # SCRIPT_READ_TIMEOUT_SECS: the header must arrive within this
MAX_HEADER = 64 * 1024
LIBEXEC_DIR = "/usr/lib/dovecot"  # where a relative script path is looked up (PKG_LIBEXECDIR)
_TAB_UNESCAPES = {b"0": b"\0", b"1": b"\1", b"t": b"\t", b"r": b"\r", b"n": b"\n"}


class ScriptError(Exception):
    """The client's request is not one the script binary accepts (it would die with i_fatal)."""


def tab_unescape(value: bytes) -> bytes:
    """Dovecot's tab escaping: \\001 followed by 1, t, r, n or 0."""
    if b"\1" not in value:
        return value
    out = bytearray()
    parts = value.split(b"\1")
    out += parts[0]
    for part in parts[1:]:
        out += _TAB_UNESCAPES.get(part[:1], part[:1])
        out += part[1:]
    return bytes(out)


def parse_executable(executable: str) -> tuple[str, tuple[str, ...], frozenset[str]]:
    """``script [-e ENV,ENV] PATH [ARGS]`` -> (binary, fixed args, accepted env names)."""
    words = executable.split()[1:]
    accepted: set[str] = set()
    while words and words[0].startswith("-") and words[0] != "-":
        option = words.pop(0)
        if option == "-e" and words:
            accepted.update(n for n in words.pop(0).replace(",", " ").split() if n)
        elif option.startswith("-e"):
            accepted.update(n for n in option[2:].replace(",", " ").split() if n)
        elif option == "--":
            break
    if not words:
        raise ScriptError("Missing script path")
    path = words[0]
    return (path if path.startswith("/") else os.path.join(LIBEXEC_DIR, path)), tuple(words[1:]), frozenset(accepted)


def parse_header(header: bytes, accepted_envs: frozenset[str]) -> tuple[list[bytes], dict[str, str], int | None, bool]:
    """The request before its empty line -> (args, env, alarm seconds, noreply)."""
    lines = header.split(b"\n")
    version = lines[0].split(b"\t")
    if len(version) < 3 or version[0] != b"VERSION" or version[1] != b"script" or version[2] != MAJOR_VERSION:
        raise ScriptError("Client not compatible with this binary (connecting to wrong socket?)")
    rest = lines[1:]
    env: dict[str, str] = {}
    alarm: int | None = None
    noreply = False
    if rest:
        if rest[0].startswith(b"alarm="):
            try:
                alarm = int(rest.pop(0)[6:])
            except ValueError:
                raise ScriptError("invalid alarm option") from None
        while rest and rest[0].startswith(b"env_"):
            name, eq, value = tab_unescape(rest.pop(0)[4:]).partition(b"=")
            if not eq:
                raise ScriptError("invalid environment variable")
            if name.decode("utf-8", "replace") in accepted_envs:
                env[os.fsdecode(name)] = os.fsdecode(value)
        if not rest or not rest[0]:
            raise ScriptError("empty options")
        noreply = rest.pop(0) == b"noreply"
    return [tab_unescape(arg) for arg in rest], env, alarm, noreply


class ScriptService:
    """The handler of one ``script`` service."""

    def __init__(self, service: ServiceSpec, log: Log) -> None:
        self.name = service.name
        self.log = log.with_prefix("script: ")
        self.binary, self.fixed_args, self.accepted_envs = parse_executable(service.executable)
        self.user = service.user
        self._tasks: set[asyncio.Task[Any]] = set()

    async def handle_connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter | None,
                                conn_info: ConnInfo) -> None:
        if writer is None:
            return
        try:
            try:
                header = await asyncio.wait_for(reader.readuntil(b"\n\n"), READ_TIMEOUT_S)
                args, env, alarm, noreply = parse_header(header[:-2], self.accepted_envs)
            except asyncio.IncompleteReadError:
                self.log.error("read() failed: disconnected")
                return
            except (asyncio.LimitOverrunError, ValueError):
                self.log.error("request header too long")
                return
            except TimeoutError:
                self.log.error("read() failed: timed out")
                return
            except ScriptError as exc:
                self.log.error(str(exc))
                return
            ok = await self._run(args, env, alarm, reader, writer)
            if not noreply:
                writer.write(b"+\n" if ok else b"-\n")
                await writer.drain()
        except (ConnectionError, OSError) as exc:
            self.log.error(f"{self.name}: {exc}")
        finally:
            writer.close()
            with contextlib.suppress(ConnectionError, OSError):
                await writer.wait_closed()

    async def _run(self, args: list[bytes], env: dict[str, str], alarm: int | None,
                   reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bool:
        try:
            proc = await asyncio.create_subprocess_exec(
                self.binary, *self.fixed_args, *(os.fsdecode(a) for a in args),
                stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
                env=env, start_new_session=True, **self._identity())
        except OSError as exc:
            self.log.error(f"execvp({self.binary}) failed: {exc}")
            return False
        assert proc.stdin is not None and proc.stdout is not None and proc.stderr is not None
        feeder = asyncio.create_task(_feed(reader, proc.stdin))
        try:
            await asyncio.wait_for(asyncio.gather(_relay(proc.stdout, writer), self._log_stderr(proc.stderr),
                                                  proc.wait()), alarm or None)
        except TimeoutError:
            proc.kill()
            await proc.wait()
            self.log.error("Script terminated abnormally, signal 14")  # as SIGALRM ends it in Dovecot
            return False
        except (ConnectionError, OSError):
            # The client went away: the script's output has nowhere to go.
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
            await proc.wait()
            return False
        finally:
            feeder.cancel()
            with contextlib.suppress(asyncio.CancelledError, ConnectionError, OSError):
                await feeder
        status = proc.returncode
        if status is not None and status < 0:
            self.log.error(f"Script terminated abnormally, signal {-status}")
            return False
        if status:
            self.log.error(f"Script terminated abnormally, exit status {status}")
            return False
        return True

    def _identity(self) -> dict[str, Any]:
        """Run as the service's ``user`` when we may switch (we are root); else as ourselves."""
        if os.geteuid() != 0 or not self.user:
            return {}
        try:
            entry = pwd.getpwnam(self.user)
        except KeyError:
            self.log.error(f"User doesn't exist: {self.user} (see service {self.name} {{ user }})")
            return {}
        return {"user": entry.pw_uid, "group": entry.pw_gid, "extra_groups": []}

    async def _log_stderr(self, stderr: asyncio.StreamReader) -> None:
        while line := await stderr.readline():
            self.log.error(line.decode("utf-8", "replace").rstrip("\r\n"))

    async def close(self) -> None:
        return None


async def _feed(reader: asyncio.StreamReader, stdin: asyncio.StreamWriter) -> None:
    """The client's data after the header, to the script's stdin until the client half-closes."""
    try:
        while chunk := await reader.read(65536):
            stdin.write(chunk)
            await stdin.drain()
    except (ConnectionError, OSError):
        pass  # the script stopped reading, or the client left: either way the input ends here
    finally:
        stdin.close()


async def _relay(stdout: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    while chunk := await stdout.read(65536):
        writer.write(chunk)
        await writer.drain()


def _factory(tree: object, log: Log, context: SharedContext, service: ServiceSpec) -> ScriptService:
    return ScriptService(service, log)


# Shared state: a script service stays in the master process (one asyncio loop serves every
# connection; each runs its own child process anyway).
register_executable("script", _factory, shared_state=True)
