"""Shared by the server benchmarks: ours and real Dovecot on one generated configuration.

A benchmark builds a ``Lab`` (a temp dir all users can traverse, a passwd-file of ``bench<i>``
users with {PLAIN} passwords, pre-filled Maildirs owned by the vmail uid) and starts each server
on its own copy of the configuration: its own base_dir, log and mail root, and its own high
loopback ports.  ``Server.rss()`` sums VmRSS (and PSS) over the master and all its descendants.
``ImapClient`` is a tiny asyncio IMAP client (tagged responses, literals) so that many sessions
run on one event loop without threads.

Run the benchmarks as root (the servers drop to the vmail uid, real Dovecot forks per session).
"""

from __future__ import annotations

import asyncio
import os
import resource
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from tests.support import net, real_dovecot
from tests.support import server as our_server
from tests.support.conf import inet_listeners, passwd_file_dbs
from tests.support.net import free_port

REAL_DOVECOT = real_dovecot.DOVECOT
MAIL_UID = 10000
PASSWORD = "secret"
TIMEOUT = 30.0

CONF = """\
base_dir = {run}
state_dir = {state}
log_path = {log}
protocols = imap pop3
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
auth_failure_delay = 0
mail_location = maildir:{mail}/%n
mail_uid = {uid}
mail_gid = {uid}
mail_max_userip_connections = {clients}
default_process_limit = {processes}
default_client_limit = {clients}
default_vsz_limit = 1G
{dbs}{listeners}"""

_LINE = b"Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor.\n"


