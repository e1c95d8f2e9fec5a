"""Our full-text index: SQLite FTS5 (Python's own sqlite3), one database per mailbox.

Served for ``fts = lucene`` (the seed's), ``xapian`` and ``flatcurve`` alike. The table is
contentless (the text lives in the mail, not twice on disk) with the UID as rowid, tokenized
by ``unicode61`` with diacritics folded; like fts_lucene it matches whole words.

Expunges: SQLite before 3.43 cannot delete a row of a contentless table without its original
text, so rows of expunged mail stay until ``optimize`` rebuilds the index; a lookup only
returns UIDs that still exist (the caller passes them), which stays right whoever expunged
the mail, real Dovecot included. UIDs are never reused, so a stale row never matches new mail.

Crash safety: rows and the "indexed up to UID n" mark are committed in one transaction, so
after a SIGKILL the next run continues from the last commit; the database is a cache that
``doveadm fts rescan`` (or a UIDVALIDITY change) throws away.
"""

from __future__ import annotations

import os
import re
import sqlite3
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from .extract import MessageText

DB_NAME = "pydovecot-fts.sqlite"
COMMIT_EVERY = 1000
COLUMNS = ("hdr_from", "hdr_to", "hdr_cc", "hdr_bcc", "hdr_subject", "hdr_message_id", "headers", "body")
# IMAP search key -> the columns it looks in.
KEY_COLUMNS = {
    "FROM": ("hdr_from",), "TO": ("hdr_to",), "CC": ("hdr_cc",), "BCC": ("hdr_bcc",),
    "SUBJECT": ("hdr_subject",), "BODY": ("body",), "TEXT": ("headers", "body"),
}
# unicode61's tokens: runs of letters and digits (everything else separates words).
_WORD = re.compile(r"[^\W_]+", re.UNICODE)


@dataclass(frozen=True)
class FtsOptions:
    whitespace_chars: str = ""
    """Extra word separators (fts_lucene's ``whitespace_chars=``); unicode61 already splits on
    punctuation, so they only matter for characters it would keep inside words."""


class FtsIndex:
    def __init__(self, directory: str, options: FtsOptions | None = None) -> None:
        self.path = os.path.join(directory, DB_NAME)
        self.options = options or FtsOptions()
        os.makedirs(directory, mode=0o700, exist_ok=True)
        self.db = sqlite3.connect(self.path, timeout=30, isolation_level=None, check_same_thread=False)
        self._create()

    def close(self) -> None:
        self.db.close()

    def _create(self) -> None:
        db = self.db
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
        db.execute("CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value INTEGER)")
        separators = self.options.whitespace_chars.replace("'", "").replace('"', "")
        tokenize = "unicode61 remove_diacritics 2" + (f" separators '{separators}'" if separators else "")
        db.execute(f"CREATE VIRTUAL TABLE IF NOT EXISTS text USING fts5({', '.join(COLUMNS)}, "
                   f"content='', tokenize=\"{tokenize}\")")

    # --- state -------------------------------------------------------------------------------

    def _meta(self, key: str) -> int:
        row = self.db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return int(row[0]) if row else 0

    @property
    def last_uid(self) -> int:
        return self._meta("last_uid")

    def check_uidvalidity(self, uidvalidity: int) -> None:
        """A new UIDVALIDITY makes every row meaningless: start over."""
        if self._meta("uidvalidity") != uidvalidity:
            self.reset()
            self.db.execute("INSERT OR REPLACE INTO meta VALUES ('uidvalidity', ?)", (uidvalidity,))

    def reset(self) -> None:
        # A contentless table empties with its 'delete-all' command, not DELETE.
        self.db.execute("INSERT INTO text(text) VALUES ('delete-all')")
        self.db.execute("DELETE FROM meta")

    # --- indexing ----------------------------------------------------------------------------

    def add(self, messages: Iterable[tuple[int, Callable[[], MessageText | None]]]) -> int:
        """Index (uid, text getter) pairs in ascending UID order; returns how many were added."""
        added = 0
        self.db.execute("BEGIN")
        try:
            for uid, getter in messages:
                if uid <= self.last_uid:
                    continue
                text = getter()
                if text is not None:
                    h = text.headers
                    self.db.execute(
                        "INSERT INTO text(rowid, " + ", ".join(COLUMNS) + ") VALUES (?,?,?,?,?,?,?,?,?)",
                        (uid, h.get("from", ""), h.get("to", ""), h.get("cc", ""), h.get("bcc", ""),
                         h.get("subject", ""), h.get("message-id", ""), text.all_headers, text.body))
                self.db.execute("INSERT OR REPLACE INTO meta VALUES ('last_uid', ?)", (uid,))
                added += 1
                if added % COMMIT_EVERY == 0:
                    self.db.execute("COMMIT")
                    self.db.execute("BEGIN")
            self.db.execute("COMMIT")
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        return added

    # --- lookups -----------------------------------------------------------------------------

    def lookup(self, key: str, value: str, existing: Iterable[int] | None = None) -> set[int] | None:
        """UIDs whose ``key`` (FROM, SUBJECT, BODY, TEXT...) holds every word of ``value``.

        None when the index cannot answer (a key it does not index, or no words at all).
        """
        columns = KEY_COLUMNS.get(key.upper())
        words = self.words(value)
        if columns is None or not words:
            return None
        phrase = " AND ".join('"' + w.replace('"', '""') + '"' for w in words)
        query = "{" + " ".join(columns) + "} : (" + phrase + ")"
        uids = {row[0] for row in self.db.execute("SELECT rowid FROM text WHERE text MATCH ?", (query,))}
        return uids & set(existing) if existing is not None else uids

    def words(self, value: str) -> list[str]:
        for ch in self.options.whitespace_chars:
            value = value.replace(ch, " ")
        return _WORD.findall(value)

    def row_count(self) -> int:
        return int(self.db.execute("SELECT count(*) FROM text_docsize").fetchone()[0]) if self._has_docsize() else 0

    def _has_docsize(self) -> bool:
        return self.db.execute("SELECT 1 FROM sqlite_master WHERE name = 'text_docsize'").fetchone() is not None
