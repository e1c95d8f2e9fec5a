"""Whole-tree checks Dovecot runs once everything is read (its settings_parser_check).

Warnings are reported at once.  Errors are returned, not raised: doveconf still prints the
configuration, then reports the error and fails, exactly as Dovecot's delayed errors do.
The messages are Dovecot's own.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from pydovecot.config.tree import Node, SettingsTree

SPECIAL_USE_FLAGS = frozenset(
    ("\\All", "\\Archive", "\\Drafts", "\\Flagged", "\\Important", "\\Junk", "\\Sent", "\\Trash")
)


def _items(node: Node, name: str) -> list[Node]:
    lst = node.lists.get(name)
    return lst.items if lst is not None else []


def _master_errors(root: Node) -> Iterator[str]:
    services = _items(root, "service")
    for index, service in enumerate(services):
        if not service.get("name"):
            yield f"Service #{index} is missing name"
            return
    known = {str(s.get("protocol")) for s in services if s.get("protocol")}
    for protocol in str(root.get("protocols")).split():
        if protocol not in known:
            yield f"protocols: Unknown protocol: {protocol}"
            return
    for kind in ("uid", "gid"):
        first, last = root.get(f"first_valid_{kind}"), root.get(f"last_valid_{kind}")
        if last and first > last:  # type: ignore[operator]
            yield f"first_valid_{kind} can't be larger than last_valid_{kind}"
            return


def _mail_errors(root: Node) -> Iterator[str]:
    namespaces = _items(root, "namespace")
    names = {ns.name for ns in namespaces}
    for ns in namespaces:
        prefix = ns.get("prefix")
        if len(str(ns.get("separator"))) > 1:
            yield f"Namespace '{prefix}': Hierarchy separator must be only one character long"
            return
        alias = ns.get("alias_for")
        if alias and alias not in names:
            yield f"Namespace '{prefix}': alias_for points to unknown namespace: {alias}"
            return
        for mailbox in _items(ns, "mailbox"):
            for flag in str(mailbox.get("special_use")).split():
                if flag not in SPECIAL_USE_FLAGS:
                    yield f"mailbox {mailbox.name}: unknown special_use: {flag}"
                    return


def _auth_errors(root: Node) -> Iterator[str]:
    for kind in ("passdb", "userdb"):
        for db in _items(root, kind):
            if not db.get("driver"):
                yield f"{kind} is missing driver"
                return


def check_tree(tree: SettingsTree, warn: Callable[[str], None]) -> list[str]:
    """Warnings go to ``warn``; the first error Dovecot would stop on is returned."""
    root = tree.global_scope.root
    if root.values.get("ssl") == "no":
        for scope in tree.scopes[1:]:
            ssl = scope.root.values.get("ssl")
            if ssl is not None and ssl != "no":
                warn(f"SSL is disabled because global ssl=no, ignoring ssl={ssl} for subsection")
                break
    for check in (_master_errors, _auth_errors, _mail_errors):
        for error in check(root):
            return [error]
    return []
