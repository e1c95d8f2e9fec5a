"""The selected mailbox as this session has told the client about it.

IMAP sequence numbers are per session: a message expunged by another session keeps its number
here until we send `* n EXPUNGE`. So the session keeps its own view (UIDs in order, flags,
modseqs, which messages are \\Recent for it) and `apply()` turns a fresh storage snapshot into
the untagged replies that bring the client up to date.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field

from pydovecot.storage.interface import SYSTEM_FLAGS, Mailbox, MailboxSnapshot, MessageInfo

from .protocol import commands as c
from .protocol.responses import paren_list, untagged, untagged_status

STAR_NUMBER = 0xFFFFFFFF


@dataclass
class SelectedMailbox:
    vname: str
    mailbox: Mailbox
    read_only: bool
    uidvalidity: int = 0
    uidnext: int = 1
    highestmodseq: int = 0
    uids: list[int] = field(default_factory=list)
    messages: dict[int, MessageInfo] = field(default_factory=dict)
    recent: set[int] = field(default_factory=set)
    keywords: tuple[str, ...] = ()
    saved: frozenset[int] | None = None
    """SEARCHRES's `$` (RFC 5182): the UIDs the last SEARCH RETURN (SAVE) found."""
    gone: bool = False
    """The mailbox was deleted or renamed under us (found while syncing)."""
    reported_modseq: int = 0
    """The highest modseq the client has been told (SELECT, FETCH MODSEQ, HIGHESTMODSEQ codes)."""
    notify_counts: bool = True
    notify_flags: bool = True
    """NOTIFY (notify.py) without MessageNew / FlagChange for the selected mailbox: syncing
    stops sending EXISTS and RECENT / other sessions' flag changes, as Dovecot's does."""
    _applied: tuple[MessageInfo, ...] | None = field(default=None, repr=False)
    """The snapshot messages the view was last brought up to date with (see apply)."""
    _held_back: bool = field(default=False, repr=False)

    # --- numbers -----------------------------------------------------------------------------

    @property
    def exists(self) -> int:
        return len(self.uids)

    def seq_of(self, uid: int) -> int | None:
        i = bisect.bisect_left(self.uids, uid)
        return i + 1 if i < len(self.uids) and self.uids[i] == uid else None

    def resolve(self, seqset: c.SequenceSet, uid: bool) -> list[int] | None:
        """The UIDs a sequence set names, ascending; None when a sequence number is out of range."""
        if seqset.saved_result:
            return sorted(u for u in self.saved or () if u in self.messages)
        if not self.uids:
            return [] if uid else None
        out: set[int] = set()
        for first, last in seqset.ranges:
            if uid:
                lo, hi = self._bound(first, self.uids[-1]), self._bound(last, self.uids[-1])
                lo, hi = min(lo, hi), max(lo, hi)
                start = bisect.bisect_left(self.uids, lo)
                end = bisect.bisect_right(self.uids, hi)
                out.update(self.uids[start:end])
            else:
                lo, hi = self._bound(first, self.exists), self._bound(last, self.exists)
                lo, hi = min(lo, hi), max(lo, hi)
                if lo < 1 or hi > self.exists:
                    return None
                out.update(self.uids[lo - 1:hi])
        return sorted(out)

    @staticmethod
    def _bound(n: c.SeqNumber, star: int) -> int:
        return star if n is c.STAR else int(n)

    # --- flags -------------------------------------------------------------------------------

    def flags_of(self, uid: int) -> tuple[str, ...]:
        info = self.messages[uid]
        system = [f for f in SYSTEM_FLAGS if f in info.flags]
        if uid in self.recent:
            system.append("\\Recent")
        return (*system, *info.keywords)

    def flags_list(self) -> bytes:
        return paren_list(f.encode() for f in (*SYSTEM_FLAGS, *self.keywords))

    def flags_replies(self) -> bytes:
        out = untagged(b"FLAGS " + self.flags_list())
        # A plugin may narrow what the client may change (acl: by the user's rights).
        narrowed = getattr(self.mailbox, "permanent_flags", None)
        allowed = tuple(narrowed()) if narrowed is not None else (*SYSTEM_FLAGS, "\\*")
        if self.read_only or not allowed:
            return out + untagged_status("OK", "Read-only mailbox.", b"[PERMANENTFLAGS ()]")
        system = [f for f in allowed if f != "\\*"]
        rest = (*self.keywords, "\\*") if "\\*" in allowed else ()
        permanent = paren_list(f.encode() for f in (*system, *rest))
        return out + untagged_status("OK", "Flags permitted.", b"[PERMANENTFLAGS " + permanent + b"]")

    # --- syncing -----------------------------------------------------------------------------

    def load(self, snapshot: MailboxSnapshot, keywords: tuple[str, ...]) -> None:
        self.uidvalidity = snapshot.uidvalidity
        self.uidnext = snapshot.uidnext
        self.highestmodseq = snapshot.highestmodseq
        self.uids = [m.uid for m in snapshot.messages]
        self.messages = {m.uid: m for m in snapshot.messages}
        self.recent = set(snapshot.recent_uids) & set(self.uids)
        self.keywords = keywords
        self.reported_modseq = snapshot.highestmodseq
        self._applied = snapshot.messages if isinstance(snapshot.messages, tuple) else None
        self._held_back = False

    def modseq_news(self) -> int | None:
        """The highest modseq, when the client has not been told it yet (QRESYNC replies)."""
        if self.highestmodseq <= self.reported_modseq:
            return None
        self.reported_modseq = self.highestmodseq
        return self.highestmodseq

    def apply(self, snapshot: MailboxSnapshot, keywords: tuple[str, ...], *, expunges: bool = True,
              uid_fetch: bool = False, condstore: bool = False, qresync: bool = False,
              quiet_uids: frozenset[int] = frozenset()) -> bytes:
        """Untagged replies for what changed since our view; the view then matches.

        Without `expunges` (FETCH, STORE, SEARCH by sequence number) expunged messages stay in
        the view, so that the client's numbers keep meaning what they meant.
        """
        if (snapshot.messages is self._applied and keywords == self.keywords and not self._held_back
                and snapshot.uidnext == self.uidnext and snapshot.highestmodseq == self.highestmodseq):
            # The same (immutable) messages as last time: nothing to say, and no need to compare
            # every message again -- the common case after each command on a quiet mailbox.
            return b""
        out = bytearray()
        current = _by_uid(snapshot.messages)
        old_recent = len(self.recent)
        if keywords != self.keywords and set(keywords) - set(self.keywords):
            self.keywords = tuple(dict.fromkeys((*self.keywords, *keywords)))
            out += self.flags_replies()
        gone = [uid for uid in self.uids if uid not in current]
        if gone and expunges:
            out += self._expunge(gone, qresync)
        # Expunges kept back for the client's numbers, or flag changes not reported: the next
        # apply must look again even if the messages are the same.
        self._held_back = bool(gone and not expunges) or bool(quiet_uids)
        for uid in self.uids:
            new = current.get(uid)
            old = self.messages[uid]
            if new is old:
                continue  # unchanged (snapshots share the infos of unchanged messages)
            if new is None or uid in quiet_uids:
                if new is not None:
                    self.messages[uid] = new
                continue
            if new.flags != old.flags or new.keywords != old.keywords:
                self.messages[uid] = new
                if self.notify_flags:
                    out += self.fetch_flags(uid, uid_fetch or qresync, condstore)
            elif new.modseq != old.modseq:
                self.messages[uid] = new
        last = self.uids[-1] if self.uids else 0
        added = [m for m in snapshot.messages if m.uid > last]
        if added:
            known = set(self.uids)
            added = [m for m in added if m.uid not in known]
        for msg in added:
            self.uids.append(msg.uid)
            self.messages[msg.uid] = msg
        self.recent |= set(snapshot.recent_uids) & {m.uid for m in added}
        if added and self.notify_counts:
            out += untagged(f"{self.exists} EXISTS")
        if len(self.recent) != old_recent and self.notify_counts:
            out += untagged(f"{len(self.recent)} RECENT")
        self.uidnext = snapshot.uidnext
        self.highestmodseq = snapshot.highestmodseq
        if added and qresync and (news := self.modseq_news()) is not None:
            out += untagged_status("OK", "Highest", b"[HIGHESTMODSEQ %d]" % news)
        self._applied = snapshot.messages if isinstance(snapshot.messages, tuple) else None
        return bytes(out)

    def _expunge(self, gone: list[int], qresync: bool) -> bytes:
        out = bytearray()
        if qresync:
            out += untagged(b"VANISHED " + uid_set(gone))
        else:
            for uid in reversed(gone):
                seq = self.seq_of(uid)
                assert seq is not None
                out += untagged(f"{seq} EXPUNGE")
        gone_set = set(gone)
        self.uids = [u for u in self.uids if u not in gone_set]
        for uid in gone:
            self.messages.pop(uid, None)
        self.recent -= gone_set
        if qresync:
            return bytes(out)
        return bytes(out)

    def fetch_flags(self, uid: int, with_uid: bool, with_modseq: bool, *, flags: bool = True,
                    modseq_last: bool = False) -> bytes:
        """`* n FETCH (UID u MODSEQ (m) FLAGS (...))`; QRESYNC's SELECT puts MODSEQ last."""
        seq = self.seq_of(uid)
        items = []
        if with_uid:
            items.append(b"UID %d" % uid)
        modseq = b"MODSEQ (%d)" % self.messages[uid].modseq
        if with_modseq:
            self.reported_modseq = max(self.reported_modseq, self.messages[uid].modseq)
        if with_modseq and not modseq_last:
            items.append(modseq)
        if flags:
            items.append(b"FLAGS " + paren_list(f.encode() for f in self.flags_of(uid)))
        if with_modseq and modseq_last:
            items.append(modseq)
        return untagged(b"%d FETCH (" % (seq or 0) + b" ".join(items) + b")")


