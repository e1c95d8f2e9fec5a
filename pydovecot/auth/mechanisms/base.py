"""The mechanism state machine shared by every SASL mechanism, and what a mechanism declares."""

from __future__ import annotations

import enum
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import ClassVar

from .context import AuthRequestContext
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
from .username import RequestFields


class SecurityFlag(enum.Flag):
    """Dovecot's mech_security_flags; the MECH line of the auth client handshake lists them."""

    NONE = 0
    PRIVATE = enum.auto()
    ANONYMOUS = enum.auto()
    PLAINTEXT = enum.auto()
    DICTIONARY = enum.auto()
    ACTIVE = enum.auto()
    FORWARD_SECRECY = enum.auto()
    MUTUAL_AUTH = enum.auto()


# The order Dovecot writes them on a MECH line.
MECH_LINE_FLAGS: tuple[tuple[SecurityFlag, str], ...] = (
    (SecurityFlag.PRIVATE, "private"),
    (SecurityFlag.ANONYMOUS, "anonymous"),
    (SecurityFlag.PLAINTEXT, "plaintext"),
    (SecurityFlag.DICTIONARY, "dictionary"),
    (SecurityFlag.ACTIVE, "active"),
    (SecurityFlag.FORWARD_SECRECY, "forward-secrecy"),
    (SecurityFlag.MUTUAL_AUTH, "mutual-auth"),
)


class PassdbNeed(enum.Enum):
    """What a mechanism asks of the passdbs (Dovecot's mech_passdb_need)."""

    NOTHING = "nothing"  # ANONYMOUS
    VERIFY_PLAIN = "verify_plain"  # PLAIN, LOGIN, EXTERNAL: any passdb can check a password
    VERIFY_RESPONSE = "verify_response"  # CRAM-MD5: needs a passdb that can return credentials
    LOOKUP_CREDENTIALS = "lookup_credentials"  # DIGEST-MD5, SCRAM-*

    @property
    def needs_credentials(self) -> bool:
        return self in (PassdbNeed.VERIFY_RESPONSE, PassdbNeed.LOOKUP_CREDENTIALS)


@dataclass(frozen=True)
class MechanismInfo:
    name: str
    flags: SecurityFlag
    passdb_need: PassdbNeed
    # The password scheme whose credentials it looks up (None: it verifies plaintext or nothing).
    credentials_scheme: str | None = None
    # Dovecot fails any client message containing NUL unless the mechanism's syntax uses NULs.
    allows_nuls: bool = False

    def mech_line(self) -> str:
        """This mechanism's line in the auth client handshake (without the newline)."""
        return "\t".join(["MECH", self.name] + [name for flag, name in MECH_LINE_FLAGS if flag in self.flags])


class MechanismStateError(RuntimeError):
    """The driver called the mechanism out of turn (a bug in the driver, never client input)."""


class _State(enum.Enum):
    NEW = "new"
    WAITING_CLIENT = "waiting_client"
    WAITING_PASSDB = "waiting_passdb"
    DONE = "done"


