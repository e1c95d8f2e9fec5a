"""IMAP under load: N concurrent clients each looping over a realistic session, ours against real Dovecot.

    /work/main/.venv/bin/python benchmarks/imap_load.py [--clients 10 50] [-t 20] [--users 10] [-n 200]

Every user gets a Maildir of ``-n`` messages (about 3-5 KB each).  A client loops for ``-t`` seconds
over one session: LOGIN, SELECT INBOX, FETCH 1:* FLAGS, FETCH 5 random BODY.PEEK[], STORE +FLAGS
(\\Seen) on 3, UID SEARCH UNSEEN, APPEND one message, STORE +FLAGS (\\Deleted) on it, EXPUNGE,
LOGOUT -- 10 commands, the mailbox stays at its size.  Client i uses user ``i % users``.  All
clients run on one asyncio loop (raw sockets, servers.ImapClient).  Reported: commands (ops)/s
over the whole run, sessions/s, failures, and the servers' CPU time per command (every process of
the server, reaped per-session processes included: the figure that holds when the machine is busy);
the ratio is ours/real (>= 1 means ours is faster).
Run as root; real Dovecot runs with its default process model (a process per session), ours with
its default too (as root: privilege separation, as Dovecot) unless ``--model single|workers``.  ``--recipe ours``
(or ``both``) adds Dovecot's own high-performance text to that server's configuration,
``service imap-login { service_count = 0  process_min_avail = <CPUs> }``: valid for real Dovecot
(its login processes then serve many clients each), and for ours the way to run IMAP in worker
processes on every core (docs/process-model.md).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import time
from dataclasses import dataclass, field

from servers import (
    PASSWORD,
    ImapClient,
    Lab,
    Response,
    Server,
    message,
    print_errors,
    print_health,
    raise_nofile,
    ratio,
    real_available,
)


@dataclass
class Tally:
    ops: int = 0
    sessions: int = 0
    errors: list[str] = field(default_factory=list)
    latency: dict[str, tuple[int, float]] = field(default_factory=dict)  # command -> (count, seconds)


async def timed(client: ImapClient, tally: Tally, text: str, literal: bytes | None = None) -> Response:
    start = time.monotonic()
    response = await client.command(text, literal)
    words = text.split()
    name = " ".join(words[:2]) if words[0] == "UID" else words[0]
    if name in ("FETCH", "STORE"):
        name += " " + words[-1].strip("()")  # FETCH FLAGS / BODY.PEEK[], STORE \Seen / \Deleted
    count, total = tally.latency.get(name, (0, 0.0))
    tally.latency[name] = (count + 1, total + time.monotonic() - start)
    tally.ops += 1
    return response


async def session(port: int, user: str, rng: random.Random, appended: bytes, tally: Tally) -> None:
    start = time.monotonic()
    client = await ImapClient.connect(port)
    count, total = tally.latency.get("connect+greeting", (0, 0.0))
    tally.latency["connect+greeting"] = (count + 1, total + time.monotonic() - start)
    try:
        await timed(client, tally, f"LOGIN {user} {PASSWORD}")
        selected = await timed(client, tally, "SELECT INBOX")
        exists = next(int(line.split()[1]) for line in selected.untagged if line.endswith(b" EXISTS\r\n"))
        await timed(client, tally, "FETCH 1:* (FLAGS)")
        picks = ",".join(str(rng.randint(1, exists)) for _ in range(5))
        await timed(client, tally, f"FETCH {picks} (BODY.PEEK[])")
        picks = ",".join(str(rng.randint(1, exists)) for _ in range(3))
        await timed(client, tally, f"STORE {picks} +FLAGS (\\Seen)")
        await timed(client, tally, "UID SEARCH UNSEEN")
        await timed(client, tally, "APPEND INBOX (\\Seen)", appended)
        await timed(client, tally, "STORE * +FLAGS (\\Deleted)")  # "*": the newest message, usually our append
        await timed(client, tally, "EXPUNGE")
        await timed(client, tally, "LOGOUT")
        tally.sessions += 1
    finally:
        client.close()


async def client_loop(port: int, user: str, seed: int, deadline: float, tally: Tally) -> None:
    rng = random.Random(seed)
    appended = message(100000 + seed, 2000).replace(b"\n", b"\r\n")
    while time.monotonic() < deadline:
        try:
            await session(port, user, rng, appended, tally)
        except Exception as e:  # noqa: BLE001 -- every failure is counted and reported
            tally.errors.append(f"{type(e).__name__}: {e}")
            await asyncio.sleep(0.1)


async def warm_up(port: int, users: list[str]) -> None:
    """One SELECT per user first, so neither server's first-time Maildir scan is timed."""
    for user in users:
        client = await ImapClient.connect(port)
        await client.command(f"LOGIN {user} {PASSWORD}")
        await client.command("SELECT INBOX")
        await client.logout()


