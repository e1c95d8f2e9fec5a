"""The settings registry: every Dovecot 2.3.19 setting, collected from the subsystem modules.

Each subsystem module declares ``SETTINGS`` (its top-level settings) and, where it owns
sections, ``SECTION_TYPES``.  This module only gathers them; nothing is declared here but
the root and its two aliases.  Importing it does no I/O: it runs on every doveconf start.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from pydovecot.settings import (
    auth,
    director,
    doveadm,
    imap,
    imapc,
    lda,
    lmtp,
    log,
    login,
    mail,
    master,
    plugins,
    pop3,
    pop3c,
    replication,
    ssl,
    stats,
    submission,
)

# dict is imported under another name so it does not shadow the builtin here.
from pydovecot.settings import dict as dict_service
from pydovecot.settings.model import DefaultInstance, Kind, SectionType, Setting
from pydovecot.settings.services import DEFAULT_INSTANCES

_SUBSYSTEMS = (
    master,
    log,
    ssl,
    auth,
    login,
    mail,
    imapc,
    pop3c,
    imap,
    pop3,
    lmtp,
    lda,
    submission,
    doveadm,
    director,
    dict_service,
    replication,
    stats,
    plugins,
)

# Sorted by name, the order doveconf prints them in.
_TOP_LEVEL: tuple[Setting, ...] = tuple(
    sorted((s for m in _SUBSYSTEMS for s in m.SETTINGS), key=lambda s: s.name)
)

ROOT = SectionType(
    name="",
    key=None,
    settings=_TOP_LEVEL,
    doc="The top level of dovecot.conf.",
    # Old names still accepted; doveconf prints the setting they set.
    aliases=(("doveadm_proxy_port", "doveadm_port"), ("mail", "mail_location")),
)

SECTION_TYPES: Mapping[str, SectionType] = MappingProxyType(
    {t.name: t for m in _SUBSYSTEMS for t in getattr(m, "SECTION_TYPES", ())}
)

_BY_NAME: Mapping[str, Setting] = {s.name: s for s in _TOP_LEVEL}

# doveconf refuses these inside local/remote/local_name blocks ("Auth settings not
# supported inside local/remote blocks: NAME"); see auth.AUTH_PROCESS_KEYS.
AUTH_KEYS_REFUSED_IN_NET_FILTERS: frozenset[str] = auth.AUTH_PROCESS_KEYS


def setting(name: str) -> Setting | None:
    """The top-level setting called ``name`` (aliases not resolved), or None."""
    return _BY_NAME.get(name)


def section_type(name: str) -> SectionType | None:
    return SECTION_TYPES.get(name)


__all__ = [
    "AUTH_KEYS_REFUSED_IN_NET_FILTERS",
    "DEFAULT_INSTANCES",
    "ROOT",
    "SECTION_TYPES",
    "DefaultInstance",
    "Kind",
    "SectionType",
    "Setting",
    "section_type",
    "setting",
]
