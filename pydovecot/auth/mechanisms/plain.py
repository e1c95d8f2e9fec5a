"""PLAIN (RFC 4616): authzid NUL authcid NUL password, verified by the passdb."""

from __future__ import annotations

from .base import Mechanism, MechanismInfo, PassdbNeed, SecurityFlag
from .events import Event
from .username import to_text


class PlainMechanism(Mechanism):
    info = MechanismInfo("PLAIN", SecurityFlag.PLAINTEXT, PassdbNeed.VERIFY_PLAIN, allows_nuls=True)

    def _continue(self, data: bytes) -> Event:
        # Dovecot demands exactly two NULs: a third one (inside the password) is invalid input,
        # so no field can contain a NUL.
        parts = data.split(b"\0")
        if len(parts) != 3:
            return self._fail("invalid input")
        authzid, authcid, password = parts
        if authzid == authcid:
            authzid = b""  # asking to be oneself is no authorization request
        error = self.fields.set_username(to_text(authcid), self.context)
        if error is not None:
            return self._fail(error)
        if authzid:
            error = self.fields.set_login_username(to_text(authzid), self.context)
            if error is not None:
                return self._fail("login user: " + error)
        return self._verify_plain(password)
