"""pydovecot: a configuration-compatible reimplementation of the Dovecot 2.3 mail server."""

from __future__ import annotations

__version__ = "0.1.0"
# The Dovecot release whose configuration language and behaviour we follow.
DOVECOT_VERSION = "2.3.19"
