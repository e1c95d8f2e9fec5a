"""The progress line of a long multi-user command (``doveadm index -A``).

    index: 3/5 users, 6000 msgs, 2512 msg/s, ETA 0:02

On a terminal the line is redrawn in place (``\\r``, at most every ``interval`` seconds); with
-v and no terminal each update is a line of its own. It goes to stderr, so stdout keeps what
real doveadm prints. The ETA extrapolates from the users done so far (a user is the unit of
work); messages/s counts messages indexed since the start.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import IO


@dataclass
class Progress:
    label: str
    total_users: int
    out: IO[str]
    in_place: bool
    interval: float = 0.2
    users_done: int = 0
    messages: int = 0
    started: float = field(default_factory=time.monotonic)
    _last_draw: float = 0.0

    def add_messages(self, count: int) -> None:
        self.messages += count
        self.draw()

    def user_done(self) -> None:
        self.users_done += 1
        self.draw(force=True)

    def line(self) -> str:
        elapsed = max(time.monotonic() - self.started, 1e-6)
        rate = self.messages / elapsed
        text = f"{self.label}: {self.users_done}/{self.total_users} users, {self.messages} msgs, {rate:.0f} msg/s"
        if 0 < self.users_done < self.total_users:
            left = elapsed / self.users_done * (self.total_users - self.users_done)
            text += f", ETA {int(left) // 60}:{int(left) % 60:02d}"
        return text

    def draw(self, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self._last_draw < self.interval:
            return
        self._last_draw = now
        if self.in_place:
            self.out.write("\r" + self.line() + "\x1b[K")
        elif force:  # -v without a terminal: one line per user done, no redraw noise
            self.out.write(self.line() + "\n")
        self.out.flush()

    def finish(self) -> None:
        elapsed = time.monotonic() - self.started
        text = f"{self.line()}, done in {elapsed:.1f}s"
        self.out.write(("\r" + text + "\x1b[K\n") if self.in_place else text + "\n")
        self.out.flush()
