"""The mail side of a POP3 session (Dovecot's pop3 process): INBOX as a fixed message list.

POP3 sees the mailbox as it was at login: message numbers never change during a session, and
DELE and \\Seen changes are only applied at QUIT (a dropped connection changes nothing), as in
Dovecot. Everything here is blocking file-system work: the server runs it through
:func:`pydovecot.storage.access.run_as`.
"""

from __future__ import annotations

import errno
import fcntl
import os
import threading
from dataclasses import dataclass, field

from pydovecot.pop3.protocol import MessageExpunged, Pop3Connection
from pydovecot.pop3.uidl import (
    format_uidl,
    message_header,
    needs_header,
    save_uidls,
    stored_uidls,
    x_uidl,
)
from pydovecot.storage.interface import Mailbox, MessageInfo, StoreAction
from pydovecot.storage.mail_user import MailUser
from pydovecot.varexpand import Variable, VariableContext, expand

SESSION_LOCK_NAME = "dovecot-pop3-session.lock"
INBOX = "INBOX"

# pop3_logout_format's variables (Dovecot's pop3 documentation).
LOGOUT_CONTEXT = VariableContext(
    "pop3_logout",
    (
        Variable("input", "i"),
        Variable("output", "o"),
        Variable("top_count", "t"),
        Variable("top_bytes", "p"),
        Variable("retr_count", "r"),
        Variable("retr_bytes", "b"),
        Variable("deleted_count", "d"),
        Variable("message_count", "m"),
        Variable("size", "s"),
        Variable("uidl_change", "u"),
        Variable("deleted_bytes"),
        Variable("session"),
    ),
)


@dataclass(frozen=True)
class Pop3SessionSettings:
    uidl_format: str = "%08Xu%08Xv"
    reuse_xuidl: bool = False
    save_uidl: bool = False
    no_flag_updates: bool = False
    deleted_flag: str = ""
    delete_type: str = "default"
    lock_session: bool = False
    logout_format: str = "top=%t/%p, retr=%r/%b, del=%d/%m, size=%s"
    lock_timeout: float = 120.0

    @classmethod
    def from_user(cls, user: MailUser) -> Pop3SessionSettings:
        get = user.settings.get
        timeout = float(get("mail_max_lock_timeout") or 0)  # type: ignore[arg-type]
        return cls(
            uidl_format=user.settings.str("pop3_uidl_format") or cls.uidl_format,
            reuse_xuidl=bool(get("pop3_reuse_xuidl")),
            save_uidl=bool(get("pop3_save_uidl")),
            no_flag_updates=bool(get("pop3_no_flag_updates")),
            deleted_flag=user.settings.str("pop3_deleted_flag"),
            delete_type=user.settings.str("pop3_delete_type") or "default",
            lock_session=bool(get("pop3_lock_session")),
            logout_format=user.settings.str("pop3_logout_format"),
            lock_timeout=timeout if timeout > 0 else cls.lock_timeout,
        )

    @property
    def flag_deleted(self) -> bool:
        """DELE sets pop3_deleted_flag instead of expunging ("default" flags when a flag is set)."""
        return bool(self.deleted_flag) and self.delete_type != "expunge"


class SessionLockedError(Exception):
    """pop3_lock_session: another POP3 session holds the mailbox."""


# fcntl locks belong to the process, so they cannot keep apart two sessions of this one
# process: those are kept apart by this set, the fcntl lock keeps out other processes.
_HELD_LOCKS: set[str] = set()
_HELD_GUARD = threading.Lock()


@dataclass
class SessionLock:
    path: str
    fd: int

    @classmethod
    def try_acquire(cls, directory: str) -> SessionLock | None:
        """The lock file Dovecot's pop3_lock_session uses, without waiting; None when held."""
        path = os.path.realpath(os.path.join(directory, SESSION_LOCK_NAME))
        with _HELD_GUARD:
            if path in _HELD_LOCKS:
                return None
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
            try:
                fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError as exc:
                os.close(fd)
                if exc.errno in (errno.EACCES, errno.EAGAIN):
                    return None
                raise
            _HELD_LOCKS.add(path)
            return cls(path, fd)

    def release(self) -> None:
        with _HELD_GUARD:
            _HELD_LOCKS.discard(self.path)
            if self.fd >= 0:
                os.close(self.fd)  # closing drops the fcntl lock; the file stays, as Dovecot's
                self.fd = -1


