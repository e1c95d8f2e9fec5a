"""Local delivery shared by LMTP and dovecot-lda: trace headers, the target mailbox, the save, the log.

Everything here that touches files is synchronous and runs with the user's file-system
identity (:func:`call_as`), from LMTP through ``LmtpService.storage_call`` (a storage thread, or
the loop of an lmtp worker process serving one session). A delivery is reported successful only
after the mailbox's ``append`` returned, i.e. after the file was fsynced and renamed into
``new/`` and ``new/`` fsynced as ``mail_fsync`` asks: a ``250`` from LMTP or exit code 0 from the
LDA means the mail is durable (its UID may still be to come: see ``maildir/save.py``).
"""

from __future__ import annotations

import email.utils
import errno
import logging
import os
import re
import stat
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from pydovecot.storage.interface import MailboxError
from pydovecot.storage.mail_user import MailUser
from pydovecot.storage.mailbox import MaildirIndexedMailbox
from pydovecot.storage.maildir import permissions
from pydovecot.storage.maildir.filename import base_name
from pydovecot.storage.maildir.save import save_hardlink, save_message_full, uids_optional, virtual_size

log = logging.getLogger("pydovecot.lmtp")

# Dovecot's MAIL_ERRSTR_CRITICAL_MSG: what a client is told when the storage failed.
CRITICAL_MSG = "Internal error occurred. Refer to server log for more information."


class DeliveryTempFail(RuntimeError):
    """The message could not be stored now; LMTP answers 451, the LDA exits EX_TEMPFAIL."""


# The MailboxError code of a save refused for the user's quota (Dovecot's MAIL_ERROR_NOQUOTA).
OVERQUOTA = "OVERQUOTA"


class DeliveryOverQuota(RuntimeError):
    """The recipient's quota refused the message: LMTP answers ``552 5.2.2`` (``452 4.2.2`` with
    ``quota_full_tempfail``) with the quota's message; ``log_lines`` say what was tried."""

    def __init__(self, message: str, log_lines: list[str], rejected_line: str = "") -> None:
        super().__init__(message)
        self.log_lines = log_lines
        self.rejected_line = rejected_line
        """deliver_log_format's line for a rejected message (dovecot-lda -e logs it)."""


@runtime_checkable
class SaveLimiter(Protocol):
    """A mail plugin that limits saves (the quota plugin): ``check_save`` raises a MailboxError
    with code OVERQUOTA when ``size`` more bytes may not go into ``vname``."""

    def check_save(self, vname: str, size: int, count: int = 1) -> None: ...


def over_quota(user: MailUser) -> str | None:
    """``lmtp_rcpt_check_quota``: the refusal text when the user's INBOX is already full, i.e.
    not even one more byte fits (Dovecot's STATUS_CHECK_OVER_QUOTA); None when it is not.

    Synchronous, as the user (``call_as``)."""
    for plugin in user.plugins:
        if isinstance(plugin, SaveLimiter):
            try:
                plugin.check_save("INBOX", 1)
            except MailboxError as exc:
                if exc.code == OVERQUOTA:
                    return str(exc)
                raise
    return None


@dataclass(frozen=True)
class SavedFile:
    """A delivered message's file, which the transaction's later recipients copy (Dovecot keeps
    the first saved mail and copies it: hard links with ``maildir_copy_with_hardlinks``)."""

    path: str
    base: str
    """The base name without ``,S=``/``,W=`` (the message's GUID): the copies keep it."""
    crlf: bool = False
    """Stored with CRLF line ends (``mail_save_crlf``): linked only where copies are stored so."""


@dataclass
class DeliveryResult:
    mailbox: str
    uid: int
    log_lines: list[str] = field(default_factory=list)
    """Info lines (``msgid=...: saved mail to INBOX``) in the order Dovecot writes them."""
    saved: SavedFile | None = None
    """The file, when asked for (``keep_file``) and the mailbox is a Maildir."""


# A CR that does not begin a CRLF (the last byte is checked apart).
_BARE_CR = re.compile(rb"\r[^\n]")


def to_lf(data: bytes) -> bytes:
    """CRLF -> LF as Dovecot's Maildir save does (mail_save_crlf = no); bare CRs stay.

    Where every CR begins a CRLF (nearly all mail), deleting the CRs is the same and several
    times faster than a replace, which searches for each of the message's line ends anew."""
    if b"\r" not in data:
        return data
    if data.endswith(b"\r") or _BARE_CR.search(data) is not None:
        return data.replace(b"\r\n", b"\n")
    return data.translate(None, b"\r")


