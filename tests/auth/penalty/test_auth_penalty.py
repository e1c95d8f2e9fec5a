"""The per-IP auth failure penalty (Dovecot's auth_penalty + anvil), with an injected clock.

The expected delays are what real Dovecot 2.3.19 did in goldens/real_delays.json (recorded by
penalty_record_goldens.py with auth_failure_delay = 0: Dovecot's failure queue adds ~0.5 s)."""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import Callable
from pathlib import Path

from pydovecot.auth.mechanisms import PassdbResult
from pydovecot.auth.penalty import AuthPenalty, parse_networks, penalty_to_secs, userpass_checksum
from pydovecot.auth.service import AuthService, AuthServiceSettings, PassdbAnswer, RequestInfo

GOLDENS = Path(__file__).parent / "goldens"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_penalty_to_secs_doubles_up_to_fifteen() -> None:
    assert [penalty_to_secs(p) for p in range(6)] == [2, 4, 8, 15, 15, 15]


def test_failures_raise_and_success_resets() -> None:
    clock = Clock()
    table = AuthPenalty(clock=clock)
    ip = table.ident("10.0.0.9")
    delays = []
    for n in range(5):
        penalty, wait = table.delay(ip)
        delays.append(wait)
        table.update(ip, penalty + 1, userpass_checksum("jane", f"w{n}".encode()))
        clock.now += 1
    assert delays == [0, 4, 8, 15, 15]
    assert table.lookup(ip) == 4  # at most MAX_PENALTY
    table.update(ip, 0)
    assert table.delay(ip) == (0, 0.0)


def test_same_password_again_does_not_raise_the_penalty() -> None:
    clock = Clock()
    table = AuthPenalty(clock=clock)
    ip = table.ident("10.0.0.9")
    checksum = userpass_checksum("jane", b"same")
    table.update(ip, 1, checksum)
    table.update(ip, table.lookup(ip) + 1, checksum)
    assert table.lookup(ip) == 1
    table.update(ip, table.lookup(ip) + 1, userpass_checksum("jane", b"other"))
    assert table.lookup(ip) == 2


def test_penalty_is_gone_after_fifteen_quiet_seconds() -> None:
    clock = Clock()
    table = AuthPenalty(clock=clock)
    ip = table.ident("10.0.0.9")
    for n in range(3):
        table.update(ip, table.lookup(ip) + 1, n + 1)
    clock.now += 14.9
    assert table.lookup(ip) == 3
    clock.now += 0.1
    assert table.lookup(ip) == 0
    clock.now += 30
    assert table.lookup(ip) == 0 and ip not in table.records  # anvil forgot the IP


def test_exempt_requests_and_ipv6_prefix() -> None:
    table = AuthPenalty(trusted_networks=parse_networks("192.168.0.0/16, 127.0.0.1 not-an-ip"))
    assert table.ident(None) is None and table.ident("") is None
    assert table.ident("10.1.1.1", no_penalty=True) is None
    assert table.ident("192.168.4.5") is None and table.ident("127.0.0.1") is None
    assert table.ident("10.1.1.1") == "10.1.1.1"
    assert table.ident("2001:db8:1:2::5") == table.ident("2001:db8:1:ffff::9") == "2001:db8:1::"


# --- the service applies it -------------------------------------------------------------------

class Backend:
    async def verify_plain(self, user: str, password: bytes, info: RequestInfo) -> PassdbAnswer:
        ok = password in (b"right", b"jane-pw")
        return PassdbAnswer(PassdbResult.OK if ok else PassdbResult.PASSWORD_MISMATCH)

    async def lookup_credentials(self, user: str, scheme: str, info: RequestInfo) -> PassdbAnswer:
        return PassdbAnswer(PassdbResult.USER_UNKNOWN)

    async def lookup_user(self, user: str, info: RequestInfo):  # type: ignore[no-untyped-def]
        raise NotImplementedError

    async def iterate_users(self, info: RequestInfo):  # type: ignore[no-untyped-def]
        return
        yield


