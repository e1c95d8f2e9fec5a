"""Server-side SASL mechanisms as sans-I/O state machines, behaving as Dovecot 2.3.19's auth.

    mech = create_mechanism("PLAIN", AuthRequestContext(remote_ip="192.0.2.1"))
    event = mech.start(initial_response)          # bytes, b"" or None
    while not mech.finished:
        if isinstance(event, Challenge):
            event = mech.receive(client_answer(event.data))
        elif isinstance(event, VerifyPlain | LookupCredentials):
            event = mech.passdb_reply(passdb_answer(event))
    # event is now Success or Failure; mech.drain_log() has the mechanism's log lines

See events.py for the events, each mechanism's module for the credentials it consumes.
"""

from __future__ import annotations

from .base import Mechanism, MechanismInfo, MechanismStateError, PassdbNeed, SecurityFlag
from .context import DEFAULT_USERNAME_CHARS, AuthRequestContext, UsernameRules, ascii_lower
from .events import (
    Challenge,
    Event,
    Failure,
    LookupCredentials,
    MechanismLog,
    PassdbReply,
    PassdbResult,
    Success,
    VerifyPlain,
)
from .registry import (
    MECHANISMS,
    MechanismConfigError,
    PassdbCapabilities,
    configured_mechanisms,
    create_mechanism,
    find_mechanism,
    handshake_mech_lines,
)
from .username import RequestFields, fix_username, str_sanitize

__all__ = [
    "DEFAULT_USERNAME_CHARS",
    "MECHANISMS",
    "AuthRequestContext",
    "Challenge",
    "Event",
    "Failure",
    "LookupCredentials",
    "Mechanism",
    "MechanismConfigError",
    "MechanismInfo",
    "MechanismLog",
    "MechanismStateError",
    "PassdbCapabilities",
    "PassdbNeed",
    "PassdbReply",
    "PassdbResult",
    "RequestFields",
    "SecurityFlag",
    "Success",
    "UsernameRules",
    "VerifyPlain",
    "ascii_lower",
    "configured_mechanisms",
    "create_mechanism",
    "find_mechanism",
    "fix_username",
    "handshake_mech_lines",
    "str_sanitize",
]
