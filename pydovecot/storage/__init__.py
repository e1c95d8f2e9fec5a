"""Mail storage: namespaces, mailbox lists, the index, and the mailbox formats (maildir first)."""

from __future__ import annotations
