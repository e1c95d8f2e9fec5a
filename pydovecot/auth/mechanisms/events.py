"""What a mechanism tells its driver, and what the driver answers (h11-style events).

Every call into a mechanism returns exactly one event:

* `Challenge(data)`: send `data` to the client (the wire layer base64-encodes it) and feed the
  client's answer to `Mechanism.receive`.
* `VerifyPlain(...)`: check `password` with the passdb, then call `Mechanism.passdb_reply`.
* `LookupCredentials(...)`: fetch the user's credentials in `scheme`, raw (already decoded from the
  passdb's `{SCHEME}` encoding, see each mechanism's docstring), then call `Mechanism.passdb_reply`.
* `Success(user, extra_server_data)`: authenticated. `extra_server_data` is the final server
  message (DIGEST-MD5 rspauth, SCRAM verifier) or None; Dovecot sends it inside OK when the client
  said final-resp-ok, otherwise as one more CONT that the client must answer (with anything).
* `Failure(reason, temporary)`: authentication failed; `temporary` is Dovecot's internal failure
  (FAIL with code=temp_fail). `reason` is for the log, never for the client.

User names are `str` decoded from the client's bytes as UTF-8 with `surrogateescape`, so that
bytes which are not UTF-8 survive unchanged (`user.encode("utf-8", "surrogateescape")`); passwords
stay `bytes` because Dovecot compares them byte for byte.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


@dataclass(frozen=True)
class Challenge:
    data: bytes


@dataclass(frozen=True)
class VerifyPlain:
    user: str
    authzid: str | None  # the requested login user (master user login), None if not asked for
    password: bytes


@dataclass(frozen=True)
class LookupCredentials:
    user: str
    authzid: str | None
    scheme: str  # "CRAM-MD5", "DIGEST-MD5", "SCRAM-SHA-1", "SCRAM-SHA-256"
    # What a passdb needs to derive the credentials from a plaintext password as Dovecot does:
    # the username before translations, and (DIGEST-MD5) the realm and whether it came from
    # the client's realm directive rather than from the username.
    original_user: str = ""
    realm: str | None = None
    domain_is_realm: bool = False


@dataclass(frozen=True)
class Success:
    user: str
    extra_server_data: bytes | None = None


@dataclass(frozen=True)
class Failure:
    reason: str
    temporary: bool = False
    user: str | None = None  # the username known when it failed (Dovecot's FAIL user=...)


Event = Challenge | VerifyPlain | LookupCredentials | Success | Failure


class PassdbResult(enum.Enum):
    """The passdb outcomes Dovecot distinguishes (enum passdb_result)."""

    OK = "ok"
    INTERNAL_FAILURE = "internal_failure"
    SCHEME_NOT_AVAILABLE = "scheme_not_available"
    USER_UNKNOWN = "user_unknown"
    USER_DISABLED = "user_disabled"
    PASS_EXPIRED = "pass_expired"
    PASSWORD_MISMATCH = "password_mismatch"


@dataclass(frozen=True)
class PassdbReply:
    """The driver's answer to VerifyPlain or LookupCredentials.

    `credentials` is the raw credential for LookupCredentials with result OK. `user` is the
    username after the passdb lookup when the passdb changed it (a `user` extra field)."""

    result: PassdbResult
    credentials: bytes | None = None
    user: str | None = None


@dataclass(frozen=True)
class MechanismLog:
    """A line the mechanism itself logs, as Dovecot's `<mech>(<user>,<rip>): <message>`.

    `user` is None where Dovecot prints '?' (no username set yet)."""

    level: str  # "debug", "info" or "error"
    message: str
    user: str | None
