"""Helpers for the per-mechanism tests: a scripted driver and a dictionary passdb."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

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


@dataclass
class DictPassdb:
    """user -> plaintext password for VerifyPlain, user -> {scheme: raw credentials} for lookups."""

    plain: dict[str, bytes] = field(default_factory=dict)
    credentials: dict[str, dict[str, bytes]] = field(default_factory=dict)
    requests: list[VerifyPlain | LookupCredentials] = field(default_factory=list)
    forced: PassdbReply | None = None

    def answer(self, request: VerifyPlain | LookupCredentials) -> PassdbReply:
        self.requests.append(request)
        if self.forced is not None:
            return self.forced
        if isinstance(request, VerifyPlain):
            if request.user not in self.plain:
                return PassdbReply(PassdbResult.USER_UNKNOWN)
            ok = self.plain[request.user] == request.password
            return PassdbReply(PassdbResult.OK if ok else PassdbResult.PASSWORD_MISMATCH)
        stored = self.credentials.get(request.user)
        if stored is None:
            return PassdbReply(PassdbResult.USER_UNKNOWN)
        if request.scheme not in stored:
            return PassdbReply(PassdbResult.SCHEME_NOT_AVAILABLE)
        return PassdbReply(PassdbResult.OK, stored[request.scheme])


@dataclass
class Outcome:
    event: Event  # the final Success or Failure
    challenges: list[bytes]
    log: list[MechanismLog]
    mech: Mechanism

    @property
    def succeeded(self) -> bool:
        return isinstance(self.event, Success)

    @property
    def reason(self) -> str:
        assert isinstance(self.event, Failure), self.event
        return self.event.reason


def run(mech_name: str, passdb: DictPassdb, initial: bytes | None,
        respond: Callable[[bytes], bytes] | list[bytes] = (), context: AuthRequestContext | None = None) -> Outcome:
    """Run one authentication; `respond` answers each challenge (a function or a list)."""
    mech = create_mechanism(mech_name, context or AuthRequestContext(anonymous_username="anonuser"))
    answers = list(respond) if isinstance(respond, list | tuple) else None
    challenges: list[bytes] = []
    log: list[MechanismLog] = []
    event = mech.start(initial)
    while not mech.finished:
        log.extend(mech.drain_log())
        if isinstance(event, Challenge):
            challenges.append(event.data)
            if answers is not None:
                if not answers:
                    break
                event = mech.receive(answers.pop(0))
            else:
                assert callable(respond)
                event = mech.receive(respond(event.data))
        else:
            assert isinstance(event, VerifyPlain | LookupCredentials)
            event = mech.passdb_reply(passdb.answer(event))
    log.extend(mech.drain_log())
    return Outcome(event, challenges, log, mech)
