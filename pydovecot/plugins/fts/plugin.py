"""The fts plugin: ``fts = lucene | xapian | flatcurve`` served by our FTS5 index.

A mailbox opened by a user with fts gets ``fts_lookup(key, text)`` (used by SEARCH for
BODY, TEXT and the indexed headers) and ``fts_index()`` (``doveadm index``). Lookups first
index whatever mail arrived since the last run, so answers are never stale; with
``fts_autoindex = yes`` new mail is indexed right after it is saved, in a background thread,
so delivery never waits for it.

``fts_decoder = NAME`` sends attachments to that decoder service (decoder.py);
``fts_substring = yes`` (ours), ``fts_flatcurve = substring_search=yes`` or
``fts_xapian = partial=N`` index trigrams so SEARCH matches substrings (engine.py).

``fts_rescan()`` throws the mailbox's index away (rebuilt on the next lookup or index run);
``fts_optimize()`` rebuilds it when it holds rows of expunged mail (a contentless FTS5 table
cannot delete them, see engine.py) and merges its segments.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from pydovecot.storage.interface import Mailbox, MailboxSnapshot

from ..hooks import MailboxWrapper, MailPlugin
from ..registry import register
from .decoder import ScriptDecoder, socket_path
from .engine import FtsIndex, FtsOptions, drop
from .extract import MessageText, extract

log = logging.getLogger("pydovecot.plugins")
SERVED_BACKENDS = ("lucene", "xapian", "flatcurve")
# Backend options whose effect we reproduce; others are reported, not silently dropped.
# whitespace_chars/no_snowball: fts_lucene's; substring_search: flatcurve's (substring matching);
# partial/full: xapian's (it always matches parts of words: naming partial= asks for trigrams).
_BACKEND_OPTIONS = ("whitespace_chars", "no_snowball", "use_libfts", "substring_search", "partial", "full")

_indexes: dict[str, tuple[FtsIndex, threading.Lock]] = {}
_indexes_guard = threading.Lock()
# Dovecot's "indexer" service: one queue, so background indexing never competes with itself.
_INDEXER = ThreadPoolExecutor(max_workers=1, thread_name_prefix="indexer")


def _index_for(directory: str, options: FtsOptions) -> tuple[FtsIndex, threading.Lock]:
    with _indexes_guard:
        entry = _indexes.get(directory)
        if entry is None:
            entry = _indexes[directory] = (FtsIndex(directory, options), threading.Lock())
        return entry


def _forget_index(directory: str) -> tuple[FtsIndex, threading.Lock] | None:
    with _indexes_guard:
        return _indexes.pop(directory, None)


def parse_backend_options(text: str, substring: bool = False) -> tuple[FtsOptions, list[str]]:
    """``fts_lucene = whitespace_chars=@. no_snowball`` -> options, unsupported option names.

    ``substring``: the plugin's own ``fts_substring`` setting, which the backend's
    ``substring_search=yes`` (flatcurve) or ``partial=`` (xapian) also turn on."""
    whitespace = ""
    unsupported = []
    for word in text.split():
        key, _, value = word.partition("=")
        if key == "whitespace_chars":
            whitespace = value
        elif key == "substring_search":
            substring = substring or value.lower() in ("yes", "1", "true")
        elif key == "partial":
            substring = True
        elif key not in _BACKEND_OPTIONS:
            unsupported.append(key)
    return FtsOptions(whitespace_chars=whitespace, stemming="no_snowball" not in text.split(),
                      substring=substring), unsupported


@register
class FtsPlugin(MailPlugin):
    name = "fts"

    def __init__(self, user: Any) -> None:
        super().__init__(user)
        self.backend = self.setting("fts")
        self.active = self.backend in SERVED_BACKENDS
        if self.backend and not self.active:
            log.error("fts: backend %s is not supported by pydovecot (lucene, xapian and flatcurve are); "
                      "searches run without an index", self.backend)
        self.options, unsupported = parse_backend_options(self.setting(f"fts_{self.backend}"),
                                                          self.setting_bool("fts_substring"))
        for key in unsupported:
            log.error("fts_%s: option %s is not supported by pydovecot and has no effect", self.backend, key)
        self.autoindex = self.setting("fts_autoindex") in ("yes", "1", "true")
        self.autoindex_exclude = {v for k, v in user.settings.plugin.items() if k.startswith("fts_autoindex_exclude")}
        name = self.setting("fts_decoder")
        self.decoder = ScriptDecoder(socket_path(name, user.settings.str("base_dir"))) if name else None

    def mailbox_opened(self, mailbox: Mailbox) -> Mailbox:
        if not self.active:
            return mailbox
        return _FtsMailbox(mailbox, self)  # type: ignore[return-value]


def _register_backend_names() -> None:
    """``fts_lucene`` and friends only choose fts's backend; the work is fts's."""
    for backend in SERVED_BACKENDS:
        cls = type(f"Fts{backend.title()}Plugin", (MailPlugin,), {"name": f"fts_{backend}", "requires": ("fts",)})
        register(cls)


_register_backend_names()


class _FtsMailbox(MailboxWrapper):
    def __init__(self, inner: Mailbox, plugin: FtsPlugin) -> None:
        super().__init__(inner)
        self.plugin = plugin

    def _directory(self) -> str:
        return getattr(self.inner, "index_dir", None) or self.inner.path

    def _index(self) -> tuple[FtsIndex, threading.Lock]:
        return _index_for(self._directory(), self.plugin.options)

    def fts_index(self, progress: Callable[[int], None] | None = None) -> int:
        """Index every message not indexed yet; returns how many were added."""
        index, lock = self._index()
        snapshot = self.inner.sync()
        with lock:
            return self._catch_up(index, snapshot, progress)

    def _catch_up(self, index: FtsIndex, snapshot: MailboxSnapshot,
                  progress: Callable[[int], None] | None = None) -> int:
        """Index what ``snapshot`` has beyond the index (the caller holds the index's lock)."""
        newest = snapshot.messages[-1].uid if snapshot.messages else 0
        if index.is_current(snapshot.uidvalidity, newest):
            return 0  # the common case of a search: no write transaction, no meta reads
        index.check_uidvalidity(snapshot.uidvalidity)
        last = index.last_uid
        return index.add(((m.uid, self._text_getter(m.uid)) for m in snapshot.messages if m.uid > last),
                         progress)

    def fts_rescan(self) -> bool:
        """Throw the index away; the next fts_index()/fts_lookup() rebuilds it. True if one existed."""
        entry = _forget_index(self._directory())
        if entry is not None:
            with entry[1]:
                entry[0].close()
        return drop(self._directory())

    def fts_optimize(self) -> int:
        """Rebuild the index if it holds rows of expunged mail, then merge it; returns how many
        stale rows went away."""
        index, lock = self._index()
        live = {m.uid for m in self.inner.sync().messages}
        with lock:
            stale = len(index.indexed_uids() - live)
        if stale:
            self.fts_rescan()
            self.fts_index()
            index, lock = self._index()
        with lock:
            index.merge()
        return stale

    def _text_getter(self, uid: int):  # noqa: ANN202 - a closure
        def get() -> MessageText | None:
            data = self.read(uid)
            return extract(data, self.plugin.decoder) if data is not None else None
        return get

    def fts_lookup(self, key: str, value: str, existing: Iterable[int] | None = None) -> set[int] | None:
        """UIDs whose ``key`` matches ``value`` (among ``existing``, else the mailbox's messages);
        None when the index cannot answer. New mail is indexed first."""
        snapshot = self.inner.sync()
        index, lock = self._index()
        with lock:
            self._catch_up(index, snapshot)
            found = index.lookup(key, value)
        if found is None:
            return None
        # Rows of expunged mail stay in a contentless table (engine.py): keep only live UIDs.
        return found.intersection(existing if existing is not None else (m.uid for m in snapshot.messages))

    def append(self, data: bytes, *, flags: Iterable[str] = (), keywords: Iterable[str] = (),
               internaldate: float | None = None, **backend: Any) -> int:
        uid = super().append(data, flags=flags, keywords=keywords, internaldate=internaldate, **backend)
        if self.plugin.autoindex and self.vname not in self.plugin.autoindex_exclude:
            _INDEXER.submit(self._background_index)
        return uid

    def _background_index(self) -> None:
        try:
            self.fts_index()
        except Exception:  # noqa: BLE001 - the indexer must outlive one bad mailbox
            log.exception("fts: indexing %s failed", self.vname)
