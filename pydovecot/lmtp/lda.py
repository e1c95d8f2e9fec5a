"""dovecot-lda: deliver one message from stdin (or ``-p path``) to a user, with Dovecot's exit codes.

Like Dovecot's LDA it adds no trace headers (the MTA that runs it already did), logs
``lda(user)<pid><session>: Info: msgid=...: saved mail to INBOX`` to log_path, and exits
0 once the mail is durable, EX_NOUSER (67) for an unknown user and EX_TEMPFAIL (75) for
anything that may work later (storage or userdb failures, a bad configuration).
"""

from __future__ import annotations

import asyncio
import getopt
import os
import pwd
import sys
from dataclasses import dataclass, field
from typing import Any

from pydovecot.auth.backend import service_from_settings
from pydovecot.auth.service import RequestInfo, UserdbResult
from pydovecot.config import load, load_for_doveadm
from pydovecot.log import Log
from pydovecot.storage.access import call_as
from pydovecot.storage.mail_user import create_mail_user

from .delivery import DeliveryOverQuota, DeliveryTempFail, deliver, to_lf
from .session_id import new_delivery_session_id
from .userdb import lookup_user

EX_OK = 0
EX_USAGE = 64
EX_NOUSER = 67
EX_TEMPFAIL = 75
EX_NOPERM = 77
DEFAULT_CONFIG = "/etc/dovecot/dovecot.conf"
USAGE = ("Usage: dovecot-lda [-c <config file>] [-a <address>] [-d <username>] [-p <path>]\n"
         "                    [-m <mailbox>] [-e] [-k] [-f <envelope sender>]\n"
         "                    [-r <final recipient address>] [-o <setting=value>]\n")


@dataclass
class Options:
    config: str = DEFAULT_CONFIG
    user: str | None = None
    sender: str | None = None
    original_address: str | None = None
    final_address: str | None = None
    mailbox: str = "INBOX"
    path: str | None = None
    stderr_errors: bool = False
    overrides: list[tuple[str, str]] = field(default_factory=list)


def parse_args(argv: list[str]) -> Options:
    opts, rest = getopt.getopt(argv, "a:c:d:ef:km:no:p:r:s")
    if rest:
        raise getopt.GetoptError(f"Unknown argument: {rest[0]}")
    out = Options()
    for flag, value in opts:
        match flag:
            case "-c":
                out.config = value
            case "-d":
                out.user = value
            case "-f":
                out.sender = value
            case "-a":
                out.original_address = value
            case "-r":
                out.final_address = value
            case "-m":
                out.mailbox = value
            case "-p":
                out.path = value
            case "-e":
                # Errors go to the caller as exit codes instead of a bounce; we never bounce yet.
                out.stderr_errors = True
            case "-o":
                name, _, setting = value.partition("=")
                out.overrides.append((name, setting))
    return out


def read_message(opts: Options) -> bytes:
    if opts.path:
        with open(opts.path, "rb") as f:
            data = f.read()
    else:
        data = sys.stdin.buffer.read()
    if data.startswith(b"From "):
        # An mbox separator line from the MTA: its address is the envelope sender.
        first, _, data = data.partition(b"\n")
        if opts.sender is None:
            words = first.split()
            opts.sender = words[1].decode("utf-8", "replace") if len(words) > 1 else None
    return data


def _fatal(message: str, code: int) -> int:
    sys.stderr.write(f"lda({os.getpid()}): Fatal: {message}\n")
    return code


def main(argv: list[str] | None = None) -> int:
    try:
        opts = parse_args(sys.argv[1:] if argv is None else argv)
    except getopt.GetoptError as exc:
        sys.stderr.write(f"{exc}\n{USAGE}")
        return EX_USAGE
    try:
        tree = load_for_doveadm(opts.config, opts.overrides) if opts.overrides else load(opts.config)
    except Exception as exc:  # noqa: BLE001 - any config problem is Dovecot's "Fatal", exit 75
        return _fatal(f"Error reading configuration: {exc}", EX_TEMPFAIL)
    data = to_lf(read_message(opts))
    return asyncio.run(_deliver(tree, opts, data))


async def _lookup(tree: object, username: str) -> tuple[UserdbResult, str, dict[str, str]]:
    auth = service_from_settings(tree.lookup(service="auth"))  # type: ignore[attr-defined]
    answer = await lookup_user(auth, username, RequestInfo(service="lda"))
    return answer.result, answer.user, answer.fields


async def _deliver(tree: object, opts: Options, data: bytes) -> int:
    node = tree.lookup(service="lda")  # type: ignore[attr-defined]
    log = Log.from_settings(node)
    session = new_delivery_session_id()
    try:
        if opts.user is not None:
            result, username, fields = await _lookup(tree, opts.user)
            if result is UserdbResult.USER_UNKNOWN:
                return EX_NOUSER
            if result is not UserdbResult.OK:
                log.for_user("lda", opts.user, pid=os.getpid(), session=session).error("userdb lookup failed")
                return EX_TEMPFAIL
        else:
            # Without -d the LDA delivers to the invoking user from the passwd database.
            entry = pwd.getpwuid(os.getuid())
            username = entry.pw_name
            fields = {"uid": str(entry.pw_uid), "gid": str(entry.pw_gid), "home": entry.pw_dir}
        user_log = log.for_user("lda", username, pid=os.getpid(), session=session)
        try:
            user = create_mail_user(node, username, fields, service="lda")
            outcome = call_as(user.uid, user.gid, _save, user, opts, data)
        except DeliveryOverQuota as exc:
            return _over_quota(exc, opts, node, user_log)
        except (DeliveryTempFail, Exception) as exc:  # noqa: BLE001 - storage failures are temporary
            user_log.error(str(exc))
            return EX_TEMPFAIL
        for line in outcome:
            user_log.info(line)
        return EX_OK
    finally:
        log.sink.close()


def _over_quota(exc: DeliveryOverQuota, opts: Options, node: object, user_log: Any) -> int:
    """As dovecot-lda: the quota's message on stderr; with quota_full_tempfail "try again later"
    (75); with -e a permanent failure the caller reports (77, logged as rejected). Without -e
    Dovecot sends a bounce itself; we send none and ask the MTA to retry (75) instead."""
    for line in exc.log_lines:
        user_log.info(line)
    sys.stderr.write(f"{exc}\n")
    if node.get("quota_full_tempfail") or not opts.stderr_errors:  # type: ignore[attr-defined]
        return EX_TEMPFAIL
    user_log.info(exc.rejected_line)
    return EX_NOPERM


def _save(user: object, opts: Options, data: bytes) -> list[str]:
    result = deliver(user, opts.mailbox, data, sender=opts.sender or "",  # type: ignore[arg-type]
                     autocreate=bool(user.settings.get("lda_mailbox_autocreate")),  # type: ignore[attr-defined]
                     autosubscribe=bool(user.settings.get("lda_mailbox_autosubscribe")))  # type: ignore[attr-defined]
    return result.log_lines
