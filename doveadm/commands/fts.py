"""`doveadm fts lookup|tokenize|optimize|rescan` (Dovecot's doveadm-fts.c, a doveadm plugin).

Our index is SQLite FTS5 (pydovecot/plugins/fts/engine.py), served for ``fts = lucene``:

- ``fts lookup <search query>``: for each mailbox the query selects, "<mailbox>: <uid set>" or
  "<mailbox>: no results", printed as plain lines (no username column, even with -A). Only the
  query's top-level keys the index answers (BODY, TEXT, FROM, TO, CC, BCC, SUBJECT) narrow the
  result, ANDed (FTS_LOOKUP_FLAG_AND_ARGS); other keys are left out; none at all is "no results".
- ``fts tokenize [-l lang] <text>``: the tokens our index stores, one a line. Real 2.3.19 runs
  fts_lucene's libfts tokenizers (and crashes unless ``fts_lucene = use_libfts``); ours are
  unicode61's: punctuation and ``_`` split words (real keeps "don't" and "a_b"), tokens are
  lower-cased with diacritics folded (real: "café"; ours: "cafe"), e-mail addresses give
  their parts only (real also gives the whole address), and unless ``no_snowball`` they are
  Porter stems ("reports" -> "report"), as stored; real prints libfts's tokens through
  fts_filters, which fts_lucene's own (Snowball) stemming never sees. -l is checked like
  real's (a known language, one of fts_languages) but does not change the tokens.
- ``fts rescan [<namespace>]``: throws away the index of every mailbox of the namespace (INBOX's
  by default); each is rebuilt on its next lookup or ``doveadm index``.
- ``fts optimize [<namespace>]``: rebuilds the indexes that still hold rows of expunged mail
  (our contentless table cannot delete them) and merges each index's segments.
"""

from __future__ import annotations

from typing import Any

from pydovecot.imap.protocol.commands import SearchAnd, SearchCriterion, SearchKey
from pydovecot.plugins.fts.engine import KEY_COLUMNS, tokenize
from pydovecot.plugins.fts.plugin import FtsPlugin
from pydovecot.plugins.registry import plugin_names
from pydovecot.storage.namespace import Namespace

from ..cmd import Command, Param, ParamKind
from ..context import CommandContext
from ..errors import EX_TEMPFAIL, EX_USAGE, DoveadmExit
from ..mail_access import list_mailboxes
from ..mail_runner import EX_NOTFOUND, MailRun, run_mail_command, usage
from ..search_query import FALSE, QueryError, for_mailbox, mailbox_patterns, parse_query

EX_CONFIG = 78
# lib-fts's languages (fts_language_find); the ones a -l may name.
KNOWN_LANGUAGES = ("da", "de", "en", "es", "fi", "fr", "it", "nl", "no", "pt", "ro", "ru", "sv")


def _require_plugin(ctx: CommandContext) -> None:
    node = ctx.settings.lookup(service="doveadm")
    if "fts" not in plugin_names(str(node.get("mail_plugins") or "")):
        raise DoveadmExit(EX_TEMPFAIL, "Fatal: Unknown command 'fts', but plugin fts exists. "
                                       "Try to set mail_plugins=fts\n")


def _plugin(run: MailRun) -> FtsPlugin | None:
    assert run.user is not None
    plugin = next((p for p in run.user.plugins if isinstance(p, FtsPlugin)), None)
    return plugin if plugin is not None and plugin.active else None


# --- lookup --------------------------------------------------------------------------------


def _fts_keys(tree: SearchCriterion) -> list[tuple[str, str]]:
    keys = tree.keys if isinstance(tree, SearchAnd) else (tree,)
    return [(k.name, str(k.value)) for k in keys if isinstance(k, SearchKey) and k.name in KEY_COLUMNS]


def _uid_set(uids: list[int]) -> str:
    """imap_write_seq_range(): "1:3,7"."""
    out: list[str] = []
    start = prev = uids[0]
    for uid in [*uids[1:], None]:
        if uid is not None and uid == prev + 1:
            prev = uid
            continue
        out.append(str(start) if start == prev else f"{start}:{prev}")
        if uid is not None:
            start = prev = uid
    return ",".join(out)


def _lookup_box(run: MailRun, plugin: FtsPlugin, listed: Any, query: SearchCriterion) -> None:
    assert run.user is not None
    tree = for_mailbox(query, listed.vname, None, listed.namespace.separator)
    if tree == FALSE:
        return
    box = run.user.mailbox_for(listed.namespace, listed.storage)
    keys = _fts_keys(tree)
    found: set[int] | None = None
    for key, value in keys:
        uids = box.fts_lookup(key, value)
        if uids is not None:
            found = uids if found is None else found & uids
    run.ctx.out(f"{listed.vname}: {_uid_set(sorted(found)) if found else 'no results'}\n")


