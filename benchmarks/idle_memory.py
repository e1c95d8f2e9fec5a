"""Memory per idle IMAP client, ours against real Dovecot.

    /work/main/.venv/bin/python benchmarks/idle_memory.py [-n 2000] [--users 20] [--messages 20]

``-n`` clients log in (users round-robin), SELECT INBOX and enter IDLE; once all are idling and
the servers have settled, the RSS of every server process (the master and all its descendants,
from /proc/<pid>/status) is summed and divided by N.  PSS (shared pages split between the
processes sharing them) is printed too, for information: real Dovecot's process-per-session RSS
counts the shared libraries once per process.  Real Dovecot keeps its default service settings
except the limits raised for N: process_limit (service imap and default), client_limit,
mail_max_userip_connections and default_vsz_limit; ours gets the same configuration.  The ratio is
ours/real (<= 0.1 is the target).  Run as root; the script raises its open-file limit.
"""

from __future__ import annotations

import argparse
import asyncio
import time

from servers import PASSWORD, ImapClient, Lab, Server, raise_nofile, ratio, real_available

CONNECT_AT_ONCE = 50  # logins in flight at a time (real Dovecot forks two processes per login)
SETTLE = 3.0  # seconds to wait after the last client idles before reading /proc


async def open_idle(port: int, user: str, gate: asyncio.Semaphore) -> ImapClient:
    async with gate:
        client = await ImapClient.connect(port)
        try:
            await client.command(f"LOGIN {user} {PASSWORD}")
            await client.command("SELECT INBOX")
            await client.idle()
        except BaseException:
            client.close()
            raise
        return client


async def run(server: Server, users: list[str], count: int) -> tuple[int, int, int, int, list[str]]:
    gate = asyncio.Semaphore(CONNECT_AT_ONCE)
    results = await asyncio.gather(*(open_idle(server.cfg.imap, users[i % len(users)], gate)
                                     for i in range(count)), return_exceptions=True)
    clients = [r for r in results if isinstance(r, ImapClient)]
    errors = [f"{type(r).__name__}: {r}" for r in results if not isinstance(r, ImapClient)]
    await asyncio.sleep(SETTLE)
    processes, rss, pss = server.rss()
    for client in clients:
        client.close()
    return len(clients), processes, rss, pss, errors


def measure(server: Server, users: list[str], count: int) -> float:
    time.sleep(1.0)
    _, base_rss, _ = server.rss()
    idling, processes, rss, pss, errors = asyncio.run(run(server, users, count))
    per = rss / max(idling, 1)
    print(f"{server.name}: {idling}/{count} clients idling, {processes} processes, total RSS "
          f"{rss / 2**20:.1f} MiB = {per / 1024:.1f} KiB/client (PSS {pss / 2**20:.1f} MiB = "
          f"{pss / max(idling, 1) / 1024:.1f} KiB/client; RSS before clients {base_rss / 2**20:.1f} MiB), "
          f"{len(errors)} errors")
    for error in sorted(set(errors))[:5]:
        print(f"  error ({errors.count(error)}x): {error[:200]}")
    if not server.alive():
        print(f"  {server.name} server DIED; log tail:\n{server.log_tail()}")
    for line in server.log_problems(8):
        print(f"  log: {line[:200]}")
    return per


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("-n", "--clients", type=int, default=2000)
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--messages", type=int, default=20)
    args = parser.parse_args()
    limit = raise_nofile(8192 + 6 * args.clients)
    print(f"open-file limit {limit}")
    extra = f"service imap {{\n  process_limit = {args.clients + 100}\n}}\n"
    with Lab(users=args.users, messages=args.messages) as lab:
        users = lab.user_names()
        with Server(lab.config("ours", args.clients, extra)) as ours:
            our_per = measure(ours, users, args.clients)
        if not real_available():
            print("real Dovecot not installed: no comparison")
            return
        with Server(lab.config("real", args.clients, extra)) as real:
            real_per = measure(real, users, args.clients)
        print(f"ratio ours/real RSS per idle client: {ratio(our_per, real_per)}")


if __name__ == "__main__":
    main()
