"""EXTERNAL (RFC 4422 appendix A): the TLS client certificate names the user.

The username comes only from the request context (cert_username, which the service sets when
auth_ssl_username_from_cert = yes). The client's message is an optional authzid. The passdb is
asked to verify an empty password, so the user's passdb entry needs `nopassword`."""

from __future__ import annotations

from .base import Mechanism, MechanismInfo, PassdbNeed, SecurityFlag
from .events import Event
from .username import to_text


class ExternalMechanism(Mechanism):
    info = MechanismInfo("EXTERNAL", SecurityFlag.NONE, PassdbNeed.VERIFY_PLAIN)

    def _continue(self, data: bytes) -> Event:
        if self.fields.user is None:
            return self._fail("username not known")
        # Setting an empty name re-applies the username rules to the certificate's name.
        if self.fields.set_username("", self.context) is not None:
            return self._fail("Invalid username")
        if data:
            error = self.fields.set_login_username(to_text(data), self.context)
            if error is not None:
                return self._fail("login user: " + error)
        return self._verify_plain(b"")
