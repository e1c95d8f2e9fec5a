"""``mail_location`` (and a namespace's ``location``) as Dovecot reads it.

The value is ``driver:root[:KEY=VALUE]...`` after %-expansion: ``maildir:~/Maildir:LAYOUT=fs``.
``::`` stands for a literal colon inside a path. ``~/`` at the start of a path means the
user's home. Keys Dovecot knows for every driver: ``INBOX``, ``INDEX``, ``INDEXPVT``,
``CONTROL``, ``VOLATILEDIR``, ``LAYOUT``, ``DIRNAME``, ``SUBSCRIPTIONS``, ``ALT``,
``ITERINDEX``, ``NO-NOSELECT``, ``FULLDIRNAME``, ``UTF-8`` and ``BROKENCHARS``; a key it does not
know is an error naming it ("Unknown setting: X").

An empty ``mail_location`` makes Dovecot look for a mailbox in the usual places; we look
for ``~/Maildir`` the same way and otherwise answer as Dovecot does without one.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from .maildir.layout import LayoutKind, MaildirLayout

KNOWN_DRIVERS = ("maildir",)
# Drivers Dovecot has that we do not serve yet: refused with a clear message, not misread.
OTHER_DRIVERS = ("mbox", "sdbox", "mdbox", "dbox", "imapc", "pop3c", "cydir", "raw", "shared", "fail")
_PATH_KEYS = ("INBOX", "INDEX", "INDEXPVT", "CONTROL", "VOLATILEDIR", "ALT", "ITERINDEX", "SUBSCRIPTIONS")
_VALUE_KEYS = (*_PATH_KEYS, "LAYOUT", "DIRNAME", "FULLDIRNAME", "BROKENCHARS")
_FLAG_KEYS = ("NO-NOSELECT", "UTF-8", "LITERALSLASH")


class MailLocationError(ValueError):
    """An unusable location; the text is what the admin reads in the log."""


@dataclass(frozen=True)
class MailLocation:
    driver: str
    root: str
    options: dict[str, str] = field(default_factory=dict)
    flags: frozenset[str] = frozenset()

    def option(self, key: str) -> str | None:
        return self.options.get(key)

    @property
    def control_dir(self) -> str:
        return self.options.get("CONTROL") or self.root

    @property
    def index_dir(self) -> str:
        """Where our own index lives: ``INDEX=`` (``MEMORY`` keeps it off disk), else the control dir."""
        return self.options.get("INDEX") or self.control_dir

    def maildir_layout(self) -> MaildirLayout:
        kind = LayoutKind.parse(self.options.get("LAYOUT", "maildir++"))
        return MaildirLayout(
            self.root,
            kind,
            dirname=self.options.get("DIRNAME") or self.options.get("FULLDIRNAME") or None,
            inbox_path=self.options.get("INBOX") or None,
            utf8="UTF-8" in self.flags,
        )


def _split(value: str) -> list[str]:
    """Split on ``:``; ``::`` is a literal colon."""
    parts: list[str] = []
    current: list[str] = []
    i = 0
    while i < len(value):
        ch = value[i]
        if ch == ":":
            if value.startswith("::", i):
                current.append(":")
                i += 2
                continue
            parts.append("".join(current))
            current = []
        else:
            current.append(ch)
        i += 1
    parts.append("".join(current))
    return parts


def home_path(path: str, home: str | None) -> str:
    """``~`` and ``~/x`` relative to the user's home (Dovecot refuses them without one)."""
    if path != "~" and not path.startswith("~/"):
        return path
    if not home:
        raise MailLocationError(f"Home directory not set for user. Can't expand ~/ for {path}")
    return home + path[1:]


def parse_mail_location(value: str, home: str | None = None) -> MailLocation:
    """Parse an already %-expanded location."""
    if not value:
        return autodetect(home)
    parts = _split(value)
    driver, rest = (parts[0], parts[1:]) if len(parts) > 1 else ("", parts)
    driver = driver.lower()
    if driver in OTHER_DRIVERS:
        raise MailLocationError(f"mail_location: the {driver} driver is not supported yet")
    if driver not in KNOWN_DRIVERS:
        raise MailLocationError(f"Unknown mail storage driver {driver or value}")
    root = home_path(rest[0], home) if rest else ""
    options: dict[str, str] = {}
    flags: set[str] = set()
    for item in rest[1:]:
        key, eq, val = item.partition("=")
        upper = key.upper()
        if not eq and upper in _FLAG_KEYS:
            flags.add(upper)
        elif eq and upper in _VALUE_KEYS:
            options[upper] = home_path(val, home) if upper in _PATH_KEYS else val
        else:
            raise MailLocationError(f"Unknown setting: {key}")
    if not root:
        raise MailLocationError("Root mail directory not given")
    return MailLocation(driver, root, options, frozenset(flags))


def autodetect(home: str | None) -> MailLocation:
    """What an empty mail_location finds: ``~/Maildir`` if it exists."""
    if home:
        candidate = os.path.join(home, "Maildir")
        if os.path.isdir(os.path.join(candidate, "cur")):
            return MailLocation("maildir", candidate)
    raise MailLocationError(
        "Mail storage autodetection failed with home=" + (home or "(not set)")
    )
