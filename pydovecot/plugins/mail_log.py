"""The mail_log plugin: one Info line per mail and mailbox event, as Dovecot 2.3 writes them.

    plugin {
      mail_log_events = delete undelete expunge copy mailbox_delete mailbox_rename
      mail_log_fields = uid box msgid size
    }

Lines (checked against real Dovecot 2.3.19) look like
``save: box=INBOX, uid=1, msgid=<x@y>, size=60, vsize=65, from=A <a@b.c>, subject=hello,
flags=(\\Seen)``: the fields always in that order whatever order the setting lists them,
``copy from <source>: box=<target>, uid=<new uid>, ...`` for copies, ``delete``/``undelete``
when ``\\Deleted`` changes and ``flag_change`` for any other change (one line for the system
flags and one for the keywords when a STORE changes both), ``expunge`` (also for every message
of a mailbox being deleted), and ``Mailbox created: x``, ``Mailbox deleted: x``,
``Mailbox renamed: x -> y``. Defaults are Dovecot 2.3.19's: fields ``box uid msgid size``, events
``delete undelete expunge save copy mailbox_delete mailbox_rename``; ``append`` is the old
name of ``save``. Lines go to the ``pydovecot.mail_log`` logger with the user's log prefix.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable, Sequence
from email.header import decode_header, make_header
from email.parser import BytesHeaderParser
from email.policy import compat32
from typing import Any

from pydovecot.storage.interface import SYSTEM_FLAGS, Mailbox, MessageInfo, StoreAction, StoreResult
from pydovecot.varexpand import expand

from .hooks import MailboxWrapper, MailPlugin
from .registry import PluginError, register

log = logging.getLogger("pydovecot.mail_log")

FIELDS = ("box", "uid", "msgid", "size", "vsize", "from", "subject", "flags")  # the order lines use
EVENTS = ("delete", "undelete", "expunge", "save", "copy", "mailbox_create", "mailbox_delete", "mailbox_rename",
          "flag_change")
DEFAULT_FIELDS = frozenset({"box", "uid", "msgid", "size"})  # 2.3.19 (box left the default later)
DEFAULT_EVENTS = frozenset({"delete", "undelete", "expunge", "save", "copy", "mailbox_delete", "mailbox_rename"})
MAILBOX_NAME_LOG_LEN = 64
HEADER_LOG_LEN = 80
DEFAULT_LOG_PREFIX = "%s(%u)<%{pid}><%{session}>: "


def sanitize(text: str, max_bytes: int) -> str:
    """Dovecot's str_sanitize(): control characters become '?', long text ends in '...'."""
    clean = "".join("?" if ord(ch) < 32 or ord(ch) == 127 else ch for ch in text)
    data = clean.encode("utf-8")
    if len(data) <= max_bytes:
        return clean
    return data[:max_bytes - 3].decode("utf-8", "ignore") + "..."


def parse_words(value: str, known: Iterable[str], what: str) -> frozenset[str]:
    names = set()
    for word in value.replace(",", " ").split():
        if what == "events" and word == "append":
            word = "save"  # v1.x name, still accepted
        if word not in known:
            raise PluginError(f"Unknown {'event' if what == 'events' else 'field'} in mail_log_{what}: '{word}'")
        names.add(word)
    return frozenset(names)


def first_header(data: bytes, name: str) -> str:
    """The first ``name`` header, unfolded and RFC 2047-decoded ("" when missing)."""
    headers = BytesHeaderParser(policy=compat32).parsebytes(data)
    raw = headers.get(name)
    if raw is None:
        return ""
    text = str(raw).replace("\r\n", "\n").replace("\n ", " ").replace("\n\t", "\t").strip()
    try:
        return str(make_header(decode_header(text)))
    except (ValueError, LookupError):
        return text


def virtual_size(data: bytes) -> int:
    return len(data) + data.count(b"\n") - data.count(b"\r\n")


