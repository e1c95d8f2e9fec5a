"""Running a mail command for its users (Dovecot's doveadm-mail.c).

-u USER runs for one user; a -u mask with ``*``/``?`` and -A run for every matching user of the
iterable userdbs, -F FILE for each user named in the file; with more than one user the output
gets a first "username" column. Each user is looked up in-process (our auth service, as
`doveadm user` does), built into a :class:`MailUser` for the "doveadm" service, and the
command's work runs with the user's file-system identity (``call_as``).

Failures are Dovecot's: "doveadm(USER): Error: ..." on stderr, and the exit code of the worst
mail error (NOTFOUND 68, EXISTS 65...).

Parallel users (``parallel=ParallelUsers(...)``, opted into by commands that print no rows, i.e.
``index``): users are looked up first, then each runs in a forked worker process (a process
pool of ``workers``, capped at the number of users), so indexing scales with the cores. A
user's errors (and any crash of its work) are collected and printed at the end, in user order,
without stopping the others; a progress line (doveadm/progress.py) goes to stderr meanwhile.
Real doveadm runs users one after the other unless doveadm_worker_count > 0 hands them to
doveadm-server processes; the command chooses the pool size (see commands/mail.py).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import fnmatch
import io
import multiprocessing
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pydovecot.auth.mechanisms import fix_username
from pydovecot.auth.service import AuthService, RequestInfo, UserdbResult
from pydovecot.storage.access import call_as
from pydovecot.storage.mail_user import MailUser, MailUserError, create_mail_user

from .cmd import Command
from .context import CommandContext
from .errors import EX_TEMPFAIL, EX_USAGE, DoveadmExit, UsageExit
from .progress import Progress
from .rows import RowPrinter, TableMultiLineError

EX_DATAERR = 65
EX_NOUSER = 67
EX_NOTFOUND = 68  # DOVEADM_EX_NOTFOUND
EX_NOPERM = 77


class MailCommandError(Exception):
    """One failed step of a command for one user: logged, remembered, the command goes on."""

    def __init__(self, message: str, code: int) -> None:
        super().__init__(message)
        self.code = code


@dataclass
class MailRun:
    """What a command's per-user function gets."""

    ctx: CommandContext
    printer: RowPrinter
    user: MailUser | None = None
    multi_user: bool = False
    exit_code: int = 0
    extra: dict[str, Any] = field(default_factory=dict)

    def fail(self, message: str, code: int) -> None:
        """i_error() with the user's log prefix, and the run's exit code."""
        name = self.user.username if self.user else ""
        self.ctx.stderr.write(f"doveadm({name}): Error: {message}\n")
        self.ctx.stderr.flush()
        self.set_exit(code)

    def set_exit(self, code: int) -> None:
        # doveadm keeps the last failure's code (doveadm_mail_failed_error overwrites it).
        self.exit_code = code

    def begin_row(self) -> None:
        """Commands call this before the first value of each row (adds the username column)."""
        if self.multi_user and self.user is not None:
            self.printer.value(self.user.username)


UserFunc = Callable[[MailRun], None]


@dataclass(frozen=True)
class ParallelUsers:
    """Run a multi-user command's users in a pool of worker processes."""

    workers: int
    show_progress: bool = False
    label: str = ""


def usage(command: Command) -> UsageExit:
    return UsageExit(f"doveadm {command.name} {command.usage}\n")


def default_username() -> str:
    return os.environ.get("USER") or "root"


