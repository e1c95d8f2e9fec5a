"""Merging filter scopes into the settings one connection sees.

Like Dovecot, the most specific matching filter is the starting point and the others are
applied onto it from the more to the less specific; a value already set by a more
specific filter wins.  Section instances that only a less specific filter created are
added with their values but not marked as set, which is why ``doveconf -f ... -n`` shows
fewer of them than plain ``-n`` does (Dovecot's behaviour, kept for byte parity).
"""

from __future__ import annotations

from collections.abc import Sequence

from pydovecot.config.tree import Filter, Node, Scope, SectionList


class ConflictError(Exception):
    """Two filters that both match set one setting differently, and neither contains the
    other: Dovecot refuses to guess which one wins."""


def apply_changes(dest: Node, src: Node, *, mark: bool = True, check_conflicts: bool = False) -> None:
    """Copies what ``src`` set explicitly onto ``dest`` where ``dest`` has not set it.
    Raises KeyError(name) on a conflicting value when ``check_conflicts``."""
    for name in src.changed:
        if name in dest.changed:
            if check_conflicts and dest.values[name] != src.values[name]:
                raise KeyError(name)
            continue
        dest.values[name] = src.values[name]
        if mark:
            dest.changed.add(name)
    for name, entries in src.strlists.items():
        target = dest.strlists.setdefault(name, {})
        for key, value in entries.items():
            target.setdefault(key, value)
    for name, src_list in src.lists.items():
        dest_list = dest.lists.setdefault(name, SectionList(src_list.unique))
        for key, child in src_list.keys.items():
            if not _has_changes(child):
                continue
            target = dest_list.keys.get(key) if dest_list.unique else None
            if target is None:
                target = Node(child.stype, child.name, child.defaults)
                dest_list.items.append(target)
                dest_list.keys[key if key not in dest_list.keys else f"{key}/{len(dest_list.items)}"] = target
                apply_changes(target, child, mark=False)
            else:
                apply_changes(target, child, mark=mark)


def _has_changes(node: Node) -> bool:
    if node.changed or node.strlists:
        return True
    return any(_has_changes(child) for lst in node.lists.values() for child in lst.items)


def _is_superset(sup: Filter, flt: Filter) -> bool:
    """Whether ``sup`` is at most as specific as ``flt`` in every respect."""
    if (sup.local.bits if sup.local else 0) > (flt.local.bits if flt.local else 0):
        return False
    if (sup.remote.bits if sup.remote else 0) > (flt.remote.bits if flt.remote else 0):
        return False
    if sup.local_name is not None and flt.local_name is None:
        return False
    return not (sup.service is not None and flt.service is None)


def merge_scopes(scopes: Sequence[Scope]) -> Node:
    ordered = sorted(scopes, key=lambda s: s.filter.specificity(), reverse=True)
    merged = ordered[0].root.copy()
    for previous, scope in zip(ordered, ordered[1:], strict=False):
        check = not _is_superset(scope.filter, previous.filter)
        try:
            apply_changes(merged, scope.root, check_conflicts=check)
        except KeyError as e:
            raise ConflictError(
                f"Conflict in setting {e.args[0]} found from filter at {scope.file_and_line}"
            ) from None
    return merged