def imap_flags(flags: Iterable[str], keywords: Iterable[str], recent: bool) -> str:
    """imap_write_flags(): system flags in Dovecot's bit order, \\Recent, then keywords."""
    present = set(flags)
    words = [flag for flag in SYSTEM_FLAGS if flag in present]
    if recent:
        words.append("\\Recent")
    words.extend(keywords)
    return " ".join(words)


@register
class MailLogPlugin(MailPlugin):
    name = "mail_log"
    requires = ("notify",)

    def __init__(self, user: Any) -> None:
        super().__init__(user)
        fields = self.user.settings.plugin.get("mail_log_fields")
        events = self.user.settings.plugin.get("mail_log_events")
        self.fields = DEFAULT_FIELDS if fields is None else parse_words(fields, FIELDS, "fields")
        self.events = DEFAULT_EVENTS if events is None else parse_words(events, EVENTS, "events")
        self._deleting: list[str] = []
        # Whether a line needs the message itself (headers, virtual size) or only the index.
        self.needs_data = bool(self.fields & {"msgid", "vsize", "from", "subject"})

    # --- output ------------------------------------------------------------------------------

    @property
    def prefix(self) -> str:
        template = self.user.settings.str("mail_log_prefix") or DEFAULT_LOG_PREFIX
        variables = {**self.user.variables, "pid": str(os.getpid()), "service": self.user.service,
                     "user": self.user.username}
        variables.setdefault("session", "")
        try:
            return expand(template, variables).text
        except Exception:  # noqa: BLE001 - a prefix must never stop the mail operation
            return f"{self.user.service}({self.user.username}): "

    def info(self, text: str) -> None:
        log.info("%s", text, extra={"dovecot_prefix": self.prefix})

    def line(self, desc: str, vname: str, uid: int, data: bytes | None, size: int | None, flags: str) -> str:
        parts = []
        if "box" in self.fields:
            parts.append(f"box={sanitize(vname, MAILBOX_NAME_LOG_LEN)}")
        if "uid" in self.fields:
            parts.append(f"uid={uid}")
        if "msgid" in self.fields:
            parts.append(f"msgid={sanitize(first_header(data or b'', 'Message-ID'), HEADER_LOG_LEN)}")
        if "size" in self.fields:
            parts.append(f"size={size}" if size is not None else "size=error")
        if "vsize" in self.fields:
            parts.append(f"vsize={virtual_size(data)}" if data is not None else "vsize=error")
        if "from" in self.fields:
            parts.append(f"from={sanitize(first_header(data or b'', 'From'), HEADER_LOG_LEN)}")
        if "subject" in self.fields:
            parts.append(f"subject={sanitize(first_header(data or b'', 'Subject'), HEADER_LOG_LEN)}")
        if "flags" in self.fields:
            parts.append(f"flags=({flags})")
        return f"{desc}: " + ", ".join(parts)

    # --- mailbox-list events -----------------------------------------------------------------

    def mailbox_created(self, vname: str) -> None:
        if "mailbox_create" in self.events:
            self.info(f"Mailbox created: {sanitize(vname, MAILBOX_NAME_LOG_LEN)}")

    def mailbox_deleting(self, vname: str) -> None:
        # Deleting expunges every message first; the lines are written once the delete succeeded.
        self._deleting = []
        if "expunge" not in self.events:
            return
        try:
            ns, storage = self.user.resolve(vname)
            mailbox = self.user.backend_mailbox(ns, storage)
            snapshot = mailbox.sync(take_recent=True)  # nobody else will take them any more
        except Exception:  # noqa: BLE001 - the delete itself reports what is wrong
            return
        for info in snapshot.messages:
            data = mailbox.read(info.uid) if self.needs_data else None
            flags = imap_flags(info.flags, info.keywords, info.uid in snapshot.recent_uids)
            self._deleting.append(self.line("expunge", vname, info.uid, data, info.size, flags))

    def mailbox_deleted(self, vname: str) -> None:
        for text in self._deleting:
            self.info(text)
        self._deleting = []
        if "mailbox_delete" in self.events:
            self.info(f"Mailbox deleted: {sanitize(vname, MAILBOX_NAME_LOG_LEN)}")

    def mailbox_renamed(self, old: str, new: str) -> None:
        if "mailbox_rename" in self.events:
            self.info(f"Mailbox renamed: {sanitize(old, MAILBOX_NAME_LOG_LEN)} -> "
                      f"{sanitize(new, MAILBOX_NAME_LOG_LEN)}")

    def mailbox_opened(self, mailbox: Mailbox) -> Mailbox:
        return _MailLogMailbox(mailbox, self)  # type: ignore[return-value]


