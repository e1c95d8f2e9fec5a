"""Who runs what: dropping root, and the identity a user's mail is served as.

Two models (docs/process-model.md):
- privilege separation (``separation.py``, the default as root): the master stays root; login
  processes become ``default_login_user``; each user's sessions run in a mail process that has
  become the user's uid/gid for good (``mail_identity`` decides it, ``become`` makes it so);
- one process (``PYDOVECOT_PROCESS_MODEL=single``): a setuid would be for every connection, so
  the whole process drops to ``mail_uid``/``mail_gid`` when they are set (``target_identity``),
  otherwise stays root and storage calls run under the user's file-system uid (storage/access.py).
"""

from __future__ import annotations

import grp
import os
import pwd
from dataclasses import dataclass


@dataclass(frozen=True)
class Identity:
    uid: int
    gid: int
    name: str


def lookup_user(name: str) -> int:
    return int(name) if name.isdigit() else pwd.getpwnam(name).pw_uid


def lookup_group(name: str) -> int:
    return int(name) if name.isdigit() else grp.getgrnam(name).gr_gid


def target_identity(settings: object) -> Identity | None:
    """The uid/gid to run as when started as root, or None to stay as we are."""
    get = settings.get  # type: ignore[attr-defined]
    if os.geteuid() != 0:
        return None
    user = str(get("mail_uid"))
    if not user:
        return None
    uid = lookup_user(user)
    group = str(get("mail_gid"))
    gid = lookup_group(group) if group else pwd.getpwuid(uid).pw_gid
    return Identity(uid, gid, user)


def chown_listener(path: str, user: str, group: str) -> None:
    """A unix/fifo listener's ``user``/``group`` (only root may give files away)."""
    if os.geteuid() != 0 or (not user and not group):
        return
    os.chown(path, lookup_user(user) if user else -1, lookup_group(group) if group else -1)


def drop_privileges(identity: Identity, keep_dirs: list[str]) -> None:
    """Become ``identity`` for good; ``keep_dirs`` (base_dir) are given to it first so that the
    pid file and sockets can still be removed at shutdown."""
    for path in keep_dirs:
        os.chown(path, identity.uid, identity.gid)
    try:
        os.initgroups(pwd.getpwuid(identity.uid).pw_name, identity.gid)
    except KeyError:
        os.setgroups([identity.gid])
    os.setgid(identity.gid)
    os.setuid(identity.uid)


class IdentityError(Exception):
    """The user may not be served under the uid/gid the settings give (Dovecot's wording)."""


def mail_identity(settings: object, fields: dict[str, str]) -> Identity:
    """The uid/gid a user's mail is served as: the userdb's ``uid``/``gid`` fields, else
    ``mail_uid``/``mail_gid``; refused outside first_valid_uid..last_valid_uid (and gid), as
    Dovecot's mail-storage-service does before it drops privileges."""
    get = settings.get  # type: ignore[attr-defined]
    uid_text, uid_source = (fields.get("uid"), "userdb lookup") if fields.get("uid") else \
        (str(get("mail_uid") or ""), "mail_uid setting")
    gid_text, gid_source = (fields.get("gid"), "userdb lookup") if fields.get("gid") else \
        (str(get("mail_gid") or ""), "mail_gid setting")
    if not uid_text:
        raise IdentityError("User is missing UID (see mail_uid setting)")
    try:
        uid = lookup_user(uid_text)
    except KeyError:
        raise IdentityError(f"Unknown UID: {uid_text}") from None
    if not gid_text:
        try:
            gid, gid_source = pwd.getpwuid(uid).pw_gid, "system user"
        except KeyError:
            raise IdentityError("User is missing GID (see mail_gid setting)") from None
    else:
        try:
            gid = lookup_group(gid_text)
        except KeyError:
            raise IdentityError(f"Unknown GID: {gid_text}") from None
    first_uid, last_uid = int(get("first_valid_uid") or 0), int(get("last_valid_uid") or 0)
    if uid < first_uid or (last_uid != 0 and uid > last_uid):
        raise IdentityError(f"Mail access for users with UID {uid} not permitted "
                            f"(see first_valid_uid in config file, uid from {uid_source}).")
    first_gid, last_gid = int(get("first_valid_gid") or 0), int(get("last_valid_gid") or 0)
    if gid < first_gid or (last_gid != 0 and gid > last_gid):
        raise IdentityError(f"Mail access for users with GID {gid} not permitted "
                            f"(see first_valid_gid in config file, gid from {gid_source}).")
    return Identity(uid, gid, uid_text)


def login_identity(settings: object) -> Identity:
    """``default_login_user`` (dovenull): what login processes run as."""
    name = str(settings.get("default_login_user") or "dovenull")  # type: ignore[attr-defined]
    entry = pwd.getpwuid(int(name)) if name.isdigit() else pwd.getpwnam(name)
    return Identity(entry.pw_uid, entry.pw_gid, entry.pw_name)


def become(identity: Identity) -> None:
    """Become ``identity`` for good (a forked child): supplementary groups, gid, then uid; after
    this not even setuid(0) works."""
    os.setgroups([identity.gid])
    os.setgid(identity.gid)
    os.setuid(identity.uid)
    if os.getuid() != identity.uid or os.geteuid() != identity.uid:
        raise OSError("setuid did not take")
    if identity.uid != 0:
        try:
            os.setuid(0)
        except PermissionError:
            return
        raise OSError("root privileges could be regained")
