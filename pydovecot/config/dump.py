"""Printing a settings tree the way doveconf 2.3 prints it.

Three scopes, as in Dovecot: ``ALL`` (doveconf -a: every value), ``CHANGED`` (doveconf -n:
values that differ from their defaults) and ``SET`` (values written explicitly; used for
the filter blocks).  Inside unique sections (services, namespaces, listeners, mailboxes)
a value counts as changed when it was written explicitly, because the section's own
default may differ from the section type's.

Keys are ordered as doveconf orders them: by the bytes of their full path
(``service/imap-login/inet_listener/imap/port``), with ``=`` below every other byte and
bytes above 0x7f below ASCII (doveconf compares signed chars).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from pydovecot.config.tree import Filter, Node, Scope, SettingsTree
from pydovecot.config.values import format_value
from pydovecot.settings.model import Kind, Setting

ALL, SET, CHANGED = "all", "set", "changed"
HIDDEN = "# hidden, use -P to show it"
SECRET_WORDS = ("key", "secret", "pass")
# Sections whose location and prefix doveconf -n always prints (namespaces).
ALWAYS_SHOWN = {"namespace": ("location", "prefix")}

_ESCAPES = {"\\": "\\\\", "/": "\\s", "=": "\\e", " ": "\\_", ",": "\\c"}


_UNESCAPES = {v[1]: k for k, v in _ESCAPES.items()}


def section_escape(name: str) -> str:
    return "".join(_ESCAPES.get(c, c) for c in name)


def section_unescape(name: str) -> str:
    out, i = [], 0
    while i < len(name):
        if name[i] == "\\" and i + 1 < len(name):
            out.append(_UNESCAPES.get(name[i + 1], name[i + 1]))
            i += 2
        else:
            out.append(name[i])
            i += 1
    return "".join(out)


def _signed_bytes(text: str) -> tuple[int, ...]:
    return tuple(b - 256 if b > 127 else b for b in text.encode("utf-8", "surrogateescape"))


def sort_key_value(name: str) -> tuple[int, ...]:
    return _signed_bytes(name) + (-1000,)


def sort_key_block(prefix: str) -> tuple[int, ...]:
    return _signed_bytes(prefix)


@dataclass
class Line:
    """One printed setting: ``key`` relative to its section, with its value text."""

    key: str
    value: str


@dataclass
class Block:
    header: str  # "service imap-login", "passdb", "mailbox \"Sent Messages\""
    entries: list[Line | Block]


def _section_name(unique: bool, node: Node, index: int) -> str:
    if unique and node.name:
        return section_escape(node.name)
    return str(index)


def _wanted_by(setting: Setting, modules: list[str] | None) -> bool:
    return modules is None or not setting.modules or any(m in setting.modules for m in modules)


def node_entries(node: Node, scope: str, *, in_unique: bool = False,
                 modules: list[str] | None = None) -> list[Line | Block]:
    """The entries of one node to print, already in doveconf's order."""
    keyed: list[tuple[tuple[int, ...], Line | Block]] = []
    stype = node.stype
    shown_anyway = ALWAYS_SHOWN.get(stype.name, ()) if in_unique else ()
    for setting in stype.settings:
        name = setting.name
        if not _wanted_by(setting, modules):
            continue
        if setting.kind is Kind.LIST:
            lst = node.lists.get(name)
            if lst is None:
                continue
            for index, child in enumerate(lst.items):
                sub = node_entries(child, scope, in_unique=lst.unique)
                if not sub:
                    continue
                header = name
                if lst.unique and child.name:
                    header += " " + (child.name if " " not in child.name else f'"{_escape(child.name)}"')
                prefix = f"{name}/{_section_name(lst.unique, child, index)}/"
                keyed.append((sort_key_block(prefix), Block(header, sub)))
            continue
        if setting.kind is Kind.STRLIST:
            entries = node.strlists.get(name)
            if not entries:
                continue
            lines = [Line(k, v) for k, v in sorted(entries.items(), key=lambda kv: sort_key_value(kv[0]))]
            keyed.append((sort_key_block(name + "/"), Block(name, list(lines))))
            continue
        if in_unique and name == stype.key:
            continue  # the section's name is its header
        changed = name in node.changed
        if setting.hidden and name not in node.values:
            continue  # no default at all: doveconf prints it only once it is set
        value = node.get(name)
        if scope == ALL:
            show = True
        elif scope == SET:
            show = changed
        elif in_unique:
            show = changed or name in shown_anyway
        else:
            show = value != node.base_value(setting)
        if not show:
            continue
        keyed.append((sort_key_value(name), Line(name, format_value(setting, value))))
    keyed.sort(key=lambda item: item[0])
    return [entry for _, entry in keyed]


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("'", "\\'")


def _needs_quotes(value: str) -> bool:
    return bool(value) and ("#" in value or value[0] in " \t" or value[-1] in " \t")