def raise_nofile(wanted: int) -> int:
    """Raise our (and the servers' inherited) open-file limit towards ``wanted``; returns it."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = max(soft, min(wanted, hard))
    resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    return target


def message(i: int, size: int) -> bytes:
    body = _LINE * max(1, (size + (i * 37) % 2000) // len(_LINE))
    return (b"From: Sender %d <s%d@example.com>\nTo: bench@example.test\nSubject: message %d\n"
            b"Date: Tue, 14 Nov 2023 10:00:00 +0000\nMessage-ID: <m%d@bench>\n\n" % (i, i, i, i) + body)


@dataclass
class Lab:
    """The temp dir shared by both servers; call ``close()`` (or use ``with``)."""

    users: int
    messages: int
    size: int = 3000
    root: Path = field(init=False)

    def __post_init__(self) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="srvbench-", dir="/tmp"))
        os.chmod(self.root, 0o755)  # the vmail uid must traverse it
        lines = "".join(f"{name}:{{PLAIN}}{PASSWORD}::::::\n" for name in self.user_names())
        (self.root / "users").write_text(lines)

    def user_names(self) -> list[str]:
        return [f"bench{i}" for i in range(self.users)]

    def __enter__(self) -> Lab:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)

    def fill(self, mail: Path) -> None:
        """Fresh Maildirs of ``messages`` each for every user under ``mail``, owned by the vmail uid."""
        shutil.rmtree(mail, ignore_errors=True)
        blobs = [message(i, self.size) for i in range(self.messages)]
        for name in self.user_names():
            box = mail / name
            for sub in ("cur", "new", "tmp"):
                (box / sub).mkdir(parents=True)
            for i, blob in enumerate(blobs):
                (box / "new" / f"{1700000000 + i}.M{i}P1.bench").write_bytes(blob)
        real_dovecot.chown_tree(mail, MAIL_UID)

    def config(self, kind: str, clients: int, extra: str = "") -> ServerConfig:
        home = self.root / kind
        for sub in ("run", "state"):
            (home / sub).mkdir(parents=True, exist_ok=True)
        cfg = ServerConfig(kind=kind, home=home, imap=free_port(), pop3=free_port())
        for old in (cfg.log, home / "stderr.log"):
            old.unlink(missing_ok=True)
        self.fill(cfg.mail)
        cfg.path.write_text(CONF.format(
            run=home / "run", state=home / "state", log=cfg.log, mail=cfg.mail, uid=MAIL_UID,
            dbs=passwd_file_dbs(self.root / "users"),
            listeners=inet_listeners(imap=cfg.imap, imaps=0, pop3=cfg.pop3, pop3s=0),
            clients=max(1000, 3 * clients + 400), processes=max(100, clients + 100)) + extra)
        return cfg


@dataclass
class ServerConfig:
    kind: str  # "ours" or "real"
    home: Path
    imap: int
    pop3: int

    @property
    def path(self) -> Path:
        return self.home / "dovecot.conf"

    @property
    def log(self) -> Path:
        return self.home / "dovecot.log"

    @property
    def mail(self) -> Path:
        return self.home / "mail"


class Server:
    """One running server; ``start()`` returns once its IMAP and POP3 ports answer."""

    def __init__(self, cfg: ServerConfig, env: dict[str, str] | None = None) -> None:
        self.cfg = cfg
        self.env = env
        self.proc: subprocess.Popen[bytes] | None = None
        self.master_pid = 0

    @property
    def name(self) -> str:
        return self.cfg.kind

    def start(self) -> Server:
        if self.cfg.kind == "real":
            real_dovecot.start(self.cfg.path, TIMEOUT)
            wait_port(self.cfg.imap)
            wait_port(self.cfg.pop3)
            self.master_pid = int((self.cfg.home / "run" / "master.pid").read_text().split()[0])
        else:
            with open(self.cfg.home / "stderr.log", "wb") as stderr:
                self.proc = our_server.start(self.cfg.path, env={**os.environ, **(self.env or {})}, text=False,
                                             stdout=subprocess.DEVNULL, stderr=stderr)
            self.master_pid = self.proc.pid
            wait_port(self.cfg.imap, self.proc)
            wait_port(self.cfg.pop3, self.proc)
        return self

    def alive(self) -> bool:
        return os.path.exists(f"/proc/{self.master_pid}") and (self.proc is None or self.proc.poll() is None)

    def stop(self) -> None:
        if self.cfg.kind == "real":
            real_dovecot.stop(self.cfg.path, 60)
        elif self.proc is not None:
            our_server.stop(self.proc, 60)

    def __enter__(self) -> Server:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def pids(self) -> list[int]:
        """The master and every descendant, from /proc."""
        return process_tree(self.master_pid)

    def cpu_seconds(self) -> float:
        """CPU time the server's process tree has used so far (see :func:`tree_cpu`)."""
        return tree_cpu(self.master_pid)

    def rss(self) -> tuple[int, int, int]:
        """(processes, summed RSS bytes, summed PSS bytes) of the server's process tree."""
        pids = self.pids()
        rss = pss = 0
        for pid in pids:
            rss += _proc_kb(f"/proc/{pid}/status", b"VmRSS:") * 1024
            pss += _proc_kb(f"/proc/{pid}/smaps_rollup", b"Pss:") * 1024
        return len(pids), rss, pss

    def log_tail(self, lines: int = 30) -> str:
        """The end of the server's log (and our stderr): where a failure under load shows."""
        text = ""
        for path in (self.cfg.log, self.cfg.home / "stderr.log"):
            if path.exists():
                text += "".join(path.read_text(errors="replace").splitlines(True)[-lines:])
        return text

    def log_problems(self, limit: int = 20) -> list[str]:
        """Error/Fatal/Warning/Traceback lines from the server's log and stderr."""
        found: list[str] = []
        for path in (self.cfg.log, self.cfg.home / "stderr.log"):
            if not path.exists():
                continue
            for line in path.read_text(errors="replace").splitlines():
                if any(word in line for word in ("Error:", "Fatal:", "Warning:", "Traceback", "Panic:")):
                    found.append(line)
        return found[:limit] + ([f"... {len(found) - limit} more"] if len(found) > limit else [])


