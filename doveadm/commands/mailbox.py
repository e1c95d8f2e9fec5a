"""`doveadm mailbox list|create|delete|rename|status|subscribe|unsubscribe` (doveadm-mail-mailbox.c,
doveadm-mail-mailbox-status.c), as Dovecot 2.3.19 prints them and fails."""

from __future__ import annotations

from collections.abc import Callable

from pydovecot.imap.protocol.mutf7 import encode_mutf7
from pydovecot.storage.maildir.layout import INBOX, MailboxNameError
from pydovecot.storage.maildir.mailbox_list import (
    MailboxExistsError,
    MailboxNotFoundError,
    MailboxOperationError,
)
from pydovecot.storage.namespace import pattern_regex

from ..cmd import Command, Param, ParamKind
from ..context import CommandContext
from ..errors import EX_TEMPFAIL, EX_USAGE, DoveadmExit
from ..mail_access import list_mailboxes, open_mailbox
from ..mail_runner import EX_DATAERR, EX_NOTFOUND, MailRun, require, run_mail_command

_STATUS_FIELDS = ("messages", "recent", "uidnext", "uidvalidity", "unseen", "highestmodseq", "vsize", "guid",
                  "firstsaved")
_TOTAL_FIELDS = ("messages", "recent", "unseen", "vsize")


def _names(ctx: CommandContext, command: Command) -> list[str]:
    require(ctx, command, "mailbox")
    return [str(n) for n in ctx.values["mailbox"]]


def _error_code(error: Exception) -> int:
    if isinstance(error, (MailboxNotFoundError, LookupError)):
        return EX_NOTFOUND
    if isinstance(error, (MailboxExistsError, MailboxOperationError, MailboxNameError)):
        return EX_DATAERR
    return EX_TEMPFAIL


def _each_name(ctx: CommandContext, command: Command, action: Callable[[MailRun, str], None]) -> int:
    names = _names(ctx, command)

    def per_user(run: MailRun) -> None:
        for name in names:
            action(run, name)

    return run_mail_command(ctx, per_user)


# --- list ----------------------------------------------------------------------------------


def cmd_list(ctx: CommandContext) -> int:
    masks = [str(m) for m in ctx.values.get("mailbox") or []] or None
    subscribed = bool(ctx.values.get("subscribed"))
    utf7 = bool(ctx.values.get("mutf7"))

    def setup(run: MailRun) -> None:
        run.printer.header("mailbox", hide_title=True)

    def per_user(run: MailRun) -> None:
        assert run.user is not None
        for name in _subscribed(run, masks) if subscribed else [m.vname for m in list_mailboxes(run.user, masks)]:
            run.begin_row()
            run.printer.value(encode_mutf7(name).decode("ascii") if utf7 else name)

    return run_mail_command(ctx, per_user, setup=setup)


def _subscribed(run: MailRun, masks: list[str] | None) -> list[str]:
    assert run.user is not None
    out: list[str] = []
    for ns in run.user.namespaces.namespaces:
        for storage in ns.mailbox_list.subscriptions():
            vname = ns.vname(storage)
            if masks is None or any(pattern_regex(m, ns.separator).fullmatch(vname) for m in masks):
                out.append(vname)
    return out


# --- create / delete / rename / subscriptions ----------------------------------------------


def cmd_create(ctx: CommandContext) -> int:
    subscribe = bool(ctx.values.get("subscribe"))

    def create(run: MailRun, name: str) -> None:
        assert run.user is not None
        try:
            ns, storage = run.user.resolve(name)
            if storage == INBOX:
                raise MailboxExistsError("Mailbox already exists")
            ns.mailbox_list.create(storage.rstrip(ns.storage_separator))
            if subscribe:
                ns.mailbox_list.subscribe(storage)
        except (MailboxExistsError, MailboxNameError, OSError) as error:
            run.fail(f"Can't create mailbox {name}: {_text(error)}", _error_code(error))

    return _each_name(ctx, CREATE, create)


def _text(error: Exception) -> str:
    return str(error) if not isinstance(error, OSError) or not error.strerror else error.strerror


