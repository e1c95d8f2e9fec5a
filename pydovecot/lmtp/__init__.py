"""LMTP delivery (RFC 2033) and dovecot-lda: messages into the users' INBOX as Dovecot delivers them."""

from __future__ import annotations

from .server import LmtpService

__all__ = ["LmtpService"]
