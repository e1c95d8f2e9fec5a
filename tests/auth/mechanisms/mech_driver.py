"""A minimal driver that runs our mechanisms like Dovecot's auth request handler does.

It answers VerifyPlain / LookupCredentials from goldens/users.passwd-file (the file the goldens
were recorded with), keeps the mechanism's log lines, and turns events into the auth client
protocol's CONT / OK / FAIL replies so transcripts compare with real Dovecot's.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from pathlib import Path

from mech_scenarios import Reply

from pydovecot.auth.mechanisms import (
    AuthRequestContext,
    Challenge,
    Event,
    Failure,
    LookupCredentials,
    Mechanism,
    MechanismLog,
    PassdbReply,
    PassdbResult,
    Success,
    VerifyPlain,
    create_mechanism,
)

GOLDENS = Path(__file__).resolve().parent / "goldens"


@dataclass(frozen=True)
class PasswdEntry:
    scheme: str | None  # None: the entry has no password (nopassword extra field)
    password: bytes


def load_passwd_file(path: Path = GOLDENS / "users.passwd-file") -> dict[str, PasswdEntry]:
    users: dict[str, PasswdEntry] = {}
    for line in path.read_text().splitlines():
        fields = line.split(":")
        name, password = fields[0], fields[1]
        if password.startswith("{"):
            scheme, _, value = password[1:].partition("}")
            users[name] = PasswdEntry(scheme.upper(), value.encode())
        else:
            users[name] = PasswdEntry(None, b"")
    return users


def raw_credentials(entry: PasswdEntry) -> bytes:
    """The stored value decoded as Dovecot does before handing it to a mechanism."""
    if entry.scheme in ("CRAM-MD5", "DIGEST-MD5"):
        return bytes.fromhex(entry.password.decode())
    return entry.password


class FakePassdb:
    """passwd-file semantics for the users in the golden file (no scheme conversion)."""

    def __init__(self, users: dict[str, PasswdEntry]) -> None:
        self.users = users

    def verify_plain(self, request: VerifyPlain) -> PassdbReply:
        entry = self.users.get(request.user)
        if entry is None:
            return PassdbReply(PassdbResult.USER_UNKNOWN)
        if entry.scheme is None:
            return PassdbReply(PassdbResult.OK)
        if entry.scheme == "PLAIN" and entry.password == request.password:
            return PassdbReply(PassdbResult.OK)
        return PassdbReply(PassdbResult.PASSWORD_MISMATCH)

    def lookup(self, request: LookupCredentials) -> PassdbReply:
        entry = self.users.get(request.user)
        if entry is None:
            return PassdbReply(PassdbResult.USER_UNKNOWN)
        if entry.scheme != request.scheme:
            return PassdbReply(PassdbResult.SCHEME_NOT_AVAILABLE)
        if entry.scheme == "CRAM-MD5" and len(entry.password) != 64:
            # passwd-file refuses stored data of the wrong length before the mechanism sees it.
            return PassdbReply(PassdbResult.INTERNAL_FAILURE)
        return PassdbReply(PassdbResult.OK, raw_credentials(entry))


@dataclass
class OurServer:
    """Speaks like Dovecot's auth client socket, backed by our mechanisms (SaslServer)."""

    passdb: FakePassdb
    realms: tuple[str, ...] = ()
    log: list[MechanismLog] = field(default_factory=list)
    mech: Mechanism | None = None
    final_resp_ok: bool = False
    pending_success: Success | None = None

    def context(self, params: dict[str, str]) -> AuthRequestContext:
        return AuthRequestContext(service="imap", local_ip="127.0.0.1", remote_ip="10.0.0.1",
                                  secured="secured" in params, valid_client_cert="valid-client-cert" in params,
                                  cert_username=params.get("cert_username") or None, realms=self.realms,
                                  anonymous_username="anonuser", hostname="vm")

    def auth(self, mech: str, initial: bytes | None, params: dict[str, str]) -> Reply:
        self.mech = create_mechanism(mech, self.context(params))
        self.final_resp_ok = "final-resp-ok" in params
        self.pending_success = None
        return self._drive(self.mech.start(initial))

    def cont(self, data: bytes) -> Reply:
        assert self.mech is not None
        if self.pending_success is not None:
            # The client acknowledged the final server data sent in a CONT.
            success, self.pending_success = self.pending_success, None
            return Reply("OK", b"", ["user=" + success.user])
        return self._drive(self.mech.receive(data))

    def _drive(self, event: Event) -> Reply:
        assert self.mech is not None
        while isinstance(event, VerifyPlain | LookupCredentials):
            self.log.extend(self.mech.drain_log())
            answer = self.passdb.verify_plain(event) if isinstance(event, VerifyPlain) else self.passdb.lookup(event)
            event = self.mech.passdb_reply(answer)
        self.log.extend(self.mech.drain_log())
        if isinstance(event, Challenge):
            return Reply("CONT", event.data)
        if isinstance(event, Success):
            if event.extra_server_data:
                if not self.final_resp_ok:
                    self.pending_success = event
                    return Reply("CONT", event.extra_server_data)
                return Reply("OK", b"", ["user=" + event.user, "resp=" + base64.b64encode(
                    event.extra_server_data).decode()])
            return Reply("OK", b"", ["user=" + event.user])
        assert isinstance(event, Failure)
        return Reply("FAIL", b"", [] if event.user is None else ["user=" + event.user])
