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

Substring mode (opt-in: ``fts_flatcurve = substring_search=yes``, ``fts_xapian = partial=N`` or
our ``fts_substring = yes`` for any backend): the table is tokenized by FTS5's ``trigram``
instead, and a key's value is looked up as one phrase of its trigrams, which is exactly "the
text contains this string" (case-folded), IMAP's own SEARCH semantics: ``BODY "ick bro"``
finds "quick brown". Values shorter than three characters cannot be answered from trigrams
and go to the plain evaluator (None). The price is size and indexing time: on 600 files of
Python's standard library (3.9 MB of text) the trigram index is 12.8 MB against the word
index's 2.1 MB (6x); on benchmarks/fts_index.py's generated mail (a 40-word vocabulary, which
the word index compresses unusually well) 231 MB against 19.5 MB (12x), indexed at 440 msg/s
against 2000 (real fts_lucene: 355); ``--substring`` prints these. Changing the mode (or the
stemming, or whitespace_chars) rebuilds the index on its next use, as fts_lucene rebuilds
when its settings change.

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

import dataclasses
import os
import re
import sqlite3
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from pydovecot.storage.search.addresses import parse_addresses, write_addresses

from .extract import MessageText

DB_NAME = "pydovecot-fts.sqlite"
COMMIT_EVERY = 1000
COLUMNS = ("hdr_from", "hdr_to", "hdr_cc", "hdr_bcc", "hdr_subject", "hdr_message_id", "headers", "body")
# IMAP search key -> the columns it looks in.
KEY_COLUMNS = {
    "FROM": ("hdr_from",), "TO": ("hdr_to",), "CC": ("hdr_cc",), "BCC": ("hdr_bcc",),
    "SUBJECT": ("hdr_subject",), "BODY": ("body",), "TEXT": ("headers", "body"),
}
_BLANKS = re.compile(r"[ \t]+")
# unicode61's tokens: runs of letters and digits (everything else separates words).
_WORD = re.compile(r"[^\W_]+", re.UNICODE)


@dataclass(frozen=True)
class FtsOptions:
    whitespace_chars: str = ""
    """Extra word separators (fts_lucene's ``whitespace_chars=``); unicode61 already splits on
    punctuation, so they only matter for characters it would keep inside words."""
    stemming: bool = True
    """fts_lucene stems unless ``no_snowball``."""
    substring: bool = False
    """Trigram index: SEARCH matches substrings, as IMAP does without an index."""


class FtsIndex:
    def __init__(self, directory: str, options: FtsOptions | None = None) -> None:
        self.path = os.path.join(directory, DB_NAME)
        # Without options (doveadm tools, tests inspecting an index) the index is taken as it was
        # made; with them, an index made with other ones is rebuilt (_create).
        self._given = options is not None
        self.options = options or FtsOptions()
        os.makedirs(directory, mode=0o700, exist_ok=True)
        self.db = sqlite3.connect(self.path, timeout=30, isolation_level=None, check_same_thread=False)
        self._state: tuple[int, int, int] | None = None  # (data_version, uidvalidity, last_uid)
        self._create()

    def close(self) -> None:
        self.db.close()

    def _create(self) -> None:
        db = self.db
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
        db.execute("CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value INTEGER)")
        schema = (f"CREATE VIRTUAL TABLE text USING fts5({', '.join(COLUMNS)}, "
                  f"content='', tokenize=\"{_tokenizer(self.options)}\")")
        row = db.execute("SELECT sql FROM sqlite_master WHERE name = 'text'").fetchone()
        if row is not None and not self._given:
            self.options = dataclasses.replace(self.options, substring="tokenize=\"trigram" in row[0])
            return
        if row is not None and row[0] != schema:
            # Made with another tokenizer (substring mode or stemming changed): its rows
            # cannot answer this one's queries; start over.
            db.execute("DROP TABLE text")
            db.execute("DELETE FROM meta")
            row = None
        if row is None:
            db.execute(schema)

    # --- state -------------------------------------------------------------------------------

    def _meta(self, key: str) -> int:
        row = self.db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return int(row[0]) if row else 0

    @property
    def last_uid(self) -> int:
        return self._meta("last_uid")

    def is_current(self, uidvalidity: int, last_uid: int) -> bool:
        """Whether the index already covers a mailbox whose newest UID is ``last_uid``.

        Every search asks, so the answer comes from memory while no connection (ours or
        another process's: doveadm index, the LMTP autoindexer) committed since we read it:
        SQLite's data_version says so at the cost of one pragma."""
        version = int(self.db.execute("PRAGMA data_version").fetchone()[0])
        if self._state is None or self._state[0] != version:
            self._state = (version, self._meta("uidvalidity"), self._meta("last_uid"))
        return self._state[1] == uidvalidity and self._state[2] >= last_uid

    def check_uidvalidity(self, uidvalidity: int) -> None:
        """A new UIDVALIDITY makes every row meaningless: start over."""
        if self._meta("uidvalidity") != uidvalidity:
            self.reset()
            self.db.execute("INSERT OR REPLACE INTO meta VALUES ('uidvalidity', ?)", (uidvalidity,))

    def reset(self) -> None:
        # A contentless table empties with its 'delete-all' command, not DELETE.
        self._state = None
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
                    h = _as_searched(text.headers) if self.options.substring else text.headers
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
        self._state = None  # our own commits leave data_version alone
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
        query = self.match_query(key, value)
        if query is None:
            return None
        uids = {row[0] for row in self.db.execute("SELECT rowid FROM text WHERE text MATCH ?", (query,))}
        if existing is None:
            return uids
        return uids.intersection(existing)

    def match_query(self, key: str, value: str) -> str | None:
        """The FTS5 MATCH expression for one SEARCH key, None when the index cannot answer it
        (a key it does not index, no words at all, or under three characters for trigrams)."""
        columns = KEY_COLUMNS.get(key.upper())
        if columns is None:
            return None
        if self.options.substring:
            if len(value) < 3:
                return None
            # The whole value as one phrase of its trigrams: the text contains it.
            phrase = '"' + value.replace('"', '""') + '"'
        else:
            words = self.words(value)
            if not words:
                return None
            # One FTS5 phrase: the words adjacent and in order, as fts_lucene's phrase query.
            phrase = '"' + " ".join(w.replace('"', '""') for w in words) + '"'
        return "{" + " ".join(columns) + "} : (" + phrase + ")"

    def words(self, value: str) -> list[str]:
        for ch in self.options.whitespace_chars:
            value = value.replace(ch, " ")
        return _WORD.findall(value)

    def row_count(self) -> int:
        return int(self.db.execute("SELECT count(*) FROM text_docsize").fetchone()[0]) if self._has_docsize() else 0

    def _has_docsize(self) -> bool:
        return self.db.execute("SELECT 1 FROM sqlite_master WHERE name = 'text_docsize'").fetchone() is not None


def _as_searched(headers: dict[str, str]) -> dict[str, str]:
    """Header values in the form SEARCH compares substrings with (storage/search/evaluator.py):
    addresses as message_address_write() writes them, the subject with its blank runs as one
    space; trigram rows then match exactly what the evaluator would."""
    out = dict(headers)
    for name in ("from", "to", "cc", "bcc"):
        if name in out:
            out[name] = write_addresses(parse_addresses(out[name]))
    if "subject" in out:
        out["subject"] = _BLANKS.sub(" ", out["subject"])
    return out


def _tokenizer(options: FtsOptions) -> str:
    if options.substring:
        return "trigram case_sensitive 0"
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