async def run(port: int, users: list[str], clients: int, seconds: float) -> tuple[Tally, float]:
    await warm_up(port, users)
    tally = Tally()
    start = time.monotonic()
    deadline = start + seconds
    await asyncio.gather(*(client_loop(port, users[i % len(users)], i, deadline, tally)
                           for i in range(clients)))
    return tally, time.monotonic() - start


def measure(server: Server, users: list[str], clients: int, seconds: float) -> tuple[float, float]:
    """(ops/s, server CPU ms per op)."""
    cpu_before = server.cpu_seconds()
    tally, elapsed = asyncio.run(run(server.cfg.imap, users, clients, seconds))
    cpu_ms = (server.cpu_seconds() - cpu_before) * 1000 / max(tally.ops, 1)  # includes the warm-up's few ops
    rate = tally.ops / elapsed
    print(f"{server.name}: {clients} clients, {elapsed:.1f} s: {tally.ops} ops, {rate:.0f} ops/s, "
          f"{tally.sessions / elapsed:.1f} sessions/s, {len(tally.errors)} errors, server CPU {cpu_ms:.2f} ms/op")
    mean = {name: total / count * 1000 for name, (count, total) in tally.latency.items()}
    print("  mean latency ms: " + ", ".join(f"{name} {ms:.1f}" for name, ms in mean.items()))
    print_errors(tally.errors)
    print_health(server)
    return rate, cpu_ms


def recipe() -> str:
    """Dovecot's high-performance login set-up (one login process per CPU, many clients each)."""
    return f"service imap-login {{\n  service_count = 0\n  process_min_avail = {os.cpu_count() or 1}\n}}\n"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clients", type=int, nargs="+", default=[10, 50])
    parser.add_argument("-t", "--seconds", type=float, default=20.0)
    parser.add_argument("--users", type=int, default=10)
    parser.add_argument("-n", "--messages", type=int, default=200)
    parser.add_argument("--model", choices=("auto", "single", "workers", "separated"), default="auto",
                        help="our PYDOVECOT_PROCESS_MODEL (auto, as root: privilege separation)")
    parser.add_argument("--recipe", choices=("none", "ours", "both"), default="none",
                        help="add Dovecot's performance recipe for imap-login to ours / both configurations")
    args = parser.parse_args()
    raise_nofile(4096 + 4 * max(args.clients))
    with Lab(users=args.users, messages=args.messages) as lab:
        users = lab.user_names()
        for clients in args.clients:
            ours_extra = recipe() if args.recipe in ("ours", "both") else ""
            real_extra = recipe() if args.recipe == "both" else ""
            with Server(lab.config("ours", clients, ours_extra), env={"PYDOVECOT_PROCESS_MODEL": args.model}) as ours:
                our_rate, our_cpu = measure(ours, users, clients, args.seconds)
            if not real_available():
                print("real Dovecot not installed: no comparison")
                continue
            with Server(lab.config("real", clients, real_extra)) as real:
                real_rate, real_cpu = measure(real, users, clients, args.seconds)
            print(f"ratio ours/real ops/s at {clients} clients: {ratio(our_rate, real_rate)}; "
                  f"server CPU per op ours/real: {ratio(our_cpu, real_cpu)}")


if __name__ == "__main__":
    main()