def process_tree(root: int) -> list[int]:
    """``root`` and every descendant, from /proc."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as f:
                stat = f.read()
        except OSError:
            continue
        ppid = int(stat[stat.rindex(b")") + 2:].split()[1])
        children.setdefault(ppid, []).append(int(entry))
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(children.get(pid, []))
    return found


def tree_cpu(root: int) -> float:
    """CPU seconds (user + system) used so far by ``root``'s process tree: each live process's
    own time plus that of the children it has reaped (gone per-session processes)."""
    total = 0
    for pid in process_tree(root):
        try:
            with open(f"/proc/{pid}/stat", "rb") as f:
                fields = f.read().rsplit(b")", 1)[1].split()
        except OSError:
            continue
        total += sum(int(v) for v in fields[11:15])  # utime stime cutime cstime
    return total / os.sysconf("SC_CLK_TCK")


def print_errors(errors: list[str]) -> None:
    """The five most common distinct errors the clients met, with their counts."""
    for error in sorted(set(errors))[:5]:
        print(f"  error ({errors.count(error)}x): {error[:200]}")


def print_health(server: Server) -> None:
    """Whether the server survived the run (its log's tail if not) and its log's problems."""
    if not server.alive():
        print(f"  {server.name} server DIED; log tail:\n{server.log_tail()}")
    for line in server.log_problems(8):
        print(f"  log: {line[:200]}")


def _proc_kb(path: str, key: bytes) -> int:
    try:
        with open(path, "rb") as f:
            for line in f:
                if line.startswith(key):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def wait_port(port: int, proc: subprocess.Popen[bytes] | None = None, timeout: float = TIMEOUT) -> None:
    net.wait_port(port, proc, timeout=timeout, interval=0.1, error=RuntimeError)


def real_available() -> bool:
    return os.path.exists(REAL_DOVECOT)


def ratio(ours: float, real: float) -> str:
    return f"{ours / real:.2f}x" if real else "n/a"


# --- a tiny asyncio IMAP client --------------------------------------------------------------------


class ImapError(Exception):
    pass


@dataclass
class Response:
    untagged: list[bytes]  # each untagged response with its literals inlined
    status: bytes  # the tagged line, e.g. b"OK SELECT completed"


class ImapClient:
    """One connection; ``command()`` sends a tagged command and gathers its untagged responses."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        self.counter = 0

    @classmethod
    async def connect(cls, port: int, timeout: float = TIMEOUT) -> ImapClient:
        reader, writer = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", port, limit=1 << 20),
                                                timeout)
        client = cls(reader, writer)
        greeting = await asyncio.wait_for(client.read_response(), timeout)
        if not greeting.startswith(b"* OK"):
            client.close()
            raise ImapError(f"bad greeting {greeting[:80]!r}")
        return client

    async def read_response(self) -> bytes:
        """One response line with any literals ({n}) it carries read in."""
        parts = []
        while True:
            line = await self.reader.readuntil(b"\r\n")
            parts.append(line)
            if not line.endswith(b"}\r\n"):
                return b"".join(parts)
            start = line.rfind(b"{")
            size = int(line[start + 1:-3].rstrip(b"+"))
            parts.append(await self.reader.readexactly(size))

    async def command(self, text: str, literal: bytes | None = None, timeout: float = TIMEOUT) -> Response:
        return await asyncio.wait_for(self._command(text, literal), timeout)

    async def _command(self, text: str, literal: bytes | None) -> Response:
        self.counter += 1
        tag = b"a%d" % self.counter
        if literal is None:
            self.writer.write(tag + b" " + text.encode() + b"\r\n")
        else:
            self.writer.write(tag + b" " + text.encode() + b" {%d}\r\n" % len(literal))
            await self._continuation()
            self.writer.write(literal + b"\r\n")
        untagged = []
        while True:
            line = await self.read_response()
            if line.startswith(tag + b" "):
                status = line[len(tag) + 1:].rstrip(b"\r\n")
                # NO [EXPUNGEISSUED]: another session expunged some of the messages asked for --
                # a normal outcome with concurrent sessions on one mailbox (RFC 9051 7.1).
                if not status.startswith((b"OK", b"NO [EXPUNGEISSUED]")):
                    raise ImapError(f"{text.split()[0]}: {status[:120]!r}")
                return Response(untagged, status)
            untagged.append(line)

    async def _continuation(self) -> None:
        while True:
            line = await self.read_response()
            if line.startswith(b"+"):
                return
            if not line.startswith(b"*"):
                raise ImapError(f"expected continuation, got {line[:80]!r}")

    async def idle(self, timeout: float = TIMEOUT) -> None:
        """Start IDLE and return once the server said ``+ idling``."""
        self.counter += 1
        self.idle_tag = b"a%d" % self.counter
        self.writer.write(self.idle_tag + b" IDLE\r\n")
        await asyncio.wait_for(self._continuation(), timeout)

    async def done(self, timeout: float = TIMEOUT) -> None:
        self.writer.write(b"DONE\r\n")

        async def tagged() -> None:
            while not (await self.read_response()).startswith(self.idle_tag + b" "):
                pass
        await asyncio.wait_for(tagged(), timeout)

    async def logout(self, timeout: float = TIMEOUT) -> None:
        try:
            await self.command("LOGOUT", timeout=timeout)
        finally:
            self.close()

    def close(self) -> None:
        self.writer.close()


async def read_pop3_line(reader: asyncio.StreamReader) -> bytes:
    line = await reader.readuntil(b"\r\n")
    if not line.startswith(b"+OK"):
        raise ImapError(f"POP3: {line[:80]!r}")
    return line
