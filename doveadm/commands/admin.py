"""Server administration: `doveadm who`, `kick`, `reload`, `stop`, `log reopen`, as Dovecot 2.3.19.

who/kick talk to ``<base_dir>/anvil`` with anvil's protocol (``CONNECT-DUMP``), so they work
against our master (pydovecot/master/admin.py) and real Dovecot alike, and filter the sessions
here as doveadm-who.c does.  kick differs in how it ends sessions: real doveadm SIGTERMs each
process (one per session in Dovecot); our processes hold many sessions, so it asks the master
with ``KICK <ident>`` to end just the matching ones.  Hence its -f ("also kick the other users
of the same process") is accepted but never needed.

reload/stop/log reopen signal the pid in ``<base_dir>/master.pid`` (HUP, TERM, USR1), as
doveadm-master.c does.
"""

from __future__ import annotations

import os
import signal
import socket
import sys
import time
from dataclasses import dataclass, field

from pydovecot.login.sessions import WhoFilter, WhoFilterError, parse_who_masks

from ..cmd import Command, Param, ParamKind
from ..context import CommandContext
from ..errors import EX_USAGE, Fatal
from ..rows import RowPrinter

DOVEADM_EX_NOTFOUND = 68  # EX_NOUSER: "no users kicked"
_HANDSHAKE = "VERSION\tanvil\t1\t0\n"
_TIMEOUT = 30.0
_STOP_WAIT = 60.0


@dataclass
class WhoLine:
    """One CONNECT-DUMP line: ``service/ip/user`` (or ``service/user``), pid, count."""

    ident: str
    service: str
    ip: str
    username: str
    pid: int
    refcount: int


@dataclass
class WhoUser:
    username: str
    service: str
    count: int = 0
    pids: list[int] = field(default_factory=list)
    ips: list[str] = field(default_factory=list)


def parse_who_line(line: str) -> WhoLine | None:
    args = line.split("\t")
    if len(args) < 3 or "/" not in args[0]:
        return None
    service, _, rest = args[0].partition("/")
    ip, slash, username = rest.partition("/")
    if not slash:
        ip, username = "", rest
    try:
        return WhoLine(args[0], service, ip, username, int(args[1]), int(args[2]))
    except ValueError:
        return None


def _base_dir(ctx: CommandContext) -> str:
    return str(ctx.settings.lookup().get("base_dir"))


def _anvil_path(ctx: CommandContext) -> str:
    path = ctx.values.get("socket-path")
    return path if path else os.path.join(_base_dir(ctx), "anvil")


def _connect(path: str) -> socket.socket:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(_TIMEOUT)
    try:
        sock.connect(path)
    except OSError as e:
        sock.close()
        raise Fatal(f"net_connect_unix({path}) failed: {e.strerror}") from None
    return sock


def who_lookup(ctx: CommandContext, path: str) -> list[WhoLine]:
    with _connect(path) as sock:
        sock.sendall(f"{_HANDSHAKE}CONNECT-DUMP\n".encode())
        stream = sock.makefile("r", encoding="utf-8", errors="replace", newline="\n")
        lines: list[WhoLine] = []
        for raw in stream:
            text = raw.rstrip("\n")
            if not text:
                break
            parsed = parse_who_line(text)
            if parsed is None:
                ctx.error(f"Invalid input: {text}")
            else:
                lines.append(parsed)
    return lines


def _filter(ctx: CommandContext) -> WhoFilter | None:
    try:
        return parse_who_masks(list(ctx.values.get("mask", [])))
    except WhoFilterError as e:
        ctx.error(str(e))
        return None


def aggregate(lines: list[WhoLine]) -> list[WhoUser]:
    users: dict[tuple[str, str], WhoUser] = {}
    for line in lines:
        user = users.setdefault((line.username, line.service), WhoUser(line.username, line.service))
        user.count += line.refcount
        if line.ip and line.ip not in user.ips:
            user.ips.append(line.ip)
        if line.pid not in user.pids:
            user.pids.append(line.pid)
    return list(users.values())


def print_who(printer: RowPrinter, lines: list[WhoLine], who_filter: WhoFilter, *, separate: bool) -> None:
    """The table of cmd_who: one row per user and service, or (-1) one per connection."""
    if separate:
        printer.header("username", "username", expand=True)
        printer.header("service", "proto")
        printer.header("pid")
        printer.header("ip")
        for line in lines:
            if who_filter.matches(line.username, [line.ip]):
                for _ in range(line.refcount):
                    for value in (line.username, line.service, str(line.pid), line.ip):
                        printer.value(value)
    else:
        printer.header("username", "username")
        printer.header("connections", "#", right=True)
        printer.header("service", "proto")
        printer.header("pids", "(pids)")
        printer.header("ips", "(ips)")
        first = True
        for user in aggregate(lines):
            if who_filter.matches(user.username, user.ips):
                for value in (user.username, str(user.count), user.service,
                              f"({' '.join(map(str, user.pids))})", f"({' '.join(user.ips)})"):
                    printer.value(value)
                if first and printer.formatter == "table":
                    # Observed in 2.3.19 (goldens_admin): the table takes its column widths
                    # from the first user's row alone; later rows overflow their columns.
                    printer.finish()
                first = False
    printer.finish()