def header_value(data: bytes, name: str) -> str | None:
    """The first ``name:`` header's unfolded value from the header section, or None."""
    wanted = name.lower().encode() + b":"
    lines = _header_section(data).split(b"\n", 2000)
    for pos, line in enumerate(lines):
        line = line.rstrip(b"\r")
        if not line:
            return None
        if line.lower().startswith(wanted):
            value = line[len(wanted):]
            for cont in lines[pos + 1:]:
                cont = cont.rstrip(b"\r")
                if cont[:1] not in (b" ", b"\t"):
                    break
                value += b" " + cont.strip()
            return value.strip().decode("utf-8", "replace")
    return None


def _header_section(data: bytes) -> bytes:
    """The bytes up to the first empty line (the search for a header stops there anyway): the
    lookups below then never split or scan a large body."""
    if data[:1] == b"\n" or data[:2] == b"\r\n":
        return b""
    end = data.find(b"\n\n")
    # A CRLF blank line can only end the headers before the first LF one: never scan past it
    # (stored mail is LF, and a search for "\n\r\n" would otherwise read the whole body).
    crlf = data.find(b"\n\r\n", 0, len(data) if end < 0 else end + 2)
    if crlf >= 0:
        end = crlf
    return data[: end + 1] if end >= 0 else data


def log_message(fmt: str, data: bytes, sender: str, what: str) -> str:
    """deliver_log_format expanded: %m message-id, %s subject, %f from, %p size, %$ the event.

    Each value is computed only when the format names it (the default asks for %m and %$)."""
    table: dict[str, Callable[[], str]] = {
        "m": lambda: header_value(data, "Message-ID") or "unspecified",
        "s": lambda: header_value(data, "Subject") or "",
        "f": lambda: header_value(data, "From") or "",
        "e": lambda: sender,
        "p": lambda: str(len(data)),
        "w": lambda: str(len(data) + data.count(b"\n") - data.count(b"\r\n")),
        "$": lambda: what,
        "%": lambda: "%",
    }
    out: list[str] = []
    pos = 0
    while pos < len(fmt):
        char = fmt[pos]
        if char == "%" and pos + 1 < len(fmt) and fmt[pos + 1] in table:
            out.append(table[fmt[pos + 1]]())
            pos += 2
        else:
            out.append(char)
            pos += 1
    return "".join(out)


_last_date: tuple[int, str] = (-1, "")


def rfc822_date(when: float) -> str:
    """``Wed, 25 Nov 2026 18:18:44 +0000``: the date in Received:, local time with its offset.

    The last second's text is kept: a busy server stamps many messages within one second, and
    the formatting (a timezone conversion) costs more than the rest of the trace headers."""
    global _last_date
    second = int(when)
    cached = _last_date
    if cached[0] == second:
        return cached[1]
    text = email.utils.formatdate(second, localtime=True)
    _last_date = (second, text)
    return text


@dataclass(frozen=True)
class TraceInfo:
    """What the LMTP trace headers say about one transaction."""

    sender: str
    helo: str
    remote_ip: str | None
    hostname: str
    transaction_id: str
    when: float = field(default_factory=time.time)


def trace_headers(trace: TraceInfo, *, delivered_to: str | None, received: bool,
                  for_address: str | None) -> bytes:
    """Return-Path, Delivered-To and Received in Dovecot's order and folding (LF line ends)."""
    lines = [f"Return-Path: <{trace.sender}>"]
    if delivered_to is not None:
        lines.append(f"Delivered-To: {delivered_to}")
    if received:
        lines.append(f"Received: from {trace.helo} ([{trace.remote_ip}])" if trace.remote_ip
                     else f"Received: from {trace.helo}")
        lines.append(f"\tby {trace.hostname} with LMTP")
        lines.append(f"\tid {trace.transaction_id}")
        date = rfc822_date(trace.when)
        if for_address is not None:
            lines.append(f"\t(envelope-from <{trace.sender}>)")
            lines.append(f"\tfor <{for_address}>; {date}")
        else:
            lines.append(f"\t(envelope-from <{trace.sender}>); {date}")
    return ("\n".join(lines) + "\n").encode("utf-8", "surrogateescape")