def cmd_lookup(ctx: CommandContext) -> int:
    _require_plugin(ctx)
    args: list[str] = ctx.values.get("query") or []
    if not args:
        raise usage(LOOKUP)
    try:
        query = parse_query(args)
    except QueryError as error:
        raise DoveadmExit(EX_TEMPFAIL, f"Fatal: {error}\n") from None
    literals = [p for p in mailbox_patterns(query) or [] if not any(c in p for c in "*%?")]

    def per_user(run: MailRun) -> None:
        assert run.user is not None
        plugin = _plugin(run)
        if plugin is None:
            run.fail("fts not enabled for INBOX", EX_CONFIG)
            return
        for name in literals:
            if not run.user.mailbox_exists(name):
                # doveadm lists a literal mailbox name even when it does not exist
                run.fail(f"{plugin.backend}: Couldn't get mailbox {name} GUID: Mailbox doesn't exist: {name}",
                         EX_TEMPFAIL)
                run.fail("fts lookup failed", EX_TEMPFAIL)
        for listed in list_mailboxes(run.user):
            if listed.selectable:
                _lookup_box(run, plugin, listed, query)

    return run_mail_command(ctx, per_user)


# --- tokenize ------------------------------------------------------------------------------


def cmd_tokenize(ctx: CommandContext) -> int:
    _require_plugin(ctx)
    words: list[str] = ctx.values.get("text") or []
    if not words:
        raise usage(TOKENIZE)
    text = " ".join(words)
    language = ctx.values.get("language")

    def setup(run: MailRun) -> None:
        run.printer.header("token", hide_title=True)

    def per_user(run: MailRun) -> None:
        plugin = _plugin(run)
        if plugin is None:
            run.fail("fts not enabled for INBOX", EX_CONFIG)
            return
        if language is not None:
            enabled = plugin.setting("fts_languages").split()
            if language not in KNOWN_LANGUAGES:
                run.fail(f"Unknown language: {language}", EX_USAGE)
                return
            if enabled and language not in enabled:
                run.fail(f"Language not enabled for user: {language}", EX_USAGE)
                return
        for token in tokenize(text, plugin.options):
            run.begin_row()
            run.printer.value(token)

    return run_mail_command(ctx, per_user, setup=setup)


# --- optimize / rescan ---------------------------------------------------------------------


def _namespace(run: MailRun, prefix: str | None) -> Namespace | None:
    assert run.user is not None
    spaces = run.user.namespaces
    if prefix is None:
        return spaces.inbox_namespace
    found = next((ns for ns in spaces.namespaces if ns.prefix == prefix), None)
    if found is None:
        run.fail(f"Namespace prefix not found: {prefix}", EX_NOTFOUND)
    return found


def _each_mailbox(action: str) -> Any:
    def run_action(ctx: CommandContext) -> int:
        _require_plugin(ctx)
        prefix = ctx.values.get("namespace")

        def per_user(run: MailRun) -> None:
            assert run.user is not None
            ns = _namespace(run, prefix)
            if ns is None:
                return
            if _plugin(run) is None:
                run.fail(f"fts not enabled for user's namespace {prefix if prefix is not None else 'INBOX'}",
                         EX_NOTFOUND)
                return
            for listed in list_mailboxes(run.user):
                if listed.namespace is ns and listed.selectable:
                    box = run.user.mailbox_for(ns, listed.storage)
                    getattr(box, action)()

        return run_mail_command(ctx, per_user)

    return run_action


_NAMESPACE = Param("namespace", ParamKind.STR, positional=True)
LOOKUP = Command(("fts", "lookup"), cmd_lookup, mail=True, partial_group=True, needs_settings=True, help="Look up words in the FTS index",
                 params=(Param("query", ParamKind.ARRAY, positional=True),), usage_text="<search query>")
TOKENIZE = Command(("fts", "tokenize"), cmd_tokenize, mail=True, partial_group=True, needs_settings=True,
                   help="Show how text is split into indexed words",
                   params=(Param("language", ParamKind.STR, short="l"), Param("text", ParamKind.ARRAY, positional=True)),
                   usage_text="<text>")
OPTIMIZE = Command(("fts", "optimize"), _each_mailbox("fts_optimize"), mail=True, partial_group=True, needs_settings=True,
                   help="Optimize the FTS index", params=(_NAMESPACE,), usage_text="[<namespace>]")
RESCAN = Command(("fts", "rescan"), _each_mailbox("fts_rescan"), mail=True, partial_group=True, needs_settings=True,
                 help="Throw the FTS index away (rebuilt on next use)", params=(_NAMESPACE,), usage_text="[<namespace>]")

# Real doveadm lists "fts ..." in its overview only when mail_plugins loads fts (and has "fts
# expand", which crashes in 2.3.19 with fts_lucene): our overview leaves the group out.
COMMANDS = (LOOKUP, TOKENIZE, OPTIMIZE, RESCAN)
