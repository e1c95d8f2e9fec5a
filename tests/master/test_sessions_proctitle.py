"""The session registry (pydovecot.login.sessions) and the process-title rules, without a master."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from pydovecot.login.sessions import Session, SessionRegistry
from pydovecot.master.proctitle import session_suffix, title_for

ROOT = Path(__file__).resolve().parents[2]


class Recorder:
    def __init__(self) -> None:
        self.events: list[tuple[str, str]] = []

    def session_added(self, session: Session) -> None:
        self.events.append(("added", session.ident))

    def session_removed(self, session: Session) -> None:
        self.events.append(("removed", session.ident))

    def session_changed(self, session: Session) -> None:
        self.events.append(("changed", session.state))


def test_registry_life_cycle() -> None:
    registry = SessionRegistry()
    recorder = Recorder()
    registry.add_observer(recorder)
    kicked: list[str] = []
    a = registry.register("imap", "alice", "10.0.0.5", pid=42, kick_callback=lambda: kicked.append("a"))
    b = registry.register("imap", "alice", "10.0.0.5", kick_callback=lambda: kicked.append("b"))
    lmtp = registry.register("lmtp", "bob", None)
    assert (a.ident, lmtp.ident, a.pid) == ("imap/10.0.0.5/alice", "lmtp/bob", 42)
    a.set_state("IDLE")
    assert registry.kick_ident("imap/10.0.0.5/alice") == 2 and kicked == ["a", "b"]
    assert registry.kick_ident("imap/10.0.0.6/alice") == 0
    a.unregister()
    a.unregister()  # idempotent
    assert registry.sessions == [b, lmtp]
    assert recorder.events == [("added", "imap/10.0.0.5/alice"), ("added", "imap/10.0.0.5/alice"),
                               ("added", "lmtp/bob"), ("changed", "IDLE"), ("removed", "imap/10.0.0.5/alice")]
    registry.reset()
    assert registry.sessions == [] and registry.observers == []


def test_title_rules() -> None:
    registry = SessionRegistry()
    assert title_for("imap-login", [], verbose=True) == "dovecot/imap-login"
    one = registry.register("imap", "django@nausch.org", "109.43.1.83")
    assert title_for("imap-login", [one], verbose=False) == "dovecot/imap"
    assert title_for("imap-login", [one], verbose=True) == "dovecot/imap [django@nausch.org 109.43.1.83]"
    one.set_state("IDLE")
    assert session_suffix([one]) == "[django@nausch.org 109.43.1.83 IDLE]"
    two = registry.register("pop3", "x", None)
    assert title_for("master", [one, two], verbose=True) == "dovecot/master [2 connections]"
    assert title_for("wecho", [one, two], verbose=True) == "dovecot/wecho [2 connections]"


def test_prctl_fallback_without_setproctitle() -> None:
    """Without the package the thread name (comm, 15 bytes) still says who we are."""
    code = (
        "import sys; sys.modules['setproctitle'] = None\n"
        "from pydovecot.master.proctitle import set_title\n"
        "set_title('dovecot/imap [alice 10.0.0.5]')\n"
        "print(open('/proc/self/comm').read().strip())\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=30, cwd=ROOT)
    assert result.stdout.strip() == "dovecot/imap [a"