# id(snapshot.messages) -> (those messages, by UID): one snapshot is shared by every session of
# the mailbox (and synced after each command), so its index is built once, not once per apply().
_BY_UID: dict[int, tuple[tuple[MessageInfo, ...], dict[int, MessageInfo]]] = {}


def _by_uid(messages: tuple[MessageInfo, ...]) -> dict[int, MessageInfo]:
    """``{m.uid: m for m in messages}``, shared: callers must not change it."""
    hit = _BY_UID.get(id(messages))
    if hit is not None and hit[0] is messages:
        return hit[1]
    current = {m.uid: m for m in messages}
    if isinstance(messages, tuple):  # a list could change in place after we indexed it
        if len(_BY_UID) >= 64:
            _BY_UID.clear()
        _BY_UID[id(messages)] = (messages, current)
    return current


def uid_set(uids: list[int] | tuple[int, ...]) -> bytes:
    """`1:3,5` from UIDs, in the order given, joining consecutive runs."""
    parts: list[str] = []
    start = prev = None
    for uid in uids:
        if prev is not None and uid == prev + 1:
            prev = uid
            continue
        if start is not None:
            parts.append(str(start) if start == prev else f"{start}:{prev}")
        start = prev = uid
    if start is not None:
        parts.append(str(start) if start == prev else f"{start}:{prev}")
    return ",".join(parts).encode()
