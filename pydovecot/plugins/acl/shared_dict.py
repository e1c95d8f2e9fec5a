"""``acl_shared_dict``: which users share mailboxes with whom, so LIST can find them.

Dovecot keeps one key per (who may look up, owner) pair, value ``1``, under the dict's shared
space (checked against 2.3.19 with ``acl_shared_dict = file:...``)::

    shared/shared-boxes/user/alice@x/bob@x      bob gave alice@x the l right somewhere
    shared/shared-boxes/group/staff/bob@x       ... group=staff (group-override= too)
    shared/shared-boxes/anyone/bob@x            ... anyone or authenticated

After an owner's ACL changes, every positive ``l`` right given to someone else in the owner's
mailboxes (not to ``owner``, not ``user=<the owner>``) is collected and the owner's keys are
made exactly that set: new ones set, vanished ones unset, others' keys untouched. A user's
LIST reads the keys for ``anyone``, ``user/<me>`` and ``group/<each acl_group>``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from pydovecot.dict import DictError, resolve_uri
from pydovecot.dict.file import FileDict

from .rights import AclRule, IdType

PREFIX = "shared/shared-boxes/"


def rule_id(rule: AclRule) -> str | None:
    """The dict identifier of a rule that lets a non-owner look a mailbox up, else None."""
    if rule.negative or "l" not in rule.rights:
        return None
    ident = rule.identifier
    if ident.type in (IdType.ANYONE, IdType.AUTHENTICATED):
        return "anyone"  # Dovecot does not tell these apart here
    if ident.type is IdType.USER:
        return f"user/{ident.name}"
    if ident.type in (IdType.GROUP, IdType.GROUP_OVERRIDE):
        return f"group/{ident.name}"
    return None  # owner


def lookup_ids(owner: str, rules: Iterable[AclRule]) -> set[str]:
    """The identifiers the owner's rules announce (``user=<owner>`` ones are pointless)."""
    ids = set()
    for rule in rules:
        ident = rule_id(rule)
        if ident is not None and ident != f"user/{owner}":
            ids.add(ident)
    return ids


class SharedDict:
    """The dict behind ``acl_shared_dict`` (the file driver; ``proxy:`` names one in ``dict { }``)."""

    def __init__(self, uri: str, named: Mapping[str, str] | None = None) -> None:
        uri = resolve_uri(uri, named or {})
        driver, _, path = uri.partition(":")
        if driver != "file":
            raise DictError(f"acl_shared_dict: dict driver {driver!r} is not supported by pydovecot (use file)")
        self.store = FileDict(path)

    def owners_visible_to(self, username: str, groups: Iterable[str] = ()) -> list[str]:
        """The owners whose mailboxes ``username`` (in ``groups``) may see, in dict order."""
        owners: list[str] = []
        for ident in ("anyone", f"user/{username}", *(f"group/{g}" for g in groups)):
            prefix = f"{PREFIX}{ident}/"
            for key, _value in self.store.iterate(prefix):
                owner = key[len(prefix):]
                if owner and owner not in owners:
                    owners.append(owner)
        return owners

    def update(self, owner: str, ids: Iterable[str], *, remove: bool = True) -> None:
        """Make the owner's keys exactly ``ids`` (``<id>/<owner>`` = ``1``); without
        ``remove``, only add the missing ones."""
        wanted = set(ids)
        suffix = f"/{owner}"
        current = {key[len(PREFIX):-len(suffix)] for key, _ in self.store.iterate(PREFIX) if key.endswith(suffix)}
        changes: list[tuple[str, str | None]] = [(f"{PREFIX}{i}{suffix}", "1") for i in sorted(wanted - current)]
        if remove:
            changes += [(f"{PREFIX}{i}{suffix}", None) for i in sorted(current - wanted)]
        if changes:
            self.store.commit(changes)
