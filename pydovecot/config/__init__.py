"""The configuration engine: one grammar, one settings registry, one settings tree.

``load(path)`` reads a dovecot.conf tree (includes, filters, sections) and returns an
immutable ``SettingsTree``; every daemon, doveconf and doveadm get their settings from it.
Imports stay lazy so that a short-lived ``doveconf`` starts quickly.
"""

from __future__ import annotations

TYPE_CHECKING = False  # not typing's: this package is imported on every doveconf start

if TYPE_CHECKING:
    from pydovecot.config.tree import SettingsTree

DEFAULT_CONFIG_PATH = "/etc/dovecot/dovecot.conf"


def load(path: str = DEFAULT_CONFIG_PATH, *, expand_values: bool = False,
         warn=None, error=None, deps=None) -> SettingsTree:  # type: ignore[no-untyped-def]
    """Parse the tree rooted at ``path``.  Raises ``ConfigError`` on the first error.

    ``warn`` and ``error`` receive messages Dovecot logs without stopping (obsolete
    settings, ambiguous comments...).  ``deps``, a list, collects the files read (for
    caches of derived answers)."""
    from pydovecot.config.build import build

    return build(path, expand_values=expand_values, warn=warn, error=error, deps=deps)
