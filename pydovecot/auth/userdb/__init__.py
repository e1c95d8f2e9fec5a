"""User databases: one driver per module, all implementing ``interface.Userdb``."""

from __future__ import annotations

from .interface import Userdb, UserdbResult, create_userdb

__all__ = ["Userdb", "UserdbResult", "create_userdb"]
