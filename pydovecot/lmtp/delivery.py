"""Local delivery shared by LMTP and dovecot-lda: trace headers, the target mailbox, the save, the log.

Everything here that touches files is synchronous and runs in :func:`run_as` (the user's
file-system identity, off the event loop). A delivery is reported successful only after the
mailbox's ``append`` returned, i.e. after the file was fsynced and renamed into ``new/`` as
``mail_fsync`` asks: a ``250`` from LMTP or exit code 0 from the LDA means the mail is durable.
"""

from __future__ import annotations

import email.utils
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from pydovecot.storage.mail_user import MailUser

log = logging.getLogger("pydovecot.lmtp")

# Dovecot's MAIL_ERRSTR_CRITICAL_MSG: what a client is told when the storage failed.
CRITICAL_MSG = "Internal error occurred. Refer to server log for more information."


class DeliveryTempFail(RuntimeError):
    """The message could not be stored now; LMTP answers 451, the LDA exits EX_TEMPFAIL."""


@dataclass
class DeliveryResult:
    mailbox: str
    uid: int
    log_lines: list[str] = field(default_factory=list)
    """Info lines (``msgid=...: saved mail to INBOX``) in the order Dovecot writes them."""


def to_lf(data: bytes) -> bytes:
    """CRLF -> LF as Dovecot's Maildir save does (mail_save_crlf = no); bare CRs stay."""
    return data.replace(b"\r\n", b"\n")


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
    ends = [pos for pos in (data.find(b"\n\n"), data.find(b"\n\r\n")) if pos >= 0]
    return data[: min(ends) + 1] if ends else data


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


def rfc822_date(when: float) -> str:
    """``Wed, 25 Nov 2026 18:18:44 +0000``: the date in Received:, local time with its offset."""
    return email.utils.formatdate(when, localtime=True)


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
            autosubscribe: bool = False) -> DeliveryResult:
    """Save ``data`` (already LF, headers added) into ``mailbox``, falling back to INBOX as Dovecot does.

    Synchronous: call through run_as. Raises DeliveryTempFail when even INBOX cannot take it.
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
        uid = box.append(data)
    except Exception as exc:
        raise DeliveryTempFail(f"save to {target}: {exc}") from exc
    lines.append(log_message(fmt, data, sender, f"saved mail to {target}"))
    return DeliveryResult(target, uid, lines)


def _reason(exc: Exception) -> str:
    text = str(exc.args[0]) if isinstance(exc, LookupError) and exc.args else str(exc)
    return text