def run_mail_command(ctx: CommandContext, per_user: UserFunc, *, default_formatter: str = "flow",
                     setup: Callable[[MailRun], None] | None = None,
                     parallel: ParallelUsers | None = None) -> int:
    """Run ``per_user`` for every user the common parameters select; return the exit code.

    ``setup`` declares the printer's columns once, before any user runs. ``parallel`` (for
    commands whose per-user work prints no rows) runs several users at once when there are."""
    values = ctx.values
    printer = RowPrinter(ctx.options.formatter or default_formatter, hide_titles=ctx.options.hide_titles)
    multi = bool(values.get("all-users")) or _is_mask(values.get("user")) or "user-file" in values
    run = MailRun(ctx, printer, multi_user=multi)
    if multi:
        printer.header("username", "Username", hide_title=True)
    if setup is not None:
        setup(run)
    from .commands.auth import build_service, close_service  # noqa: PLC0415 - avoids an import cycle

    service = build_service(ctx)
    info = RequestInfo(service="doveadm")
    resolved: list[tuple[str, dict[str, str]]] | None = None
    try:
        if parallel is not None and multi:
            resolved = asyncio.run(_resolve_users(ctx, service, info, run))
        else:
            asyncio.run(_run_users(ctx, service, info, run, per_user))
    except TableMultiLineError as error:
        printer.write()
        raise DoveadmExit(EX_TEMPFAIL, f"doveadm({run.user.username if run.user else ''}): Fatal: {error}\n") from None
    finally:
        asyncio.run(close_service(service))
    if resolved is not None and parallel is not None:
        _run_pool(ctx, run, per_user, resolved, parallel)
    printer.finish()
    ctx.frame_done = True
    printer.write()
    return run.exit_code


def _is_mask(user: str | None) -> bool:
    return user is not None and ("*" in user or "?" in user)


async def _user_names(ctx: CommandContext, service: AuthService, info: RequestInfo) -> list[str]:
    values = ctx.values
    if "user-file" in values:
        data = values["user-file"].read().decode("utf-8", "replace")
        return [line.split("\t", 1)[0] for line in data.splitlines() if line.strip()]
    mask = values.get("user")
    if values.get("all-users") or _is_mask(mask):
        names = [user async for user in service.backend.iterate_users(info)]
        if mask and _is_mask(mask):
            names = [n for n in names if fnmatch.fnmatchcase(n, mask.replace("[", "[[]"))]
        return names
    return [mask if mask is not None else default_username()]


async def _resolve_user(ctx: CommandContext, service: AuthService, info: RequestInfo, run: MailRun,
                        name: str) -> tuple[str, dict[str, str]] | None:
    """The userdb's answer for one name (username, fields), or None with the error reported."""
    user, _ = fix_username(name, service.settings.username_rules)
    answer = await service.backend.lookup_user(user or name, info)
    if answer.result is UserdbResult.INTERNAL_FAILURE:
        ctx.stderr.write(f"doveadm({name}): Error: User lookup failed: "
                         "Internal error occurred. Refer to server log for more information.\n")
        run.set_exit(EX_TEMPFAIL)
        return None
    if answer.result is not UserdbResult.OK or user is None:
        if not run.multi_user:
            ctx.stderr.write(f"doveadm({name}): Error: User doesn't exist\n")
            run.set_exit(EX_NOUSER)
        return None
    return answer.user or user, {f.key: f.value for f in answer.fields.items}


async def _resolve_users(ctx: CommandContext, service: AuthService, info: RequestInfo,
                         run: MailRun) -> list[tuple[str, dict[str, str]]]:
    resolved = []
    for name in await _user_names(ctx, service, info):
        found = await _resolve_user(ctx, service, info, run, name)
        if found is not None:
            resolved.append(found)
    return resolved


async def _run_users(ctx: CommandContext, service: AuthService, info: RequestInfo, run: MailRun,
                     per_user: UserFunc) -> None:
    names = await _user_names(ctx, service, info)
    node = ctx.settings.lookup(service="doveadm")
    for name in names:
        found = await _resolve_user(ctx, service, info, run, name)
        if found is None:
            continue
        username, fields = found
        try:
            mail_user = create_mail_user(node, username, fields, service="doveadm")
        except MailUserError as error:
            ctx.stderr.write(f"doveadm({username}): Error: {error}\n")
            run.set_exit(EX_TEMPFAIL)
            continue
        run.user = mail_user
        call_as(mail_user.uid, mail_user.gid, per_user, run)
        run.printer.write()


# --- the worker pool -------------------------------------------------------------------------


@dataclass(frozen=True)
class _Outcome:
    exit_code: int
    errors: str


# What forked workers inherit: (ctx, run, per_user, settings node, users). A closure cannot be
# pickled to a worker; with the fork start method the worker already has it in memory.
_POOL_JOB: tuple[CommandContext, MailRun, UserFunc, Any, list[tuple[str, dict[str, str]]]] | None = None
_MESSAGES: Any = None  # a shared counter (multiprocessing.Value) the workers add to


