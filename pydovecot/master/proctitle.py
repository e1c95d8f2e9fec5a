"""Process titles as Dovecot shows them in ps: ``dovecot/pop3 [alice 10.0.0.5]``.

Dovecot names each process after its service (``dovecot/imap``, ``dovecot/pop3-login``) and, with
``verbose_proctitle = yes``, adds what the process is doing: one client's user, IP and command
(``dovecot/imap [django@nausch.org 109.43.1.83 IDLE]``), or ``[N connections]`` when it serves
several.  Our processes serve many sessions, so the title follows the same rule over the
sessions of ``pydovecot.login.sessions``: none -> the plain name, one -> that session, more ->
the count.

The title is set with the ``setproctitle`` package (it rewrites the argv area, so
/proc/<pid>/cmdline and ps show it); without it, prctl(PR_SET_NAME) at least renames the thread
(``ps -o comm``, 15 bytes).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os

from pydovecot.login.sessions import REGISTRY, Session, SessionRegistry

_PR_SET_NAME = 15


def set_title(title: str) -> None:
    try:
        import setproctitle
    except ImportError:
        _prctl_name(title)
        return
    setproctitle.setproctitle(title)


def _prctl_name(title: str) -> None:
    name = ctypes.util.find_library("c")
    if name is None:
        return
    libc = ctypes.CDLL(name, use_errno=True)
    libc.prctl(_PR_SET_NAME, ctypes.c_char_p(title.encode()[:15]), 0, 0, 0)


def session_suffix(sessions: list[Session]) -> str:
    """The ``[...]`` part of a verbose title (empty when no session is logged in)."""
    if not sessions:
        return ""
    if len(sessions) == 1:
        session = sessions[0]
        parts = [session.user, session.remote_ip or "", session.state]
        return "[" + " ".join(p for p in parts if p) + "]"
    return f"[{len(sessions)} connections]"


def title_for(name: str, sessions: list[Session], *, verbose: bool) -> str:
    """``name`` is the process's service; a process whose sessions are all of one protocol
    is named after it (a pop3-login worker serving a logged-in user shows ``dovecot/pop3``)."""
    services = {s.service for s in sessions}
    if len(services) == 1 and name != "master":
        name = services.pop()
    base = f"dovecot/{name}"
    suffix = session_suffix(sessions) if verbose else ""
    return f"{base} {suffix}" if suffix else base


class ProcTitle:
    """Keeps this process's title current as sessions come and go (a SessionObserver)."""

    def __init__(self, name: str, *, verbose: bool, registry: SessionRegistry = REGISTRY) -> None:
        self.name = name
        self.verbose = verbose
        self.registry = registry
        self.pid = os.getpid()

    def install(self) -> None:
        self.registry.add_observer(self)
        self.refresh()

    def uninstall(self) -> None:
        self.registry.remove_observer(self)

    def refresh(self) -> None:
        set_title(title_for(self.name, self.registry.sessions, verbose=self.verbose))

    def session_added(self, session: Session) -> None:
        self.refresh()

    def session_removed(self, session: Session) -> None:
        self.refresh()

    def session_changed(self, session: Session) -> None:
        self.refresh()
