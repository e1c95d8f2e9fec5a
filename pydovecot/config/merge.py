"""Merging filter scopes into the settings one connection sees.

Dovecot starts from the least specific matching filter (the global one) and applies, in
order of increasing specificity, every value the other matching filters set explicitly.
"""

from __future__ import annotations

from collections.abc import Sequence

from pydovecot.config.tree import Node, Scope, SectionList


def apply_changes(dest: Node, src: Node) -> None:
    """Copies what ``src`` set explicitly onto ``dest`` (recursively for sections)."""
    for name in src.changed:
        dest.values[name] = src.values[name]
        dest.changed.add(name)
    for name, entries in src.strlists.items():
        dest.strlists.setdefault(name, {}).update(entries)
    for name, src_list in src.lists.items():
        dest_list = dest.lists.setdefault(name, SectionList(src_list.unique))
        for key, child in src_list.keys.items():
            if not _has_changes(child):
                continue
            target = dest_list.keys.get(key)
            if target is None or not dest_list.unique:
                target = Node(child.stype, child.name, child.defaults)
                dest_list.items.append(target)
                dest_list.keys[key if key not in dest_list.keys else f"{key}/{len(dest_list.items)}"] = target
            apply_changes(target, child)


def _has_changes(node: Node) -> bool:
    if node.changed or node.strlists:
        return True
    return any(_has_changes(child) for lst in node.lists.values() for child in lst.items)


def merge_scopes(scopes: Sequence[Scope]) -> Node:
    ordered = sorted(scopes, key=lambda s: s.filter.specificity())
    merged = ordered[0].root.copy()
    for scope in ordered[1:]:
        apply_changes(merged, scope.root)
    return merged
