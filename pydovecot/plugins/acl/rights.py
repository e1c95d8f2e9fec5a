"""ACL rights and identifiers as Dovecot's vfile backend reads them (RFC 4314 letters).

A rule is ``identifier rights``: ``user=alice lrw``, ``group=staff lr``, ``owner lrwstipekxa``,
``authenticated l``, ``anyone l``, ``group-override=admins lr``; a ``-`` before the identifier
makes the rights negative (taken away). Which rules count for a user was checked against real
Dovecot 2.3.19: the most specific identifier class that has any rule matching the user decides
alone (group-override, then user=, owner, group=, authenticated, anyone); inside that class
the positive rights are joined and the negative ones removed. So ``anyone lrw`` plus
``user=u lr`` gives u ``lr``, and ``owner lrs`` with ``-owner s`` gives ``lr``.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass

# Letter -> Dovecot's right name, in the order Dovecot writes them.
RIGHTS = {
    "l": "lookup", "r": "read", "w": "write", "s": "write-seen", "t": "write-deleted", "i": "insert",
    "p": "post", "e": "expunge", "k": "create", "x": "delete", "a": "admin",
}
ALL_RIGHTS = frozenset(RIGHTS)


class AclParseError(ValueError):
    pass


class IdType(enum.IntEnum):
    """Identifier classes, most specific first (lower value wins)."""

    GROUP_OVERRIDE = 0
    USER = 1
    OWNER = 2
    GROUP = 3
    AUTHENTICATED = 4
    ANYONE = 5


@dataclass(frozen=True)
class Identifier:
    type: IdType
    name: str = ""

    @classmethod
    def parse(cls, text: str) -> Identifier:
        for prefix, id_type in (("user=", IdType.USER), ("group=", IdType.GROUP),
                                ("group-override=", IdType.GROUP_OVERRIDE)):
            if text.startswith(prefix):  # an empty name is read (and written) as Dovecot does
                return cls(id_type, text[len(prefix):])
        simple = {"owner": IdType.OWNER, "authenticated": IdType.AUTHENTICATED, "anyone": IdType.ANYONE,
                  "anonymous": IdType.ANYONE}
        if text in simple:
            return cls(simple[text])
        raise AclParseError(f"Unknown ID '{text}'")

    def __str__(self) -> str:
        names = {IdType.USER: "user=", IdType.GROUP: "group=", IdType.GROUP_OVERRIDE: "group-override="}
        if self.type in names:
            return names[self.type] + self.name
        return self.type.name.lower()

    def matches(self, who: Requester) -> bool:
        if self.type is IdType.ANYONE:
            return True
        if self.type is IdType.AUTHENTICATED:
            return who.authenticated
        if self.type is IdType.OWNER:
            return who.owner
        if self.type is IdType.USER:
            return self.name == who.username
        return self.name in who.groups


@dataclass(frozen=True)
class Requester:
    """Who asks: the user, their acl_groups, whether they own the mailbox."""

    username: str
    groups: frozenset[str] = frozenset()
    owner: bool = True
    authenticated: bool = True


@dataclass(frozen=True)
class AclRule:
    identifier: Identifier
    rights: frozenset[str]
    negative: bool = False
    is_global: bool = False

    def __str__(self) -> str:
        return f"{'-' if self.negative else ''}{self.identifier} {rights_string(self.rights)}"


def parse_rights(text: str) -> frozenset[str]:
    """``lrw``, optionally followed by ``:name1 name2`` (Dovecot's right names, as in
    ``lr:write-seen``); a name Dovecot does not know is a custom right that grants nothing
    here (real Dovecot reads ``:lookup :read`` as lookup and a custom right ":read")."""
    out: set[str] = set()
    by_name = {name: letter for letter, name in RIGHTS.items()}
    letters, _, names = text.strip().partition(":")
    for letter in letters.strip():
        if letter not in RIGHTS:
            raise AclParseError(f"Unknown ACL right: {letter}")
        out.add(letter)
    for name in names.replace(",", " ").split():
        if name in by_name:
            out.add(by_name[name])
    return frozenset(out)


def parse_rule(identifier: str, rights: str, *, is_global: bool = False) -> AclRule:
    negative = identifier.startswith("-")
    return AclRule(Identifier.parse(identifier.lstrip("-")), parse_rights(rights), negative, is_global)


def rights_string(rights: Iterable[str]) -> str:
    present = set(rights)
    return "".join(letter for letter in RIGHTS if letter in present)


def effective_rights(rules: Iterable[AclRule], who: Requester) -> frozenset[str]:
    matching = [rule for rule in rules if rule.identifier.matches(who)]
    if not matching:
        return frozenset()
    best = min(rule.identifier.type for rule in matching)
    chosen = [rule for rule in matching if rule.identifier.type == best]
    positive = frozenset().union(*(r.rights for r in chosen if not r.negative))
    negative = frozenset().union(*(r.rights for r in chosen if r.negative))
    return positive - negative
