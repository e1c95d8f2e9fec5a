"""Signals with their sender, for Dovecot's ``Killed with signal 15 (by pid=1234 uid=0 code=kill)``.

asyncio's signal handlers do not say who sent a signal, so the signals are blocked in every
thread and one helper thread waits for them with sigwaitinfo() and hands them to the loop.
"""

from __future__ import annotations

import asyncio
import signal
import threading
from collections.abc import Callable
from dataclasses import dataclass

WATCHED = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGUSR1)  # USR1: log reopen
_WAKE = signal.SIGUSR2  # sent to the helper thread to end it

# si_code values (Linux) and the words lib-signals.c uses for them.
_CODES = {0: "kill", -1: "sigqueue", -2: "timer", -3: "mesgq", -4: "async", -6: "tkill", 0x80: "kernel"}


@dataclass(frozen=True)
class SignalInfo:
    signum: int
    pid: int
    uid: int
    code: int

    def killed_message(self) -> str:
        code = _CODES.get(self.code, f"unknown({self.code})")
        if self.code <= 0:  # sent by a process: Dovecot names it
            return f"Killed with signal {self.signum} (by pid={self.pid} uid={self.uid} code={code})"
        return f"Killed with signal {self.signum} (code={code})"


class SignalWatcher:
    def __init__(self, loop: asyncio.AbstractEventLoop, callback: Callable[[SignalInfo], None]) -> None:
        self._loop = loop
        self._callback = callback
        self._thread: threading.Thread | None = None
        self._old_mask: set[signal.Signals] | None = None

    def start(self) -> None:
        self._old_mask = signal.pthread_sigmask(signal.SIG_BLOCK, {*WATCHED, _WAKE})
        self._thread = threading.Thread(target=self._run, name="signals", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while True:
            info = signal.sigwaitinfo({*WATCHED, _WAKE})
            if info.si_signo == _WAKE:
                return
            item = SignalInfo(info.si_signo, info.si_pid, info.si_uid, info.si_code)
            try:
                self._loop.call_soon_threadsafe(self._callback, item)
            except RuntimeError:  # loop closed
                return

    def stop(self) -> None:
        if self._thread is not None and self._thread.ident is not None:
            signal.pthread_kill(self._thread.ident, _WAKE)
            self._thread.join(timeout=5)
            self._thread = None
        if self._old_mask is not None:
            signal.pthread_sigmask(signal.SIG_SETMASK, self._old_mask)
            self._old_mask = None