@dataclass
class Pop3MailSession:
    """INBOX frozen at login; implements the core's Pop3Mailbox (0-based message indexes)."""

    user: MailUser
    mailbox: Mailbox
    settings: Pop3SessionSettings
    uidvalidity: int
    messages: list[MessageInfo]
    lock: SessionLock | None = None
    _uidls: dict[int, str] = field(default_factory=dict)
    _stored: dict[int, str] | None = None
    _to_save: dict[int, str] = field(default_factory=dict)
    # what QUIT really deleted: the logout line counts these, not DELEs a dropped client made
    committed_deleted: tuple[int, ...] = ()

    @classmethod
    def open(cls, user: MailUser, settings: Pop3SessionSettings, lock: SessionLock | None = None) -> Pop3MailSession:
        mailbox: Mailbox = user.open_mailbox(INBOX)  # type: ignore[assignment]
        # pop3_no_flag_updates: Dovecot opens INBOX without dropping \Recent, so new/ stays.
        snapshot = mailbox.sync(move_new=False) if settings.no_flag_updates else mailbox.sync()  # type: ignore[call-arg]
        messages = list(snapshot.messages)
        if settings.flag_deleted:
            # messages an earlier session DELE'd by flagging stay hidden from POP3
            messages = [m for m in messages if settings.deleted_flag not in m.keywords]
        return cls(user, mailbox, settings, snapshot.uidvalidity, messages, lock)

    @staticmethod
    def control_dir(user: MailUser) -> str:
        """Where the INBOX's dovecot-uidlist (and the session lock) live."""
        box = user.open_mailbox(INBOX)
        return str(getattr(box, "control_dir", None) or getattr(box, "path", ""))

    # -- Pop3Mailbox --

    def message_count(self) -> int:
        return len(self.messages)

    def message_size(self, index: int) -> int:
        return self.messages[index].vsize

    def message_bytes(self, index: int) -> bytes:
        data = self.mailbox.read(self.messages[index].uid)
        if data is None:
            raise MessageExpunged(index)
        return data

    def message_uidl(self, index: int) -> str:
        info = self.messages[index]
        uidl = self._uidls.get(info.uid)
        if uidl is None:
            uidl = self._make_uidl(info)
            self._uidls[info.uid] = uidl
        return uidl

    def _make_uidl(self, info: MessageInfo) -> str:
        stored = self._stored_uidls().get(info.uid)
        if stored:
            return stored
        header: bytes | None = None
        if self.settings.reuse_xuidl or needs_header(self.settings.uidl_format):
            header = message_header(self.mailbox.read(info.uid) or b"")
            if self.settings.reuse_xuidl:
                found = x_uidl(header)
                if found:
                    return found
        path = self.mailbox.path_of(info.uid) or ""
        filename = os.path.basename(path).split(":", 1)[0] if path else info.guid
        uidl = format_uidl(self.settings.uidl_format, uid=info.uid, uidvalidity=self.uidvalidity,
                           filename=filename, guid=info.guid, header=header)
        if self.settings.save_uidl:
            self._to_save[info.uid] = uidl
        return uidl

    def _stored_uidls(self) -> dict[int, str]:
        if self._stored is None:
            control = getattr(self.mailbox, "control_dir", None)
            self._stored = stored_uidls(control) if control else {}
        return self._stored

    def flush(self) -> None:
        """Write what pop3_save_uidl collected since the last call."""
        control = getattr(self.mailbox, "control_dir", None)
        if self._to_save and control:
            pending, self._to_save = self._to_save, {}
            save_uidls(control, pending)

    # -- QUIT --

    def commit(self, deleted: tuple[int, ...], seen: tuple[int, ...]) -> None:
        """Apply DELE and RETR's \\Seen, as Dovecot does only when the client QUITs."""
        self.flush()
        deleted_uids = [self.messages[i].uid for i in deleted]
        if not self.settings.no_flag_updates:
            seen_uids = [self.messages[i].uid for i in seen if "\\Seen" not in self.messages[i].flags]
            if seen_uids:
                self.mailbox.store(seen_uids, StoreAction.ADD, ("\\Seen",))
        if not deleted_uids:
            return
        self.committed_deleted = tuple(deleted)
        if self.settings.flag_deleted:
            self.mailbox.store(deleted_uids, StoreAction.ADD, (), (self.settings.deleted_flag,))
        else:
            self.mailbox.expunge(deleted_uids)

    def close(self) -> None:
        if self.lock is not None:
            self.lock.release()
            self.lock = None

    # -- the logout line --

    def logout_text(self, conn: Pop3Connection, *, input_bytes: int, output_bytes: int, session_id: str) -> str:
        deleted = self.committed_deleted
        table: dict[str, str | None] = {
            "input": str(input_bytes),
            "output": str(output_bytes),
            "top_count": str(conn.stats.top_count),
            "top_bytes": str(conn.stats.top_bytes),
            "retr_count": str(conn.stats.retr_count),
            "retr_bytes": str(conn.stats.retr_bytes),
            "deleted_count": str(len(deleted)),
            "message_count": str(len(self.messages)),
            "size": str(sum(m.vsize for m in self.messages)),
            "deleted_bytes": str(sum(self.messages[i].vsize for i in deleted)),
            "uidl_change": "",
            "session": session_id,
        }
        return expand(self.settings.logout_format, table, context=LOGOUT_CONTEXT).text