def cmd_delete(ctx: CommandContext) -> int:
    recursive = bool(ctx.values.get("recursive"))
    unsubscribe = bool(ctx.values.get("unsubscribe"))
    names = _names(ctx, DELETE)

    def per_user(run: MailRun) -> None:
        assert run.user is not None
        todo = list(names)
        if recursive:
            todo = []
            for name in names:
                ns = run.user.namespaces.find(name)
                children = [m.vname for m in list_mailboxes(run.user, [name + ns.separator + "*"])]
                todo += sorted(children, key=len, reverse=True) + [name]
        for name in todo:
            try:
                ns, storage = run.user.resolve(name)
                ns.mailbox_list.delete(storage)
                if unsubscribe:
                    ns.mailbox_list.unsubscribe(storage)
            except (LookupError, MailboxOperationError, MailboxNameError, OSError) as error:
                run.fail(f"Can't delete mailbox {name}: {_text(error)}", _error_code(error))

    return run_mail_command(ctx, per_user)


def cmd_rename(ctx: CommandContext) -> int:
    require(ctx, RENAME, "old", "new")
    old, new = str(ctx.values["old"]), str(ctx.values["new"])
    subscribe = bool(ctx.values.get("subscribe"))

    def per_user(run: MailRun) -> None:
        assert run.user is not None
        try:
            ns, old_storage = run.user.resolve(old)
            new_ns, new_storage = run.user.resolve(new)
            if new_ns is not ns:
                raise MailboxOperationError("Renaming across namespaces isn't supported")
            ns.mailbox_list.rename(old_storage, new_storage)
            if subscribe:
                ns.mailbox_list.unsubscribe(old_storage)
                ns.mailbox_list.subscribe(new_storage)
        except (LookupError, MailboxExistsError, MailboxOperationError, MailboxNameError, OSError) as error:
            run.fail(f"Can't rename mailbox {old} to {new}: {_text(error)}", _error_code(error))

    return run_mail_command(ctx, per_user)


def _subscription(subscribe: bool) -> Callable[[CommandContext], int]:
    def run_it(ctx: CommandContext) -> int:
        def change(run: MailRun, name: str) -> None:
            assert run.user is not None
            try:
                ns, storage = run.user.resolve(name)
                if subscribe:
                    ns.mailbox_list.subscribe(storage)
                else:
                    ns.mailbox_list.unsubscribe(storage)
            except (MailboxNameError, OSError) as error:
                verb = "subscribe to" if subscribe else "unsubscribe"
                run.fail(f"Can't {verb} mailbox {name}: {_text(error)}", _error_code(error))

        return _each_name(ctx, SUBSCRIBE if subscribe else UNSUBSCRIBE, change)

    return run_it


# --- status --------------------------------------------------------------------------------


def cmd_status(ctx: CommandContext) -> int:
    require(ctx, STATUS, "fields", "mailbox")
    total = bool(ctx.values.get("total"))
    wanted: set[str] = set()
    for name in str(ctx.values["fields"]).split():
        lowered = name.lower()
        if lowered == "all":
            wanted.update(_TOTAL_FIELDS if total else _STATUS_FIELDS)
        elif lowered in _STATUS_FIELDS:
            if total and lowered not in _TOTAL_FIELDS:
                raise DoveadmExit(EX_USAGE, f"Fatal: Status field {name} can't be used with -t\n")
            wanted.add(lowered)
        else:
            raise DoveadmExit(EX_USAGE, f"Fatal: Unknown status field: {name}\n")
    fields = [f for f in _STATUS_FIELDS if f in wanted]
    masks = [str(m) for m in ctx.values["mailbox"]]

    def setup(run: MailRun) -> None:
        if not total:
            run.printer.header("mailbox", hide_title=True)
        for field in fields:
            run.printer.header(field)

    def per_user(run: MailRun) -> None:
        assert run.user is not None
        sums = dict.fromkeys(fields, 0)
        for mask in masks:
            found = [m for m in list_mailboxes(run.user, [mask]) if m.selectable]
            if not found and not any(c in mask for c in "*%"):
                run.fail(f"Mailbox {mask}: Failed to lookup mailbox status: Mailbox doesn't exist: {mask}",
                         EX_NOTFOUND)
                continue
            for listed in found:
                values = _status_values(run, listed)
                if total:
                    for field in fields:
                        sums[field] += int(values[field])
                    continue
                run.begin_row()
                run.printer.value(listed.vname)
                for field in fields:
                    run.printer.value(values[field])
        if total:
            run.begin_row()
            for field in fields:
                run.printer.value(str(sums[field]))

    return run_mail_command(ctx, per_user, setup=setup)


