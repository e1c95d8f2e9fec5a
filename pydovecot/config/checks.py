"""Whole-tree checks Dovecot runs once everything is read (its settings_parser_check).

Warnings are reported at once.  Errors are returned, not raised: doveconf still prints the
configuration, then reports each error and fails, exactly as Dovecot's delayed errors do.
"""

from __future__ import annotations

from collections.abc import Callable

from pydovecot.config.tree import Node, SettingsTree


def _list_items(node: Node, name: str) -> list[Node]:
    lst = node.lists.get(name)
    return lst.items if lst is not None else []


def check_tree(tree: SettingsTree, warn: Callable[[str], None]) -> list[str]:
    """Warnings go to ``warn``; errors are returned in the order Dovecot finds them."""
    errors: list[str] = []
    root = tree.global_scope.root
    global_ssl = root.values.get("ssl")
    if global_ssl == "no":
        for scope in tree.scopes[1:]:
            ssl = scope.root.values.get("ssl")
            if ssl is not None and ssl != "no":
                warn(f"SSL is disabled because global ssl=no, ignoring ssl={ssl} for subsection")
                break
    for kind in ("passdb", "userdb"):
        for db in _list_items(root, kind):
            if not db.get("driver"):
                errors.append(f"{kind} is missing driver")
                break
    return errors