def deliver(user: MailUser, mailbox: str, data: bytes, *, sender: str, autocreate: bool = False,
            autosubscribe: bool = False, copy_of: SavedFile | None = None,
            keep_file: bool = False) -> DeliveryResult:
    """Save ``data`` (already LF, headers added) into ``mailbox``, falling back to INBOX as Dovecot does.

    ``copy_of``: the same message as already saved for an earlier recipient: the copy keeps its
    base name and is a hard link of it when the mailbox's settings and permissions allow.
    ``keep_file``: report the saved file (for such copies). Synchronous: call through run_as.
    Raises DeliveryTempFail when even INBOX cannot take it.
    """
    fmt = user.settings.str("deliver_log_format") or "msgid=%m: %$"
    lines: list[str] = []
    target = mailbox or "INBOX"
    if target.upper() != "INBOX":
        try:
            if autocreate and not user.mailbox_exists(target):
                ns, storage = user.resolve(target)
                ns.mailbox_list.create(storage)
                if autosubscribe:
                    ns.mailbox_list.subscribe(storage)
            box = user.open_mailbox(target)
        except Exception as exc:  # noqa: BLE001 - any failure to open falls back to INBOX
            lines.append(log_message(fmt, data, sender, f"save failed to open mailbox {target}: {_reason(exc)}"))
            target = "INBOX"
    if target.upper() == "INBOX":
        target = "INBOX"
        try:
            box = user.open_mailbox("INBOX")
        except Exception as exc:
            raise DeliveryTempFail(f"open INBOX: {exc}") from exc
    try:
        if copy_of is not None and isinstance(box, MaildirIndexedMailbox):
            uid = _save_copy(user, box, data, copy_of)
        elif not keep_file and not user.plugins and isinstance(box, MaildirIndexedMailbox):
            # Nobody needs the new UID (Dovecot's delivery saves without ASSIGN_UIDS unless it
            # keeps the mail for copies): a uidlist locked by another process is not waited for.
            # Not with mail plugins, which may report the UID (mail_log).
            with uids_optional():
                uid = box.append(data)
        else:
            uid = box.append(data)
    except MailboxError as exc:
        if exc.code != OVERQUOTA:
            raise DeliveryTempFail(f"save to {target}: {exc}") from exc
        lines.append(log_message(fmt, data, sender, f"save failed to {target}: {exc}"))
        raise DeliveryOverQuota(str(exc), lines, log_message(fmt, data, sender, f"rejected: {exc}")) from exc
    except Exception as exc:
        raise DeliveryTempFail(f"save to {target}: {exc}") from exc
    lines.append(log_message(fmt, data, sender, f"saved mail to {target}"))
    saved = None
    # Only a plugin-free mailbox's file holds the message's own bytes (zlib stores others).
    if keep_file and isinstance(box, MaildirIndexedMailbox):
        try:
            path = box.path_of(uid)
        except OSError:
            path = None  # saved all the same; the later recipients just get their own file
        if path is not None:
            saved = SavedFile(path, base_name(os.path.basename(path)).partition(",")[0], box.save_crlf)
    return DeliveryResult(target, uid, lines, saved)


def _save_copy(user: MailUser, box: MaildirIndexedMailbox, data: bytes, source: SavedFile) -> int:
    """One more recipient's copy of a message saved already (``box`` is plugin-free: no plugin
    needs to see this save). A hard link when ``maildir_copy_with_hardlinks`` allows and the
    file is as this user would create it (owner, group, mode: Dovecot's
    ``mail_storage_copy_can_use_hardlink``), else the bytes under the same base name."""
    stored = box.saved_form(data)
    size, vsize = len(stored), virtual_size(stored)
    options: dict[str, Any] = {
        "fsync": box.fsync, "control_dir": box.control_dir, "uidvalidity_dir": box.uidvalidity_dir,
        "privileged_gid": box.privileged_gid, "basename": source.base,
    }
    if box.copy_with_hardlinks and box.save_crlf == source.crlf and _same_permissions(user, box, source.path):
        try:
            return save_hardlink(box.path, source.path, size=size, vsize=vsize, **options).uid
        except OSError as exc:
            if exc.errno not in (errno.EXDEV, errno.EPERM, errno.EMLINK, errno.EACCES, errno.ENOENT):
                raise
    return save_message_full(box.path, stored, **options).uid


def _same_permissions(user: MailUser, box: MaildirIndexedMailbox, source: str) -> bool:
    try:
        st = os.stat(source)
        perms = permissions.of_directory(box.path, privileged_gid=box.privileged_gid)
        folder = os.stat(box.path)
    except OSError:
        return False
    owner = user.uid if user.uid is not None else os.geteuid()
    if perms.gid is not None:
        group = perms.gid
    elif folder.st_mode & stat.S_ISGID:
        group = folder.st_gid
    else:
        group = user.gid if user.gid is not None else os.getegid()
    return st.st_uid == owner and st.st_gid == group and stat.S_IMODE(st.st_mode) == perms.file_mode


def _reason(exc: Exception) -> str:
    text = str(exc.args[0]) if isinstance(exc, LookupError) and exc.args else str(exc)
    return text