def cmd_who(ctx: CommandContext) -> int:
    who_filter = _filter(ctx)
    if who_filter is None:
        return EX_USAGE
    printer = RowPrinter(ctx.options.formatter or "table", hide_titles=ctx.options.hide_titles)
    lines = who_lookup(ctx, _anvil_path(ctx))
    print_who(printer, lines, who_filter, separate=bool(ctx.values.get("separate-connections")))
    ctx.frame_done = True
    printer.write()
    return 0


def cmd_kick(ctx: CommandContext) -> int:
    if not ctx.values.get("mask"):
        ctx.error("user and/or ip[/bits] must be specified.")
        return EX_USAGE
    who_filter = _filter(ctx)
    if who_filter is None:
        return EX_USAGE
    path = _anvil_path(ctx)
    matched = [line for line in who_lookup(ctx, path) if who_filter.matches(line.username, [line.ip])]
    kicked: list[str] = []
    if matched:
        with _connect(path) as sock:
            stream = sock.makefile("rw", encoding="utf-8", errors="replace", newline="\n")
            stream.write(_HANDSHAKE)
            for ident in dict.fromkeys(line.ident for line in matched):
                stream.write(f"KICK\t{ident}\n")
                stream.flush()
                if int(stream.readline().strip() or 0) > 0:
                    kicked += [line.username for line in matched if line.ident == ident]
    if not kicked:
        ctx.out("no users kicked\n")
        return DOVEADM_EX_NOTFOUND
    # "%{result} " through the formatter (written at once), the rest through stdio (at exit).
    names = "".join(f"{name} " for name in sorted(set(kicked)))
    ctx.out("kicked connections from the following users:\n")
    ctx.out("\n")
    if os.isatty(sys.stdout.fileno()):
        ctx.out(names + "\n")
    else:
        sys.stdout.write(names)
        sys.stdout.flush()
    ctx.frame_done = True
    return 0


def _pid_path(ctx: CommandContext) -> str:
    return os.path.join(_base_dir(ctx), "master.pid")


def _master_pid(ctx: CommandContext) -> int:
    from pydovecot.master.pidfile import running_pid

    pid = running_pid(_pid_path(ctx))
    if pid is None:
        raise Fatal(f"Dovecot is not running (read from {_pid_path(ctx)})")
    return pid


def _signal(ctx: CommandContext, signum: int) -> int:
    os.kill(_master_pid(ctx), signum)
    return 0


def cmd_reload(ctx: CommandContext) -> int:
    return _signal(ctx, signal.SIGHUP)


def cmd_log_reopen(ctx: CommandContext) -> int:
    return _signal(ctx, signal.SIGUSR1)


def cmd_stop(ctx: CommandContext) -> int:
    """SIGTERM, then wait for the master to be gone, as `doveadm stop` does (our master
    removes its pid file as its last act, which also covers a master not yet reaped)."""
    from pydovecot.master.pidfile import pid_alive, read_pid

    pid = _master_pid(ctx)
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + _STOP_WAIT
    while pid_alive(pid) and read_pid(_pid_path(ctx)) == pid and time.monotonic() < deadline:
        time.sleep(0.05)
    return 0


_SOCKET = Param("socket-path", ParamKind.STR, short="a", metavar="<anvil socket path>")
_MASK = Param("mask", ParamKind.ARRAY, positional=True)

COMMANDS = (
    Command(("who",), cmd_who, params=(_SOCKET, Param("separate-connections", ParamKind.BOOL, short="1"), _MASK),
            usage_text="[-a <anvil socket path>] [-1] [<user mask>] [<ip/bits>]", needs_settings=True,
            help="List the logged-in users"),
    Command(("kick",), cmd_kick, params=(_SOCKET, Param("force", ParamKind.BOOL, short="f"), _MASK),
            usage_text="[-a <anvil socket path>] <user mask>[|]<ip/bits>", needs_settings=True,
            help="Disconnect users by name or IP"),
    Command(("reload",), cmd_reload, needs_settings=True, help="Reload the configuration"),
    Command(("stop",), cmd_stop, needs_settings=True, help="Stop the server"),
    Command(("log", "reopen"), cmd_log_reopen, needs_settings=True, partial_group=True,
            help="Reopen the log files"),
)
