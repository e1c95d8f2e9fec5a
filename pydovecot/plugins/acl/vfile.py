"""The ``vfile`` ACL backend: ``dovecot-acl`` files per mailbox plus an optional global ACL.

    acl = vfile                       # local files only
    acl = vfile:/etc/dovecot/dovecot-acl   # + global file: "<mailbox pattern> <identifier> <rights>"
    acl = vfile:/etc/dovecot/acls     # + global directory: one file per mailbox name

A mailbox's local file is ``dovecot-acl`` in its directory (its CONTROL= mirror when set),
one ``identifier rights`` rule a line, ``#`` comments. How the pieces combine was checked
against real Dovecot 2.3.19: a global rule replaces the local rule of the same identifier;
when no global rule applies to the mailbox, the owner has all rights unless a local rule names
``owner`` (a local file with only ``user=other ...`` still leaves the owner every right).
"""

from __future__ import annotations

import fnmatch
import os
from collections.abc import Iterable
from dataclasses import dataclass

from .rights import ALL_RIGHTS, AclParseError, AclRule, Identifier, IdType, parse_rule, rights_string

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


def parse_local(text: str, *, is_global: bool = False) -> list[AclRule]:
    rules = []
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        identifier, _, rights = line.partition(" ")
        rules.append(parse_rule(identifier, rights.strip(), is_global=is_global))
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
    names_owner = any(rule.identifier.type is IdType.OWNER for rule in rules)
    if owner_default and not global_ and not names_owner:
        rules.append(AclRule(Identifier(IdType.OWNER), ALL_RIGHTS))
    return rules


def write_local(mailbox_dir: str, rules: Iterable[AclRule]) -> None:
    """Replace the local file (atomically) with these rules; no rules removes it."""
    path = os.path.join(mailbox_dir, ACL_FILENAME)
    lines = [f"{'-' if r.negative else ''}{r.identifier} {rights_string(r.rights)}\n"
             for r in rules if not r.is_global and r.rights]
    if not lines:
        try:
            os.unlink(path)
        except FileNotFoundError:
            pass
        return
    tmp = f"{path}.lock"
    with open(tmp, "w", encoding="utf-8") as f:
        f.writelines(lines)
    os.replace(tmp, path)
