"""The quota plugin (``mail_plugins = quota``) and its rules, backends and warnings."""

from .plugin import QuotaExceeded, QuotaPlugin

__all__ = ["QuotaExceeded", "QuotaPlugin"]