def _count_messages(count: int) -> None:
    with _MESSAGES.get_lock():
        _MESSAGES.value += count


def _pool_job(index: int) -> _Outcome:
    """One user's work, in a worker process."""
    assert _POOL_JOB is not None
    ctx, run, per_user, node, users = _POOL_JOB
    username, fields = users[index]
    errors = io.StringIO()
    ctx.stderr = errors
    run.exit_code = 0
    run.extra = {"on_messages": _count_messages}
    try:
        run.user = create_mail_user(node, username, fields, service="doveadm")
        call_as(run.user.uid, run.user.gid, per_user, run)
    except MailUserError as error:
        errors.write(f"doveadm({username}): Error: {error}\n")
        run.set_exit(EX_TEMPFAIL)
    except Exception as error:  # noqa: BLE001 - one user's failure must not stop the others
        errors.write(f"doveadm({username}): Error: {type(error).__name__}: {error}\n")
        run.set_exit(EX_TEMPFAIL)
    return _Outcome(run.exit_code, errors.getvalue())


def _run_pool(ctx: CommandContext, run: MailRun, per_user: UserFunc, users: list[tuple[str, dict[str, str]]],
              parallel: ParallelUsers) -> None:
    global _POOL_JOB, _MESSAGES  # noqa: PLW0603 - handed to the forked workers
    if not users:
        return
    node = ctx.settings.lookup(service="doveadm")
    fork = multiprocessing.get_context("fork")
    _MESSAGES = fork.Value("q", 0)
    _POOL_JOB = (ctx, run, per_user, node, users)
    progress = Progress(parallel.label, len(users), ctx.stderr, in_place=ctx.stderr.isatty()) \
        if parallel.show_progress else None
    outcomes: dict[int, _Outcome] = {}
    try:
        with concurrent.futures.ProcessPoolExecutor(max(1, min(parallel.workers, len(users))),
                                                    mp_context=fork) as pool:
            pending = {pool.submit(_pool_job, index): index for index in range(len(users))}
            while pending:
                done, _ = concurrent.futures.wait(pending, timeout=0.2,
                                                  return_when=concurrent.futures.FIRST_COMPLETED)
                for future in done:
                    index = pending.pop(future)
                    outcomes[index] = _outcome(future, users[index][0])
                if progress is not None:
                    progress.messages = _MESSAGES.value
                    for _ in done:
                        progress.user_done()
                    progress.draw()
    finally:
        _POOL_JOB = None
    if progress is not None:
        progress.finish()
    for index in range(len(users)):
        outcome = outcomes[index]
        if outcome.errors:
            ctx.stderr.write(outcome.errors)
        if outcome.exit_code:
            run.set_exit(outcome.exit_code)
    ctx.stderr.flush()


def _outcome(future: concurrent.futures.Future[_Outcome], username: str) -> _Outcome:
    try:
        return future.result()
    except concurrent.futures.process.BrokenProcessPool as error:
        return _Outcome(EX_TEMPFAIL, f"doveadm({username}): Error: worker process died: {error}\n")


def lookup_mail_user(ctx: CommandContext, name: str) -> MailUser | None:
    """One user, looked up and built outside any command run (copy/move's source user)."""
    from .commands.auth import build_service, close_service  # noqa: PLC0415 - avoids an import cycle

    service = build_service(ctx)
    info = RequestInfo(service="doveadm")

    async def lookup() -> Any:
        try:
            return await service.backend.lookup_user(name, info)
        finally:
            await close_service(service)

    answer = asyncio.run(lookup())
    if answer.result is not UserdbResult.OK:
        return None
    fields = {f.key: f.value for f in answer.fields.items}
    return create_mail_user(ctx.settings.lookup(service="doveadm"), answer.user or name, fields, service="doveadm")


def require(ctx: CommandContext, command: Command, *names: str) -> None:
    for name in names:
        if not ctx.values.get(name):
            raise usage(command)


__all__ = ["EX_DATAERR", "EX_NOPERM", "EX_NOTFOUND", "EX_USAGE", "MailCommandError", "MailRun",
           "run_mail_command", "require", "usage"]
