"""Our full-text index: SQLite FTS5 (Python's own sqlite3), one database per mailbox.

Served for ``fts = lucene`` (the seed's), ``xapian`` and ``flatcurve`` alike. The table is
contentless (the text lives in the mail, not twice on disk) with the UID as rowid, tokenized
by ``unicode61`` with diacritics folded and (unless ``no_snowball``) stemmed by ``porter``.

How answers compare (SEARCH uses the index for BODY, TEXT, FROM, TO, CC, BCC and SUBJECT):
- Whole words, as fts_lucene: ``BODY budg`` finds nothing, where Dovecot without fts (and our
  evaluator) matches "budget" as a substring. A query of whole words that occur only as whole
  words gives the same UIDs with and without the index (tests/plugins/test_fts_search.py).
- Several words are a phrase, as fts_lucene's: ``BODY "project budget"`` wants them adjacent
  (without fts: the substring, which is a phrase too, but also inside longer words).
- Stemming: fts_lucene stems with Snowball's English, we with Porter; both find "budgeting"
  and "reports" for ``budget``/``report``, but Porter does not reduce "quarterly" to
  "quarter", so ``SUBJECT quarter`` finds "Quarterly" with real fts_lucene and not here.
  A stemmed match can also find mail that the substring evaluator would not
  (``BODY reports`` finds "report").
- Addresses: fts_lucene keeps ``bob@example.test`` as one token (``TO bob`` finds nothing
  unless ``whitespace_chars=@.``); unicode61 always splits it, so ``TO bob`` finds it here.
(Compared with real fts_lucene in tests/imap/session/plugin_cases.py, case fts_search.)

Expunges: SQLite before 3.43 cannot delete a row of a contentless table without its original
text, so rows of expunged mail stay until ``optimize`` rebuilds the index; a lookup only
returns UIDs that still exist (the caller passes them), which stays right whoever expunged
the mail, real Dovecot included. UIDs are never reused, so a stale row never matches new mail.

Crash safety: rows and the "indexed up to UID n" mark are committed in one transaction, so
after a SIGKILL the next run continues from the last commit; the database is a cache that
``doveadm fts rescan`` (or a UIDVALIDITY change) throws away (:func:`drop`).

``doveadm fts tokenize`` prints :func:`tokenize`: the very tokens this tokenizer stores,
read back from an in-memory FTS5 table through ``fts5vocab``.
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
    stemming: bool = True
    """fts_lucene stems unless ``no_snowball`` (applies when an index is created)."""


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
        db.execute(f"CREATE VIRTUAL TABLE IF NOT EXISTS text USING fts5({', '.join(COLUMNS)}, "
                   f"content='', tokenize=\"{_tokenizer(self.options)}\")")

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

    def add(self, messages: Iterable[tuple[int, Callable[[], MessageText | None]]],
            progress: Callable[[int], None] | None = None) -> int:
        """Index (uid, text getter) pairs in ascending UID order; returns how many were added.

        ``progress(n)`` hears of every ``n`` messages committed (doveadm index's progress line)."""
        added = committed = 0
        last = self.last_uid
        insert = "INSERT INTO text(rowid, " + ", ".join(COLUMNS) + ") VALUES (?,?,?,?,?,?,?,?,?)"
        self.db.execute("BEGIN")
        try:
            for uid, getter in messages:
                if uid <= last:
                    continue
                text = getter()
                if text is not None:
                    h = text.headers
                    self.db.execute(insert, (uid, h.get("from", ""), h.get("to", ""), h.get("cc", ""),
                                             h.get("bcc", ""), h.get("subject", ""), h.get("message-id", ""),
                                             text.all_headers, text.body))
                last = uid
                added += 1
                if added % COMMIT_EVERY == 0:
                    self._commit(last)
                    committed = self._report(progress, added, committed)
                    self.db.execute("BEGIN")
            self._commit(last)
            self._report(progress, added, committed)
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        return added

    def _commit(self, last_uid: int) -> None:
        # The mark goes in the same transaction as the rows it vouches for.
        self.db.execute("INSERT OR REPLACE INTO meta VALUES ('last_uid', ?)", (last_uid,))
        self.db.execute("COMMIT")

    @staticmethod
    def _report(progress: Callable[[int], None] | None, added: int, committed: int) -> int:
        if progress is not None and added > committed:
            progress(added - committed)
        return added

    # --- maintenance (doveadm fts optimize) ---------------------------------------------------

    def indexed_uids(self) -> set[int]:
        """Every UID with a row (the docsize table keeps one per row, even when contentless)."""
        if not self._has_docsize():
            return set()
        return {row[0] for row in self.db.execute("SELECT id FROM text_docsize")}

    def merge(self) -> None:
        """FTS5's own 'optimize': merges the b-tree segments into one (faster lookups)."""
        self.db.execute("INSERT INTO text(text) VALUES ('optimize')")

    # --- lookups -----------------------------------------------------------------------------

    def lookup(self, key: str, value: str, existing: Iterable[int] | None = None) -> set[int] | None:
        """UIDs whose ``key`` (FROM, SUBJECT, BODY, TEXT...) holds the words of ``value`` in a row.

        None when the index cannot answer (a key it does not index, or no words at all).
        """
        columns = KEY_COLUMNS.get(key.upper())
        words = self.words(value)
        if columns is None or not words:
            return None
        # One FTS5 phrase: the words adjacent and in order, as fts_lucene's phrase query.
        phrase = '"' + " ".join(w.replace('"', '""') for w in words) + '"'
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


def _tokenizer(options: FtsOptions) -> str:
    separators = options.whitespace_chars.replace("'", "").replace('"', "")
    tokenize = "unicode61 remove_diacritics 2" + (f" separators '{separators}'" if separators else "")
    return "porter " + tokenize if options.stemming else tokenize


def tokenize(text: str, options: FtsOptions | None = None) -> list[str]:
    """The tokens our index stores for ``text``, in order (lower-cased, diacritics folded)."""
    db = sqlite3.connect(":memory:")
    try:
        db.execute(f"CREATE VIRTUAL TABLE t USING fts5(x, tokenize=\"{_tokenizer(options or FtsOptions())}\")")
        db.execute("INSERT INTO t(rowid, x) VALUES (1, ?)", (text,))
        db.execute("CREATE VIRTUAL TABLE temp.v USING fts5vocab(main, t, instance)")
        return [row[0] for row in db.execute("SELECT term FROM v ORDER BY offset")]
    finally:
        db.close()


def drop(directory: str) -> bool:
    """Delete a mailbox's index (``doveadm fts rescan``); True if there was one."""
    found = False
    for suffix in ("", "-wal", "-shm"):
        try:
            os.unlink(os.path.join(directory, DB_NAME + suffix))
            found = True
        except FileNotFoundError:
            continue
    return found
