"""Maildir on-disk formats exactly as Dovecot 2.3 reads and writes them.

One module per concept, all free of mailbox policy:

- ``filename``: message file names (unique base, ``,S=``/``,W=`` fields, ``:2,`` flags).
- ``uidlist``: ``dovecot-uidlist`` (UID <-> base file name, UIDVALIDITY, mailbox GUID).
- ``keywords``: ``dovecot-keywords`` (keyword letter a-z <-> keyword name).
- ``uidvalidity``: ``dovecot-uidvalidity`` and its ``.<hex>`` marker file.
- ``subscriptions``: the ``subscriptions`` file (version 2, and the version 1 it still reads).
- ``layout``: Maildir++ and ``LAYOUT=fs`` folder name <-> directory mapping.
- ``dotlock``: the ``<file>.lock`` protocol the control files share.
- ``fsync``: the ``mail_fsync`` modes.
- ``mutf7``: IMAP modified UTF-7, the encoding of folder names on disk.

File I/O here is synchronous; async callers run it in a thread.
"""

from __future__ import annotations
