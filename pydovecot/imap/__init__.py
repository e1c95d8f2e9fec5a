"""IMAP4rev1 server: the sans-I/O protocol core lives in `protocol/`; commands and the session above it."""

from __future__ import annotations
