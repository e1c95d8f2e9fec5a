"""doveadm's message commands: fetch, search, expunge, flags, save, copy, move, index, force-resync.

Each takes a search query (see doveadm/search_query.py) or a mailbox mask, runs for the users
the common -u/-A/-F parameters select (doveadm/mail_runner.py), and prints through the -f
formatters (doveadm/rows.py), as Dovecot 2.3.19 does.
"""

from __future__ import annotations

import os
import sqlite3
import sys
from typing import Any

from pydovecot.imap.protocol.commands import SearchAnd, SearchCriterion, SearchKey
from pydovecot.storage.interface import MailboxError, StoreAction
from pydovecot.storage.maildir.layout import MailboxNameError

from .. import fetch_fields, index_queue
from ..cmd import Command, Param, ParamKind
from ..context import CommandContext
from ..errors import EX_TEMPFAIL, EX_USAGE, DoveadmExit
from ..mail_access import Message, list_mailboxes, open_mailbox, search
from ..mail_runner import (
    EX_NOTFOUND,
    EX_NOUSER,
    MailRun,
    ParallelUsers,
    lookup_mail_user,
    require,
    run_mail_command,
    usage,
)
from ..search_query import MAILBOX_KEY, QueryError, mailbox_patterns, parse_query

_SYSTEM_FLAGS = {f.lower(): f for f in ("\\Answered", "\\Flagged", "\\Deleted", "\\Seen", "\\Draft")}


def _fatal(text: str, code: int = EX_TEMPFAIL) -> DoveadmExit:
    return DoveadmExit(code, f"Fatal: {text}\n")


def _query(ctx: CommandContext, command: Command, name: str = "query") -> SearchCriterion:
    args: list[str] = ctx.values.get(name) or []
    if not args:
        raise usage(command)
    try:
        return parse_query(args)
    except QueryError as error:
        raise _fatal(str(error)) from None


def _matches(run: MailRun, query: SearchCriterion) -> list[Message]:
    assert run.user is not None
    return list(search(run.user, query))


# --- fetch / search ------------------------------------------------------------------------


def cmd_fetch(ctx: CommandContext) -> int:
    require(ctx, FETCH, "fields")
    names = str(ctx.values["fields"]).split()
    fields = []
    for name in names:
        found = fetch_fields.lookup(name)
        if found is None:
            sys.stderr.write(f"Available fetch fields: {fetch_fields.AVAILABLE}\n")
            raise _fatal(f"Unknown fetch field: {name}")
        fields.append(found)
    query = _query(ctx, FETCH)

    def setup(run: MailRun) -> None:
        for field in fields:
            run.printer.header(field.name)

    def per_user(run: MailRun) -> None:
        for message in _matches(run, query):
            run.begin_row()
            for field in fields:
                field.print(run.printer, message)

    return run_mail_command(ctx, per_user, default_formatter="pager", setup=setup)


def cmd_search(ctx: CommandContext) -> int:
    query = _query(ctx, SEARCH)

    def setup(run: MailRun) -> None:
        run.printer.header("mailbox-guid", hide_title=True)
        run.printer.header("uid", hide_title=True)

    single = _single_mailbox(query)

    def per_user(run: MailRun) -> None:
        assert run.user is not None
        if single is not None and not _mailbox_exists(run, single):
            # doveadm search resolves a lone literal mailbox to its GUID first.
            run.fail(f"Couldn't get mailbox '{single}' GUID: Mailbox doesn't exist: {single}", EX_NOTFOUND)
            return
        for message in _matches(run, query):
            run.begin_row()
            run.printer.value(message.box.guid)
            run.printer.value(str(message.uid))

    return run_mail_command(ctx, per_user, setup=setup)


