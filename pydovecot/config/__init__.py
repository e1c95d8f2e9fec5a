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


def load_for_doveadm(path: str, overrides: list[tuple[str, str]]) -> SettingsTree:
    """The tree doveadm works with: ``load(path)`` with its ``-o key=value`` overrides
    applied on top of the global settings (``-o mail_location=...``,
    ``-o plugin/quota=...``).  An invalid override raises ConfigError."""
    from pydovecot.config.build import set_path
    from pydovecot.config.errors import ConfigError
    from pydovecot.config.values import ValueError_

    tree = load(path)
    for key, value in overrides:
        try:
            set_path(tree.global_scope.root, key, value)
        except ValueError_ as e:
            raise ConfigError(f"Invalid -o parameter {key}={value}: {e}") from None
    return tree