class Mechanism(ABC):
    """One authentication attempt. Drive it with start(), receive() and passdb_reply().

    Each call returns exactly one event (see events.py). `fields` holds the usernames as
    Dovecot's auth_request would, for the driver's replies and log prefixes; `drain_log()`
    hands over the lines the mechanism logged (Dovecot logs them as `<mech>(<user>,<rip>): ...`).
    """

    info: ClassVar[MechanismInfo]

    def __init__(self, context: AuthRequestContext) -> None:
        self.context = context
        self.fields = RequestFields.for_request(context)
        self._log: list[MechanismLog] = []
        self._state = _State.NEW

    # --- the driver's side ---------------------------------------------------------------------

    @property
    def finished(self) -> bool:
        return self._state is _State.DONE

    @property
    def waiting_for_passdb(self) -> bool:
        return self._state is _State.WAITING_PASSDB

    def start(self, initial_response: bytes | None = None) -> Event:
        """Begin; `initial_response` is the SASL-IR (b"" for an empty one, None for none)."""
        self._expect(_State.NEW)
        if initial_response is not None and self._has_forbidden_nul(initial_response):
            return self._emit(self._unexpected_nul())
        return self._emit(self._initial(initial_response))

    def receive(self, data: bytes) -> Event:
        """The client's answer to the last Challenge (already base64-decoded)."""
        self._expect(_State.WAITING_CLIENT)
        if self._has_forbidden_nul(data):
            return self._emit(self._unexpected_nul())
        return self._emit(self._continue(data))

    def passdb_reply(self, reply: PassdbReply) -> Event:
        """The passdb's answer to the last VerifyPlain or LookupCredentials."""
        self._expect(_State.WAITING_PASSDB)
        if reply.user is not None and reply.result is PassdbResult.OK:
            self.fields.user = reply.user
        return self._emit(self._passdb(reply))

    def drain_log(self) -> list[MechanismLog]:
        lines, self._log = self._log, []
        return lines

    # --- what each mechanism implements ----------------------------------------------------------

    def _initial(self, data: bytes | None) -> Event:
        """Dovecot's mech_generic_auth_initial: no initial response asks for one with an empty
        challenge; an initial response, even an empty one, is handled like a continuation."""
        if data is None:
            return Challenge(b"")
        return self._continue(data)

    @abstractmethod
    def _continue(self, data: bytes) -> Event:
        """The mechanism's answer to one client message (an initial response included)."""

    def _passdb(self, reply: PassdbReply) -> Event:
        """Default: the answer to VerifyPlain (Dovecot's plain_verify_callback)."""
        return self._plain_result(reply)

    # --- helpers -----------------------------------------------------------------------------

    def _plain_result(self, reply: PassdbReply) -> Event:
        if reply.result is PassdbResult.OK:
            return Success(self._success_user())
        return self._passdb_failure(reply)

    def _passdb_failure(self, reply: PassdbReply) -> Failure:
        # The passdb has already logged why (unknown user, mismatch...); the mechanism does not.
        return Failure(reply.result.value, temporary=reply.result is PassdbResult.INTERNAL_FAILURE,
                       user=self.fields.failure_user())

    def _success_user(self) -> str:
        assert self.fields.user is not None
        return self.fields.user

    def _logged(self, message: str, level: str = "info") -> None:
        self._log.append(MechanismLog(level, message, self.fields.user))

    def _fail(self, reason: str, level: str = "info") -> Failure:
        self._logged(reason, level)
        return Failure(reason, user=self.fields.failure_user())

    def _verify_plain(self, password: bytes) -> VerifyPlain:
        assert self.fields.user is not None
        return VerifyPlain(self.fields.user, self.fields.login_user, password)

    def _lookup(self, scheme: str) -> LookupCredentials:
        assert self.fields.user is not None
        return LookupCredentials(self.fields.user, self.fields.login_user, scheme,
                                 original_user=self.fields.original_user or "", realm=self.fields.realm,
                                 domain_is_realm=self.fields.domain_is_realm)

    def _has_forbidden_nul(self, data: bytes) -> bool:
        return not self.info.allows_nuls and b"\0" in data

    def _unexpected_nul(self) -> Failure:
        return self._fail("Unexpected NUL in auth data", "debug")

    def _expect(self, state: _State) -> None:
        if self._state is not state:
            raise MechanismStateError(f"{self.info.name}: called in state {self._state.value}, "
                                      f"expected {state.value}")

    def _emit(self, event: Event) -> Event:
        if isinstance(event, Challenge):
            self._state = _State.WAITING_CLIENT
        elif isinstance(event, VerifyPlain | LookupCredentials):
            self._state = _State.WAITING_PASSDB
        else:
            self._state = _State.DONE
        return event
