"""Password databases: one driver per module, all implementing ``interface.Passdb``.

``create_passdb(driver, args, ...)`` builds one from a ``passdb { driver = ... args = ... }``
section; ``pydovecot.auth.lookup`` runs the chain of them as Dovecot does.
"""

from __future__ import annotations

from .interface import Passdb, PassdbResult, create_passdb

__all__ = ["Passdb", "PassdbResult", "create_passdb"]
