"""The ``vfile`` ACL backend: ``dovecot-acl`` files per mailbox plus an optional global ACL.

    acl = vfile                       # local files only
    acl = vfile:/etc/dovecot/dovecot-acl   # + global file: "<mailbox pattern> <identifier> <rights>"
    acl = vfile:/etc/dovecot/acls     # + global directory: one file per mailbox name

A mailbox's local file is ``dovecot-acl`` in its directory (its CONTROL= mirror when set),
one ``identifier rights`` rule a line, ``#`` comments. How the pieces combine was checked
against real Dovecot 2.3.19: a global rule replaces the local rule of the same identifier;
when no global rule applies to the mailbox, the owner has all rights unless a local rule gives
``owner`` positive rights (a local file with only ``user=other ...`` still leaves the owner every right).
"""

from __future__ import annotations

import fnmatch
import os
from collections.abc import Iterable
from dataclasses import dataclass

from .rights import ALL_RIGHTS, RIGHTS, AclParseError, AclRule, Identifier, IdType, parse_rule

ACL_FILENAME = "dovecot-acl"


@dataclass(frozen=True)
class VfileSettings:
    global_path: str | None

    @classmethod
    def parse(cls, value: str) -> VfileSettings:
        """``vfile[:path][:cache_secs=N]``; raises AclParseError for other drivers."""
        driver, _, rest = value.partition(":")
        if driver != "vfile":
            raise AclParseError(f"Unknown ACL backend: {driver}")
        path = next((part for part in rest.split(":") if part and "=" not in part), None)
        return cls(path)


def _words(line: str) -> list[str]:
    """Split a rule line; a "quoted" mailbox pattern may hold spaces."""
    line = line.strip()
    if line.startswith('"'):
        end = line.find('"', 1)
        if end > 0:
            return [line[1:end], *line[end + 1:].split(None, 1)]
    return line.split(None, 2)


def _split_rule(line: str) -> tuple[str, str]:
    """``identifier rights``; an identifier holding a space is written ``"user=a b"`` (with
    ``\\`` and ``\"`` escaped), as Dovecot writes it."""
    if line.startswith('"'):
        out, i = [], 1
        while i < len(line) and line[i] != '"':
            if line[i] == "\\" and i + 1 < len(line):
                i += 1
            out.append(line[i])
            i += 1
        return "".join(out), line[i + 1:].strip()
    identifier, _, rights = line.partition(" ")
    return identifier, rights.strip()


def parse_local(text: str, *, is_global: bool = False) -> list[AclRule]:
    rules = []
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        identifier, rights = _split_rule(line)
        rules.append(parse_rule(identifier, rights, is_global=is_global))
    return rules


def parse_global_file(text: str, vname: str) -> list[AclRule]:
    rules = []
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        words = _words(line)
        if len(words) < 2:
            raise AclParseError(f"Invalid global ACL line: {line}")
        pattern, identifier = words[0], words[1]
        rights = words[2] if len(words) > 2 else ""
        if fnmatch.fnmatchcase(vname, pattern.replace("[", "[[]")):
            rules.append(parse_rule(identifier, rights, is_global=True))
    return rules


def _read(path: str) -> str | None:
    try:
        with open(path, encoding="utf-8") as f:
            return f.read()
    except (FileNotFoundError, NotADirectoryError):
        return None


def global_rules(settings: VfileSettings, vname: str) -> list[AclRule]:
    path = settings.global_path
    if not path:
        return []
    if os.path.isdir(path):
        text = _read(os.path.join(path, vname))
        return parse_local(text, is_global=True) if text is not None else []
    text = _read(path)
    return parse_global_file(text, vname) if text is not None else []


def local_rules(mailbox_dir: str) -> list[AclRule]:
    text = _read(os.path.join(mailbox_dir, ACL_FILENAME))
    return parse_local(text) if text is not None else []


def combined(global_: list[AclRule], local: list[AclRule], *, owner_default: bool) -> list[AclRule]:
    overridden = {(rule.identifier, rule.negative) for rule in global_}
    rules = [*global_, *(rule for rule in local if (rule.identifier, rule.negative) not in overridden)]
    # Only positive owner rights replace the default: "-owner a" alone takes a away from all.
    names_owner = any(rule.identifier.type is IdType.OWNER and not rule.negative for rule in rules)
    if owner_default and not global_ and not names_owner:
        rules.append(AclRule(Identifier(IdType.OWNER), ALL_RIGHTS))
    return rules


# Dovecot keeps an object's rules sorted by identifier class in this order, then by name.
_CLASS_ORDER = {IdType.ANYONE: 0, IdType.AUTHENTICATED: 1, IdType.GROUP: 2, IdType.OWNER: 3, IdType.USER: 4,
                IdType.GROUP_OVERRIDE: 5}


def rule_order(rule: AclRule) -> tuple[bool, int, bytes, bool]:
    """Dovecot's order of an ACL object's rules: local before global, then identifier class,
    then name (byte order), the positive rights of an identifier before its negative ones."""
    ident = rule.identifier
    return (rule.is_global, _CLASS_ORDER[ident.type], ident.name.encode(), rule.negative)


def rights_by_name(rights: Iterable[str]) -> str:
    """The letters in the order Dovecot stores a rule's rights: sorted by right name
    (admin, create, delete, expunge, insert, lookup, post, read, write, write-deleted, write-seen)."""
    return "".join(sorted(set(rights), key=RIGHTS.__getitem__))


def rule_line(rule: AclRule) -> str:
    ident = f"{'-' if rule.negative else ''}{rule.identifier}"
    if " " in ident:
        ident = '"' + ident.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return f"{ident} {rights_by_name(rule.rights)}\n"


def write_local(mailbox_dir: str, rules: Iterable[AclRule]) -> None:
    """Replace the local file (atomically, through ``dovecot-acl.lock`` as Dovecot's dotlock)
    with these rules, in Dovecot's order and line format. No rules leaves an empty file, as
    Dovecot does after the last rule is removed."""
    path = os.path.join(mailbox_dir, ACL_FILENAME)
    lines = [rule_line(r) for r in sorted(rules, key=rule_order) if not r.is_global]
    tmp = f"{path}.lock"
    # The mailbox directory's permissions without x (0600 under a 0700 Maildir), as Dovecot's.
    mode = os.stat(mailbox_dir).st_mode & 0o666
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    os.fchmod(fd, mode)
    with open(fd, "w", encoding="utf-8") as f:
        f.writelines(lines)
        f.flush()
        os.fsync(f.fileno())  # Dovecot fsyncs ACL files before the rename, never to lose them
    os.replace(tmp, path)
