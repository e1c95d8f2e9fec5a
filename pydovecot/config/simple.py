"""``doveconf -S``: every setting as a flat ``path=value`` line, in Dovecot's export order.

Unlike the human output, this is neither sorted nor indented, and a section's own
defaults (a built-in service's executable, say) are compared with the section type's
defaults, so they show up even with -n, as they do in Dovecot.
"""

from __future__ import annotations

from collections.abc import Iterator

from pydovecot.config.dump import ALL, CHANGED, section_escape
from pydovecot.config.tree import Filter, Node, SectionList, SettingsTree, default_value
from pydovecot.config.values import format_value
from pydovecot.settings import export_order
from pydovecot.settings.model import Kind, Setting


def _ordered_settings(node: Node) -> list[Setting]:
    order = export_order.TOP_LEVEL if not node.stype.name else export_order.SECTIONS.get(node.stype.name, ())
    rank = {name: i for i, name in enumerate(order)}
    return sorted(node.stype.settings, key=lambda s: (rank.get(s.name, len(rank)), s.name))


def _ordered_items(lst: SectionList, holder: str, owner: Node) -> list[tuple[str, Node]]:
    """(escaped section name, node) pairs in Dovecot's order: built-ins first, as Dovecot
    lists them, then those the configuration added."""
    named = []
    for index, node in enumerate(lst.items):
        key = section_escape(node.name) if lst.unique and node.name else str(index)
        named.append((key, node))
    if holder == "service" and not owner.stype.name:
        builtin = export_order.BUILTIN_SERVICES
    else:
        builtin = export_order.BUILTIN_LISTENERS.get(f"{owner.name}/{holder}", ())
    rank = {name: i for i, name in enumerate(builtin)}
    return sorted(named, key=lambda item: rank.get(item[0], len(rank)))


def _export(node: Node, prefix: str, scope: str, out: list[str]) -> None:
    for setting in _ordered_settings(node):
        name = setting.name
        if setting.kind is Kind.LIST:
            lst = node.lists.get(name)
            if lst is None or not lst.items:
                continue
            items = _ordered_items(lst, name, node)
            out.append(f"{prefix}{name}={' '.join(key for key, _ in items)}\n")
            for key, child in items:
                _export(child, f"{prefix}{name}/{key}/", scope, out)
            continue
        if setting.kind is Kind.STRLIST:
            entries = node.strlists.get(name)
            if entries is None:
                continue
            out.append(f"{prefix}{name}=\n")
            out.extend(f"{prefix}{name}/{key}={value}\n" for key, value in entries.items())
            continue
        if setting.hidden and name not in node.values:
            continue
        value = node.get(name)
        if scope == ALL:
            show = True
        elif scope == CHANGED:
            show = value != default_value(setting)
        else:
            show = name in node.changed
        if show:
            out.append(f"{prefix}{name}={format_value(setting, value)}\n")


def dump_simple(tree: SettingsTree, scope: str, wanted: Filter, names: list[str]) -> Iterator[str]:
    lines: list[str] = []
    _export(tree.merged(wanted), "", scope, lines)
    for line in lines:
        key = line.split("=", 1)[0]
        if not names or any(key == n or key.startswith(n + "/") for n in names):
            yield line