def _single_mailbox(query: SearchCriterion) -> str | None:
    """The name of the one ``mailbox`` key (without wildcards) a query requires at its top level."""
    keys = query.keys if isinstance(query, SearchAnd) else (query,)
    names = [str(k.value) for k in keys if isinstance(k, SearchKey) and k.name == MAILBOX_KEY]
    if len(names) != 1 or any(c in names[0] for c in "*%?"):
        return None
    return names[0]


def _mailbox_exists(run: MailRun, vname: str) -> bool:
    assert run.user is not None
    try:
        return run.user.mailbox_exists(vname)
    except MailboxNameError:
        return False


# --- changes -------------------------------------------------------------------------------


def _by_mailbox(messages: list[Message]) -> dict[str, tuple[Any, list[int]]]:
    out: dict[str, tuple[Any, list[int]]] = {}
    for message in messages:
        out.setdefault(message.box.listed.vname, (message.box, []))[1].append(message.uid)
    return out


def cmd_expunge(ctx: CommandContext) -> int:
    query = _query(ctx, EXPUNGE)
    if mailbox_patterns(query) is None:
        raise _fatal("expunge: To avoid accidents, search query must contain MAILBOX in all search branches",
                     EX_USAGE)

    def per_user(run: MailRun) -> None:
        for box, uids in _by_mailbox(_matches(run, query)).values():
            box.mailbox.expunge(uids)

    return run_mail_command(ctx, per_user)


def _parse_flags(text: str) -> tuple[list[str], list[str]]:
    flags: list[str] = []
    keywords: list[str] = []
    for word in text.split():
        if word.startswith("\\"):
            system = _SYSTEM_FLAGS.get(word.lower())
            if system is None:
                raise _fatal(f"Invalid system flag: {word}")
            flags.append(system)
        else:
            keywords.append(word)
    return flags, keywords


def _flags_command(action: StoreAction, command_ref: list[Command]) -> Any:
    def run_flags(ctx: CommandContext) -> int:
        command = command_ref[0]
        require(ctx, command, "flags")
        flags, keywords = _parse_flags(str(ctx.values["flags"]))
        query = _query(ctx, command)

        def per_user(run: MailRun) -> None:
            for box, uids in _by_mailbox(_matches(run, query)).values():
                box.mailbox.store(uids, action, flags, keywords)

        return run_mail_command(ctx, per_user)

    return run_flags


def cmd_save(ctx: CommandContext) -> int:
    data = ctx.stdin.read()
    vname = str(ctx.values.get("mailbox") or "INBOX")

    def per_user(run: MailRun) -> None:
        assert run.user is not None
        try:
            mailbox = run.user.open_mailbox(vname)
        except (LookupError, MailboxNameError):
            run.fail(f"Failed to open mailbox {vname}: Mailbox doesn't exist: {vname}", EX_NOTFOUND)
            return
        try:
            mailbox.append(data)
        except MailboxError as error:
            run.fail(f"Saving failed: {error}", EX_TEMPFAIL)

    return run_mail_command(ctx, per_user)


def _copy_command(move: bool, command_ref: list[Command]) -> Any:
    def run_copy(ctx: CommandContext) -> int:
        command = command_ref[0]
        require(ctx, command, "destination")
        destination = str(ctx.values["destination"])
        args: list[str] = list(ctx.values.get("query") or [])
        source_user = None
        if len(args) >= 2 and args[0].lower() == "user":
            source_user, args = args[1], args[2:]
        ctx.values["query"] = args
        query = _query(ctx, command)
        source = None
        if source_user is not None:
            source = lookup_mail_user(ctx, source_user)
            if source is None:
                raise DoveadmExit(EX_NOUSER, f"doveadm({source_user}): Error: User doesn't exist\n")

        def per_user(run: MailRun) -> None:
            assert run.user is not None
            try:
                target = run.user.open_mailbox(destination, create_inbox=True)
            except (LookupError, MailboxNameError):
                run.fail(f"Can't open mailbox '{destination}': Mailbox doesn't exist: {destination}", EX_NOTFOUND)
                return
            original, run.user = run.user, source or run.user
            try:
                matched = _matches(run, query)
            finally:
                run.user = original
            for box, uids in _by_mailbox(matched).values():
                box.mailbox.copy_to(uids, target)
                if move:
                    box.mailbox.expunge(uids)

        return run_mail_command(ctx, per_user)

    return run_copy


