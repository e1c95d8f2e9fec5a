"""New connections per second, ours against real Dovecot: IMAP (greeting, LOGIN, LOGOUT) and POP3
(greeting, USER, PASS, QUIT).

    /work/main/.venv/bin/python benchmarks/connect_rate.py [-c 10] [-t 10] [--users 10]

``-c`` concurrent clients on one asyncio loop each open a fresh TCP connection per round, log in
(successfully, so auth_failure_delay plays no part) and out, for ``-t`` seconds per protocol.  The
users' Maildirs hold a few messages (POP3 PASS opens the mailbox).  Reported: completed
connections/s and failures; the ratio is ours/real (>= 1 means ours is faster).  Run as root.
"""

from __future__ import annotations

import argparse
import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from servers import (
    PASSWORD,
    TIMEOUT,
    ImapClient,
    Lab,
    Server,
    print_errors,
    print_health,
    raise_nofile,
    ratio,
    read_pop3_line,
    real_available,
)


@dataclass
class Tally:
    done: int = 0
    errors: list[str] = field(default_factory=list)


async def imap_round(port: int, user: str) -> None:
    client = await ImapClient.connect(port)
    try:
        await client.command(f"LOGIN {user} {PASSWORD}")
        await client.logout()
    finally:
        client.close()


async def pop3_round(port: int, user: str) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        await read_pop3_line(reader)
        writer.write(f"USER {user}\r\n".encode())
        await read_pop3_line(reader)
        writer.write(f"PASS {PASSWORD}\r\n".encode())
        await read_pop3_line(reader)
        writer.write(b"QUIT\r\n")
        await read_pop3_line(reader)
    finally:
        writer.close()


Round = Callable[[int, str], Awaitable[None]]


async def loop(one: Round, port: int, user: str, deadline: float, tally: Tally) -> None:
    while time.monotonic() < deadline:
        try:
            await asyncio.wait_for(one(port, user), TIMEOUT)
            tally.done += 1
        except Exception as e:  # noqa: BLE001 -- every failure is counted and reported
            tally.errors.append(f"{type(e).__name__}: {e}")
            await asyncio.sleep(0.1)


async def run(one: Round, port: int, users: list[str], clients: int, seconds: float) -> tuple[Tally, float]:
    await one(port, users[0])  # warm-up (first mailbox open, auth process started)
    tally = Tally()
    start = time.monotonic()
    await asyncio.gather(*(loop(one, port, users[i % len(users)], start + seconds, tally)
                           for i in range(clients)))
    return tally, time.monotonic() - start


def measure(server: Server, users: list[str], clients: int, seconds: float) -> dict[str, float]:
    rates = {}
    for proto, one, port in (("IMAP", imap_round, server.cfg.imap), ("POP3", pop3_round, server.cfg.pop3)):
        tally, elapsed = asyncio.run(run(one, port, users, clients, seconds))
        rates[proto] = tally.done / elapsed
        print(f"{server.name}: {proto} {clients} clients, {elapsed:.1f} s: {tally.done} logins, "
              f"{rates[proto]:.0f} connections/s, {len(tally.errors)} errors")
        print_errors(tally.errors)
    print_health(server)
    return rates


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("-c", "--clients", type=int, default=10)
    parser.add_argument("-t", "--seconds", type=float, default=10.0)
    parser.add_argument("--users", type=int, default=10)
    parser.add_argument("-n", "--messages", type=int, default=20)
    args = parser.parse_args()
    raise_nofile(4096 + 4 * args.clients)
    with Lab(users=args.users, messages=args.messages) as lab:
        users = lab.user_names()
        with Server(lab.config("ours", args.clients)) as ours:
            our_rates = measure(ours, users, args.clients, args.seconds)
        if not real_available():
            print("real Dovecot not installed: no comparison")
            return
        with Server(lab.config("real", args.clients)) as real:
            real_rates = measure(real, users, args.clients, args.seconds)
        for proto in ("IMAP", "POP3"):
            print(f"ratio ours/real {proto} connections/s: {ratio(our_rates[proto], real_rates[proto])}")


if __name__ == "__main__":
    main()