def _hide_secrets(key: str, value: str) -> str | None:
    """The value with secrets masked (doveconf 2.3.19's rules), or None when nothing is.

    A whole value is hidden when its key ends in ``_password``, ``_key`` or ``_nonce`` or
    starts with ``ssl_dh``; inside other values, what follows ``WORD=`` is hidden where
    WORD starts, at a word boundary, with ``key``, ``secret`` or ``pass`` (``password=``,
    ``api_key=``; not ``nopassword=``)."""
    if value and (key.endswith(("_password", "_key", "_nonce")) or key.startswith("ssl_dh")):
        return HIDDEN
    quote = _needs_quotes(value)
    out: list[str] = []
    found = False
    pos = start = 0
    while True:
        hits = [i for i in (value.find(word, pos) for word in SECRET_WORDS) if i >= 0]
        if not hits:
            break
        index = min(hits)
        found = True
        if index > 0 and value[index - 1].isalnum():
            pos = index + 1  # inside a longer word ("nopassword"): not a secret
            continue
        end = index
        while end < len(value) and value[end] != "=" and not value[end].isspace():
            end += 1
        while end < len(value) and value[end].isspace():
            end += 1
        chunk = value[start:end]
        out.append(_escape(chunk) if quote else chunk)
        if end < len(value) and value[end] == "=":
            out.append("=#hidden_use-P_to_show#")
            end += 1
            while end < len(value) and not value[end].isspace() and value[end] not in ";:":
                end += 1
        start = pos = end
    if not found:
        return None
    rest = value[start:]
    out.append(_escape(rest) if quote else rest)
    return "".join(out)


def render(entries: list[Line | Block], indent: int, hide_passwords: bool) -> Iterator[str]:
    pad = "  " * indent
    for entry in entries:
        if isinstance(entry, Block):
            yield f"{pad}{entry.header} {{\n"
            yield from render(entry.entries, indent + 1, hide_passwords)
            yield f"{pad}}}\n"
            continue
        hidden = _hide_secrets(entry.key, entry.value) if hide_passwords else None
        if hidden is not None:
            text = hidden
        elif _needs_quotes(entry.value):
            text = f'"{_escape(entry.value)}"'
        else:
            text = entry.value
        yield f"{pad}{entry.key} = {text}\n"


def filter_headers(flt: Filter) -> list[str]:
    headers = []
    if flt.local is not None:
        headers.append(f"local {flt.local}")
    if flt.local_name is not None:
        headers.append(f"local_name {flt.local_name}")
    if flt.remote is not None:
        headers.append(f"remote {flt.remote}")
    if flt.service is not None:
        headers.append(f"protocol {flt.service}")
    return headers


def subset(tree: SettingsTree, wanted: Filter) -> list[Scope]:
    """The filter scopes doveconf prints as blocks after the global settings."""
    chosen = []
    for scope in tree.scopes:
        mask = scope.filter
        if wanted.service is not None and not Filter(service=mask.service).matches(Filter(service=wanted.service)):
            continue
        relaxed = Filter(
            None,
            mask.local if wanted.local is not None else None,
            mask.remote if wanted.remote is not None else None,
            mask.local_name if wanted.local_name is not None else None,
        )
        if relaxed.matches_rest(wanted):
            chosen.append(scope)
    return sorted(chosen, key=lambda s: s.filter.specificity())


def dump_human(tree: SettingsTree, scope: str, wanted: Filter, *, hide_passwords: bool,
               name_filter: str | None = None, modules: list[str] | None = None) -> Iterator[str]:
    """doveconf's human-readable output: global settings, then the filter blocks."""
    merged = tree.merged(wanted)
    entries = node_entries(merged, scope, modules=modules)
    if name_filter is not None:
        entries = _select(entries, name_filter.split("/"))
    yield from render(entries, 0, hide_passwords)
    if name_filter is not None:
        return
    for flt_scope in subset(tree, wanted):
        if flt_scope.filter.is_global:
            continue
        inner = node_entries(flt_scope.root, SET, modules=modules)
        if not inner:
            continue
        headers = filter_headers(flt_scope.filter)
        block: Line | Block = Block(headers[-1], inner)
        for header in reversed(headers[:-1]):
            block = Block(header, [block])
        yield from render([block], 0, hide_passwords)


def _select(entries: list[Line | Block], path: list[str]) -> list[Line | Block]:
    """Entries under a ``doveconf NAME`` path such as ``service`` or ``namespace/inbox``."""
    head, rest = path[0], path[1:]
    chosen: list[Line | Block] = []
    for entry in entries:
        if isinstance(entry, Line):
            if entry.key == head and not rest:
                chosen.append(entry)
            continue
        words = entry.header.split(" ", 1)
        if words[0] != head:
            continue
        if rest:
            name = words[1].strip('"') if len(words) > 1 else ""
            if name != rest[0]:
                continue
            if len(rest) > 1:
                inner = _select(entry.entries, rest[1:])
                if inner:
                    chosen.append(Block(entry.header, inner))
                continue
        chosen.append(entry)
    return chosen


def find_value(tree: SettingsTree, wanted: Filter, name: str, scope: str = ALL) -> str | None:
    """The printed value of a top-level setting for ``doveconf NAME``; None when it is a
    section, unknown, or not shown in this scope."""
    node = tree.merged(wanted)
    setting = node.stype.setting(name)
    if setting is None or setting.kind in (Kind.LIST, Kind.STRLIST):
        return None
    value = node.get(name)
    if scope == CHANGED and value == node.base_value(setting):
        return None
    if scope == SET and name not in node.changed:
        return None
    return format_value(setting, value)


def setting_exists(name: str) -> bool:
    import pydovecot.settings as registry

    setting = registry.ROOT.setting(name.split("/", 1)[0])
    return setting is not None and setting.kind in (Kind.LIST, Kind.STRLIST)