# --- index / force-resync ------------------------------------------------------------------


def _sync_masks(ctx: CommandContext, command: Command) -> int:
    require(ctx, command, "mask")
    masks = [str(m) for m in ctx.values["mask"]]

    def per_user(run: MailRun) -> None:
        assert run.user is not None
        for listed in list_mailboxes(run.user, masks):
            if listed.selectable:
                open_mailbox(run.user, listed)

    return run_mail_command(ctx, per_user)


# doveadm index: sync each mailbox and bring its full-text index up to date (fts_index(), when
# the user has fts). Several users (-A, a -u mask, -F) run in a pool of worker processes:
# doveadm_worker_count of them if set, else one per core - our choice, real doveadm indexes
# them one by one in its own process when doveadm_worker_count = 0. A progress line (users
# done, messages/s, ETA) goes to stderr on a terminal or with -v; each user's errors are
# printed at the end and do not stop the others. -q queues instead (doveadm/index_queue.py).


def _max_recent(ctx: CommandContext) -> int:
    text = ctx.values.get("max-recent")
    if text is None:
        return 0
    if not str(text).isdigit() or int(text) >= 2**32:
        raise _fatal(f"Invalid -n parameter number: {text}", EX_USAGE)
    return int(text)


def _index_user(run: MailRun, masks: list[str], max_recent: int) -> None:
    assert run.user is not None
    on_messages = run.extra.get("on_messages")
    for listed in list_mailboxes(run.user, masks):
        if not listed.selectable:
            continue
        try:
            box = open_mailbox(run.user, listed)
            if max_recent and len(box.recent) > max_recent:
                continue  # too much new mail: left for a later run, as Dovecot does
            fts_index = getattr(box.mailbox, "fts_index", None)
            if fts_index is not None:
                fts_index(on_messages)
        except (MailboxError, OSError, sqlite3.Error) as error:
            run.fail(f"Mailbox {listed.vname}: Indexing failed: {error}", EX_TEMPFAIL)


def cmd_index(ctx: CommandContext) -> int:
    require(ctx, INDEX, "mask")
    masks = [str(m) for m in ctx.values["mask"]]
    max_recent = _max_recent(ctx)
    if ctx.values.get("queue"):
        return _queue_index(ctx, masks, max_recent)
    workers = int(ctx.settings.lookup(service="doveadm").get("doveadm_worker_count") or 0) or (os.cpu_count() or 1)
    parallel = ParallelUsers(workers, show_progress=ctx.options.verbose or ctx.stderr.isatty(), label="index")
    return run_mail_command(ctx, lambda run: _index_user(run, masks, max_recent), parallel=parallel)


def _queue_index(ctx: CommandContext, masks: list[str], max_recent: int) -> int:
    entries: list[index_queue.Entry] = []
    wildcards = any("*" in m or "%" in m for m in masks)

    def per_user(run: MailRun) -> None:
        assert run.user is not None
        # Like Dovecot: names without wildcards are queued as given, without listing.
        names = [listed.vname for listed in list_mailboxes(run.user, masks) if listed.selectable] \
            if wildcards else masks
        entries.extend(index_queue.Entry(run.user.username, name, max_recent) for name in names)

    code = run_mail_command(ctx, per_user)
    if entries:
        base_dir = str(ctx.settings.lookup(service="doveadm").get("base_dir") or "/run/dovecot")
        index_queue.enqueue(base_dir, entries)
        index_queue.start_background(base_dir, lambda entry: _index_queued(ctx, entry))
    return code


