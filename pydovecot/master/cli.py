"""``dovecot`` start/stop/reload, as the real command behaves (exit codes recorded in
tests/master/goldens/cli_real_dovecot.txt): 89 for a fatal start-up error, 75 when stop/reload
find no running master or no configuration."""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import os
import signal
import socket
import sys
import time

from .pidfile import read_pid, running_pid
from .server import Master, MasterError, load_tree
from .services import read_master_settings

EXIT_FATAL = 89
EXIT_TEMPFAIL = 75

# Modules that register services when imported.  Missing ones (protocols not written yet) are
# skipped; PYDOVECOT_SERVICE_MODULES (comma-separated) adds more, e.g. a test's echo service, and
# PYDOVECOT_ONLY_SERVICE_MODULES replaces the whole list (tests that must not serve IMAP on 143).
SERVICE_MODULES = ("pydovecot.master.auth_service", "pydovecot.master.protocol_services",
                   "pydovecot.master.script_service")


def import_service_modules() -> None:
    extra = [m for m in os.environ.get("PYDOVECOT_SERVICE_MODULES", "").split(",") if m]
    only = os.environ.get("PYDOVECOT_ONLY_SERVICE_MODULES")
    names = [m for m in only.split(",") if m] if only is not None else [*SERVICE_MODULES, *extra]
    for name in names:
        try:
            importlib.import_module(name)
        except ModuleNotFoundError as e:
            if e.name is None or not name.startswith(e.name):
                raise


def fatal(message: str, program: str = "", errors: tuple[str, ...] = ()) -> None:
    head = f"{program}: " if program else ""
    sys.stderr.write("".join(f"{head}Error: {line}\n" for line in errors) + f"{head}Fatal: {message}\n")


def hostdomain() -> str:
    name = socket.gethostname()
    with contextlib.suppress(OSError):
        return socket.gethostbyname_ex(name)[0]
    return name


def signal_master(config: str, signum: int, *, wait: bool) -> int:
    """``dovecot stop`` / ``dovecot reload``."""
    try:
        settings = read_master_settings(load_tree(config))
    except MasterError as e:
        fatal(str(e), e.program)
        return EXIT_TEMPFAIL
    pid = running_pid(settings.pid_file)
    if pid is None:
        fatal(f"Dovecot is not running (read from {settings.pid_file})")
        return EXIT_TEMPFAIL
    os.kill(pid, signum)
    if wait:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and read_pid(settings.pid_file) == pid:
            time.sleep(0.05)
    return 0


def start(config: str, *, foreground: bool) -> int:
    master = Master(config)
    try:
        master.tree = load_tree(config)  # configuration errors first, as dovecot reports them
        import_service_modules()
        master.prepare()
        log = master.open_log()
    except MasterError as e:
        if master.tree is not None:  # Dovecot logs it too, once it knows where
            with contextlib.suppress(Exception):
                log = master.open_log()
                for line in e.errors:
                    log.error(line)
                log.fatal(str(e))
                log.sink.close()
        fatal(str(e), e.program, e.errors)
        return EXIT_FATAL
    if foreground:
        return _run(master)
    ready_r, ready_w = os.pipe()
    pid = os.fork()
    if pid:
        os.close(ready_w)
        os.waitpid(pid, 0)
        with os.fdopen(ready_r, "rb") as ready:
            ok = ready.read(1) == b"1"
        master.close_listeners_in_parent()
        return 0 if ok else EXIT_FATAL
    os.close(ready_r)
    try:
        os.setsid()
        if os.fork():
            os._exit(0)
        _detach(keep_stderr=_logs_to_stderr(master))
        code = _run(master, ready_fd=ready_w)
    except BaseException as e:  # noqa: BLE001 - the daemon must never return into the caller
        log.fatal(f"{type(e).__name__}: {e}")
        code = EXIT_FATAL
    os._exit(code)


def _logs_to_stderr(master: Master) -> bool:
    node = master.tree.lookup()  # type: ignore[attr-defined]
    return "/dev/stderr" in (str(node.get(name)) for name in ("log_path", "info_log_path", "debug_log_path"))


def _detach(*, keep_stderr: bool) -> None:
    """Leave the terminal (and the caller's pipes: a caller waiting for their end would hang)."""
    os.chdir("/")
    null = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1) if keep_stderr else (0, 1, 2):
        os.dup2(null, fd)
    os.close(null)


def _run(master: Master, ready_fd: int | None = None) -> int:
    from .privileges import drop_privileges, target_identity

    assert master.log is not None and master.settings is not None
    # privilege separation: the master stays root, its children drop (separation.py)
    identity = None if master.separated else target_identity(master.tree.lookup())  # type: ignore[attr-defined]
    master.write_pid()
    if identity is not None:
        from pydovecot.storage.access import preload_modules

        preload_modules()
        drop_privileges(identity, [master.settings.base_dir])

    async def main() -> None:
        started = asyncio.Event()
        if ready_fd is not None:
            def tell_ready() -> None:
                os.write(ready_fd, b"1")
                os.close(ready_fd)
            task = asyncio.ensure_future(started.wait())
            task.add_done_callback(lambda _: tell_ready())
        await master.run(started=started)

    try:
        asyncio.run(main())
    except MasterError as e:
        master.log.fatal(str(e))
        fatal(str(e))
        return EXIT_FATAL
    finally:
        master.log.sink.close()
    return 0


def main(command: str, config: str, *, foreground: bool) -> int:
    if command == "start":
        return start(config, foreground=foreground)
    if command == "stop":
        return signal_master(config, signal.SIGTERM, wait=True)
    if command == "reload":
        return signal_master(config, signal.SIGHUP, wait=False)
    fatal(f"Unknown command: {command}")
    return 64
