"""Dropping root after the listeners are bound.

One process cannot switch uid per user (a setuid would be for the whole process, for every
connection), so pydovecot runs all sessions under one uid: ``mail_uid``/``mail_gid`` when they
are set (virtual users under one ``vmail`` account: the seed's setup), otherwise it keeps the
uid it was started with.  Per-user system uids (``userdb`` returning each user's own uid) need
Dovecot's process-per-user model and are not supported.
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