def _status_values(run: MailRun, listed: object) -> dict[str, str]:
    assert run.user is not None
    box = open_mailbox(run.user, listed)  # type: ignore[arg-type]
    snap = box.snapshot
    saved = [m.savedate for m in snap.messages if m.savedate is not None]
    return {
        "messages": str(len(snap.messages)),
        "recent": str(len(box.recent)),
        "uidnext": str(snap.uidnext),
        "uidvalidity": str(snap.uidvalidity),
        "unseen": str(sum(1 for m in snap.messages if "\\Seen" not in m.flags)),
        "highestmodseq": str(snap.highestmodseq),
        "vsize": str(sum(m.vsize for m in snap.messages)),
        "guid": box.guid,
        "firstsaved": str(int(saved[0])) if saved else "never",
    }


_NAMES = Param("mailbox", ParamKind.ARRAY, positional=True)

LIST = Command(("mailbox", "list"), cmd_list, mail=True, needs_settings=True, partial_group=True, help="List mailboxes",
               params=(Param("mutf7", ParamKind.BOOL, short="7"), Param("utf8", ParamKind.BOOL, short="8"),
                       Param("subscribed", ParamKind.BOOL, short="s"), _NAMES),
               usage_text="[-7|-8] [-s] [<mailbox mask> [...]]")
CREATE = Command(("mailbox", "create"), cmd_create, mail=True, needs_settings=True, partial_group=True, help="Create mailboxes",
                 params=(Param("subscribe", ParamKind.BOOL, short="s"), Param("guid", ParamKind.STR, short="g"),
                         _NAMES),
                 usage_text="[-s] [-g <guid>] <mailbox> [...]")
DELETE = Command(("mailbox", "delete"), cmd_delete, mail=True, needs_settings=True, partial_group=True, help="Delete mailboxes",
                 params=(Param("require-empty", ParamKind.BOOL, short="e"),
                         Param("recursive", ParamKind.BOOL, short="r"),
                         Param("unsubscribe", ParamKind.BOOL, short="s"),
                         Param("unsafe", ParamKind.BOOL, short="Z"), _NAMES),
                 usage_text="[-e] [-r] [-s] [-Z] <mailbox> [...]")
RENAME = Command(("mailbox", "rename"), cmd_rename, mail=True, needs_settings=True, partial_group=True, help="Rename a mailbox",
                 params=(Param("subscribe", ParamKind.BOOL, short="s"), Param("old", ParamKind.STR, positional=True),
                         Param("new", ParamKind.STR, positional=True)),
                 usage_text="[-s] <old name> <new name>")
STATUS = Command(("mailbox", "status"), cmd_status, mail=True, needs_settings=True, partial_group=True, help="Show mailbox status",
                 params=(Param("total", ParamKind.BOOL, short="t"), Param("fields", ParamKind.STR, positional=True),
                         _NAMES),
                 usage_text="<fields> <mailbox> [...]")
SUBSCRIBE = Command(("mailbox", "subscribe"), _subscription(True), mail=True, needs_settings=True, partial_group=True,
                    help="Subscribe mailboxes", params=(_NAMES,), usage_text="<mailbox> [...]")
UNSUBSCRIBE = Command(("mailbox", "unsubscribe"), _subscription(False), mail=True, needs_settings=True, partial_group=True,
                      help="Unsubscribe mailboxes", params=(_NAMES,), usage_text="<mailbox> [...]")

COMMANDS = (LIST, CREATE, DELETE, RENAME, STATUS, SUBSCRIBE, UNSUBSCRIBE)
