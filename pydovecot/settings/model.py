"""The vocabulary every subsystem uses to declare its settings as data.

A subsystem module (``settings/mail.py``, ``settings/imap.py``...) declares a tuple of
``Setting`` objects and, where it owns sections, ``SectionType`` objects.  The registry in
``settings/__init__.py`` collects them; the config builder, ``doveconf`` and the daemons
all read that one registry, so a setting is declared in exactly one place.

Defaults are written as the text real ``doveconf -a`` prints for them ("1 hours",
"256 M", "0600", "$default_internal_user").  They go through the same value parser as
an admin's text, so a default can never be of another shape than a configured value.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum


class Kind(Enum):
    """Value types, one per Dovecot 2.3 ``enum setting_type``."""

    BOOL = "bool"  # yes / no
    UINT = "uint"  # unsigned decimal
    OCTAL = "octal"  # file modes: printed as 0%o ("0600", "00")
    SIZE = "size"  # "10M", "64k" -> bytes; printed "10 M"
    TIME = "time"  # "2 mins", "30s" -> seconds; a bare number is an error unless 0
    TIME_MSECS = "time_msecs"  # like TIME but milliseconds are allowed
    PORT = "port"  # 0..65535
    STR = "str"  # free text, no %-variables expanded by the setting parser
    STR_VARS = "str_vars"  # text with %-variables, expanded at use
    ENUM = "enum"  # one of ``values``; values[0] is the default
    LIST = "list"  # a repeatable section (service, namespace, passdb...): see ``section``
    STRLIST = "strlist"  # a free key = value section (plugin {}, dict {})


@dataclass(frozen=True, slots=True)
class Setting:
    name: str
    kind: Kind
    default: str
    doc: str
    values: tuple[str, ...] = ()  # ENUM: the allowed values, the first is the default
    section: str | None = None  # LIST / STRLIST: the SectionType name it holds
    modules: tuple[str, ...] = ()  # config modules that read it (doveconf -m): "master", "imap"...
    secret: bool = False  # printed as "# hidden, use -P to show it" unless -P
    # doveconf -a leaves it out unless the config sets it (the mail_cache_*/mail_index_*
    # tuning knobs, and the few strings that have no default at all)
    hidden: bool = False


@dataclass(frozen=True, slots=True)
class SectionType:
    """A kind of section: ``service``, ``inet_listener``, ``namespace``, ``passdb``...

    ``key`` names the setting whose value is the section's name (``service imap {`` sets
    ``name = imap``); ``None`` means the section takes no name (``plugin {``, ``dict {``).

    ``unique``: True (service, namespace, listeners, metric...) means an instance is
    identified by its key, printed in the header, and a repeated header continues the same
    instance.  False (passdb, userdb) means instances stay in config order and the key
    (``passdb foo {`` sets ``name = foo``) is printed as an ordinary setting.
    ``aliases`` maps extra accepted names to the setting they set (``mail`` -> ``location``).
    """

    name: str
    key: str | None
    settings: tuple[Setting, ...]
    doc: str
    modules: tuple[str, ...] = ()
    unique: bool = True
    aliases: tuple[tuple[str, str], ...] = ()

    def setting(self, name: str) -> Setting | None:
        for s in self.settings:
            if s.name == name:
                return s
        return None


@dataclass(frozen=True, slots=True)
class DefaultInstance:
    """A section instance that exists before any config is read (the built-in services
    and their listeners).  ``values`` holds only what differs from the SectionType's
    defaults, as doveconf text."""

    section: str
    name: str
    values: tuple[tuple[str, str], ...] = ()
    children: tuple[DefaultInstance, ...] = field(default=())