class Scheduler:
    """call_later that records the delay and advances the fake clock when the test says so."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self.pending: list[tuple[float, Callable[[], None]]] = []
        self.asked: list[float] = []

    def __call__(self, delay: float, callback: Callable[[], None]) -> asyncio.TimerHandle:
        self.asked.append(delay)
        self.pending.append((self.clock.now + delay, callback))
        return asyncio.get_running_loop().call_later(3600, lambda: None)  # a cancellable stand-in

    def run_due(self) -> None:
        self.pending.sort(key=lambda item: item[0])
        while self.pending and self.pending[0][0] <= self.clock.now:
            _, callback = self.pending.pop(0)
            callback()


def _auth(rid: int, password: str, extra: str = "\trip=10.0.0.9") -> bytes:
    resp = base64.b64encode(b"\0jane\0" + password.encode()).decode()
    return f"AUTH\t{rid}\tPLAIN\tservice=imap{extra}\tresp={resp}\n".encode()


def _session(trusted: str = "") -> tuple[object, Clock, Scheduler]:
    clock = Clock()
    scheduler = Scheduler(clock)
    service = AuthService(Backend(), AuthServiceSettings(failure_delay=0),
                          penalty=AuthPenalty(clock=clock, trusted_networks=parse_networks(trusted)),
                          call_later=scheduler)
    session = service.new_client_session()
    session.receive(b"VERSION\t1\t2\nCPID\t1\n")
    session.sent.clear()
    return session, clock, scheduler


def _lines(session: object) -> list[str]:
    out = session.sent.decode().splitlines()  # type: ignore[attr-defined]
    session.sent.clear()  # type: ignore[attr-defined]
    return out


def test_service_delays_the_next_request_after_failures() -> None:
    async def main() -> None:
        session, clock, scheduler = _session()
        session.receive(_auth(1, "w1"))  # type: ignore[attr-defined]
        assert _lines(session) == ["FAIL\t1\tuser=jane"]
        session.receive(_auth(2, "w2"))  # type: ignore[attr-defined]
        assert _lines(session) == [] and scheduler.asked == [4]
        clock.now += 3.9
        scheduler.run_due()
        assert _lines(session) == []
        clock.now += 0.1
        scheduler.run_due()
        assert _lines(session) == ["FAIL\t2\tuser=jane"]
        session.receive(_auth(3, "right"))  # type: ignore[attr-defined]
        assert scheduler.asked == [4, 8]
        clock.now += 8
        scheduler.run_due()
        assert _lines(session) == ["OK\t3\tuser=jane"]
        session.receive(_auth(4, "w3"))  # type: ignore[attr-defined]
        assert _lines(session) == ["FAIL\t4\tuser=jane"]  # the success reset the penalty
        session.abort()  # type: ignore[attr-defined]
    asyncio.run(main())


def test_service_exempts_no_penalty_trusted_networks_and_unknown_ip() -> None:
    async def main() -> None:
        for extra, trusted in [("\trip=10.0.0.9\tno-penalty", ""), ("\trip=10.0.0.9", "10.0.0.0/8"), ("", "")]:
            session, _, scheduler = _session(trusted)
            for rid in range(1, 4):
                session.receive(_auth(rid, "wrong", extra))  # type: ignore[attr-defined]
            assert _lines(session) == [f"FAIL\t{rid}\tuser=jane" for rid in range(1, 4)]
            assert scheduler.asked == []
            session.abort()  # type: ignore[attr-defined]
    asyncio.run(main())


def test_cancel_while_waiting_out_the_penalty() -> None:
    async def main() -> None:
        session, clock, scheduler = _session()
        session.receive(_auth(1, "w1"))  # type: ignore[attr-defined]
        session.receive(_auth(2, "right"))  # type: ignore[attr-defined]
        session.receive(b"CANCEL\t2\n")  # type: ignore[attr-defined]
        clock.now += 4
        scheduler.run_due()
        assert _lines(session) == ["FAIL\t1\tuser=jane"]
        session.abort()  # type: ignore[attr-defined]
    asyncio.run(main())


def test_delays_match_real_dovecot() -> None:
    """Replay the recorded sequence: our wait before each request == Dovecot's latency minus
    its ~0.5 s failure-queue granularity (rounded to whole seconds)."""
    golden = json.loads((GOLDENS / "real_delays.json").read_text())

    async def main() -> list[float]:
        session, clock, scheduler = _session()
        waits = []
        for rid, step in enumerate(golden, 1):
            before = len(scheduler.asked)
            extra = f"\trip={step['rip']}" if step["rip"] else ""
            session.receive(_auth(rid, step["password"], extra))  # type: ignore[attr-defined]
            wait = scheduler.asked[-1] if len(scheduler.asked) > before else 0.0
            waits.append(wait)
            clock.now += wait
            scheduler.run_due()
            assert _lines(session) == [step["line"]]
            clock.now += step["seconds"] - wait  # the real run's time passes, also for failures
        session.abort()  # type: ignore[attr-defined]
        return waits
    waits = asyncio.run(main())
    assert waits == [float(round(step["seconds"] - (0.5 if step["line"].startswith("FAIL") else 0)))
                     for step in golden]