def _index_queued(ctx: CommandContext, entry: index_queue.Entry) -> None:
    """The background indexer's work for one queued mailbox (runs in its own process)."""
    values: dict[str, Any] = {"user": entry.username, "mask": [entry.mailbox]}
    if entry.max_recent:
        values["max-recent"] = str(entry.max_recent)
    queued = CommandContext(values, ctx.options, stdin=ctx.stdin, stderr=sys.stderr)
    try:
        cmd_index(queued)
    except DoveadmExit as error:
        sys.stderr.write(error.message)


def cmd_force_resync(ctx: CommandContext) -> int:
    return _sync_masks(ctx, FORCE_RESYNC)


_QUERY = Param("query", ParamKind.ARRAY, positional=True, metavar="search query")

FETCH = Command(("fetch",), cmd_fetch, mail=True, needs_settings=True, help="Fetch message fields",
                params=(Param("fields", ParamKind.STR, positional=True), _QUERY),
                usage_text="<fields> <search query>")
SEARCH = Command(("search",), cmd_search, mail=True, needs_settings=True, help="Search messages",
                 params=(_QUERY,), usage_text="<search query>")
EXPUNGE = Command(("expunge",), cmd_expunge, mail=True, needs_settings=True, help="Expunge messages",
                  # 2.3.19 shows [-m] in the usage but its option parser does not accept it
                  params=(_QUERY,),
                  usage_text="[-m] <search query>")
_FLAG_REFS: dict[str, list[Command]] = {"add": [], "remove": [], "replace": []}
_FLAG_ACTIONS = {"add": StoreAction.ADD, "remove": StoreAction.REMOVE, "replace": StoreAction.REPLACE}
FLAGS = tuple(
    Command(("flags", word), _flags_command(_FLAG_ACTIONS[word], _FLAG_REFS[word]), mail=True, needs_settings=True,
            help=f"{word.capitalize()} message flags",
            params=(Param("flags", ParamKind.STR, positional=True), _QUERY), usage_text="<flags> <search query>")
    for word in ("add", "remove", "replace")
)
for _cmd in FLAGS:
    _FLAG_REFS[_cmd.words[1]].append(_cmd)
SAVE = Command(("save",), cmd_save, mail=True, needs_settings=True, help="Save a message from stdin",
               params=(Param("mailbox", ParamKind.STR, short="m"),), usage_text="[-m mailbox]")
_COPY_REF: list[Command] = []
_MOVE_REF: list[Command] = []
_COPY_PARAMS = (Param("destination", ParamKind.STR, positional=True), _QUERY)
COPY = Command(("copy",), _copy_command(False, _COPY_REF), mail=True, needs_settings=True, params=_COPY_PARAMS,
               help="Copy messages", usage_text="<destination> [user <source user>] <search query>")
MOVE = Command(("move",), _copy_command(True, _MOVE_REF), mail=True, needs_settings=True, params=_COPY_PARAMS,
               help="Move messages", usage_text="<destination> [user <source user>] <search query>")
_COPY_REF.append(COPY)
_MOVE_REF.append(MOVE)
_MASK = Param("mask", ParamKind.ARRAY, positional=True, metavar="mailbox mask")
INDEX = Command(("index",), cmd_index, mail=True, needs_settings=True, help="Index mailboxes",
                params=(Param("queue", ParamKind.BOOL, short="q"),
                        Param("max-recent", ParamKind.STR, short="n"), _MASK),
                usage_text="[-q] [-n <max recent>] <mailbox mask>")
FORCE_RESYNC = Command(("force-resync",), cmd_force_resync, mail=True, needs_settings=True,
                       help="Repair mailbox index state",
                       params=(Param("fsck", ParamKind.BOOL, short="f"), _MASK), usage_text="[-f] <mailbox mask>")

COMMANDS = (FETCH, SEARCH, EXPUNGE, *FLAGS, SAVE, COPY, MOVE, INDEX, FORCE_RESYNC)
