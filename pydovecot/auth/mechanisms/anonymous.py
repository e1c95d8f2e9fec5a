"""ANONYMOUS (RFC 4505): anyone may log in as auth_anonymous_username; the trace is only logged."""

from __future__ import annotations

from .base import Mechanism, MechanismInfo, PassdbNeed, SecurityFlag
from .events import Event, MechanismLog, Success
from .username import to_text


class AnonymousMechanism(Mechanism):
    info = MechanismInfo("ANONYMOUS", SecurityFlag.ANONYMOUS, PassdbNeed.NOTHING, allows_nuls=True)

    def _continue(self, data: bytes) -> Event:
        # Dovecot logs the trace as if it were the user (cut at a NUL, as a C string is).
        trace = to_text(data.split(b"\0", 1)[0])
        self._log.append(MechanismLog("info", "login", trace))
        self.fields.user = self.context.anonymous_username
        return Success(self.context.anonymous_username)
