"""The auth process's two line protocols as sans-I/O state machines (bytes in, events out).

* `client_protocol.ClientConnection`: the auth client protocol (`auth-client`, `auth-login`):
  what Postfix's `smtpd_sasl_type = dovecot` and the login processes speak.
* `master_protocol.MasterConnection`: the master/userdb protocol (`auth-master`, `auth-userdb`):
  USER, PASS, LIST, CACHE-FLUSH and the login handoff REQUEST.

Neither touches a socket: feed `receive_data(bytes)`, act on the returned events, call the
`send_*` methods and write `data_to_send()`. `pydovecot.auth.service` drives them on asyncio.
"""

from __future__ import annotations

from .fields import AuthField, AuthFields
from .linebuffer import LineBuffer, LineTooLong
from .tabescape import tab_escape, tab_unescape

__all__ = ["AuthField", "AuthFields", "LineBuffer", "LineTooLong", "tab_escape", "tab_unescape"]