class _MailLogMailbox(MailboxWrapper):
    def __init__(self, inner: Mailbox, plugin: MailLogPlugin) -> None:
        super().__init__(inner)
        self.plugin = plugin
        self._recent: set[int] = set()

    def sync(self, *, take_recent: bool = False) -> Any:
        snapshot = self.inner.sync(take_recent=take_recent)
        self._recent |= snapshot.recent_uids
        return snapshot

    def _flags(self, info: MessageInfo, keywords: Iterable[str] | None = None) -> str:
        return imap_flags(info.flags, info.keywords if keywords is None else keywords, info.uid in self._recent)

    def append(self, data: bytes, *, flags: Iterable[str] = (), keywords: Iterable[str] = (),
               internaldate: float | None = None, **backend: Any) -> int:
        flags, keywords = tuple(flags), tuple(keywords)
        uid = super().append(data, flags=flags, keywords=keywords, internaldate=internaldate, **backend)
        # The copy hook (hooks.copying_from): a copy's append is logged as "copy from <source>".
        source = self.copy_source
        event = "copy" if source is not None else "save"
        if event in self.plugin.events:
            desc = "save" if source is None else f"copy from {sanitize(source, MAILBOX_NAME_LOG_LEN)}"
            saved = self.saved_form(data)
            self.plugin.info(self.plugin.line(desc, self.vname, uid, saved, len(saved),
                                              imap_flags(flags, keywords, False)))
        return uid

    def store(self, uids: Sequence[int], action: StoreAction, flags: Iterable[str], keywords: Iterable[str] = (),
              *, unchanged_since: int | None = None) -> StoreResult:
        before = {m.uid: m for m in self.inner.sync().messages}
        result = super().store(uids, action, flags, keywords, unchanged_since=unchanged_since)
        for info in result.changed:
            old = before.get(info.uid)
            if old is None:
                continue
            self._log_change(old, info)
        return result

    def _log_change(self, old: MessageInfo, new: MessageInfo) -> None:
        events = self.plugin.events
        data: bytes | None = None
        if new.flags != old.flags:
            if "\\Deleted" in new.flags and "\\Deleted" not in old.flags:
                event = "delete"
            elif "\\Deleted" in old.flags and "\\Deleted" not in new.flags:
                event = "undelete"
            else:
                event = "flag_change"
            if event in events:
                data = self.inner.read(new.uid) if self.plugin.needs_data else None
                # Dovecot updates the flags, then the keywords: this line still has the old keywords.
                self.plugin.info(self.plugin.line(event, self.vname, new.uid, data, new.size,
                                                  self._flags(new, old.keywords)))
        if tuple(new.keywords) != tuple(old.keywords) and "flag_change" in events:
            if data is None and self.plugin.needs_data:
                data = self.inner.read(new.uid)
            self.plugin.info(self.plugin.line("flag_change", self.vname, new.uid, data, new.size, self._flags(new)))

    def expunge(self, uids: Sequence[int]) -> tuple[int, ...]:
        if "expunge" not in self.plugin.events:
            return super().expunge(uids)
        before = {m.uid: m for m in self.inner.sync().messages}
        read = self.inner.read if self.plugin.needs_data else (lambda uid: None)
        wanted = {uid: (before[uid], read(uid)) for uid in uids if uid in before}
        done = super().expunge(uids)
        for uid in done:
            if uid in wanted:
                info, data = wanted[uid]
                self.plugin.info(self.plugin.line("expunge", self.vname, uid, data, info.size, self._flags(info)))
        return done
