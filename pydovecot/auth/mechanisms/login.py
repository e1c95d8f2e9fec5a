"""LOGIN (draft-murchison-sasl-login): "Username:" and "Password:" prompts, then a passdb check."""

from __future__ import annotations

from .base import Mechanism, MechanismInfo, PassdbNeed, SecurityFlag
from .events import Challenge, Event
from .username import to_text

USERNAME_PROMPT = b"Username:"
PASSWORD_PROMPT = b"Password:"


class LoginMechanism(Mechanism):
    info = MechanismInfo("LOGIN", SecurityFlag.PLAINTEXT, PassdbNeed.VERIFY_PLAIN)

    def _initial(self, data: bytes | None) -> Event:
        # An empty initial response counts as none here (unlike PLAIN): prompt for the name.
        if not data:
            return Challenge(USERNAME_PROMPT)
        return self._continue(data)

    def _continue(self, data: bytes) -> Event:
        # Dovecot asks "is a username set yet?", so a username taken from the client
        # certificate makes the first message the password.
        if self.fields.user is None:
            error = self.fields.set_username(to_text(data), self.context)
            if error is not None:
                return self._fail(error)
            return Challenge(PASSWORD_PROMPT)
        return self._verify_plain(data)
