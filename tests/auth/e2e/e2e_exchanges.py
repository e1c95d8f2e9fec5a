"""The exchanges the e2e goldens hold: run against any auth service's base_dir.

``await transcript(base_dir)`` returns {exchange name: [server lines]} with the
process-specific parts (SPID, CUID, COOKIE values) normalised, so that our service's answers
and real Dovecot's (recorded by e2e_record_goldens.py) compare line for line.
"""

from __future__ import annotations

import re
from pathlib import Path

from e2e_support import PASSWORD, auth_client, login_exchange, master_client, plain

_VOLATILE = re.compile(r"^(SPID|CUID|COOKIE)\t.*$")


def _normalise(lines: list[str]) -> list[str]:
    return [_VOLATILE.sub(r"\1\t*", line) for line in lines]


async def transcript(base_dir: Path) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    client, greeting = await auth_client(base_dir / "auth-client")
    out["client_greeting"] = _normalise(greeting)
    lines = []
    for rid, (user, password) in enumerate(
            [("alice", PASSWORD), ("alice", "wrong"), ("nobody", PASSWORD), ("ALICE", PASSWORD)], 1):
        await client.send(f"AUTH\t{rid}\tPLAIN\tservice=imap\trip=127.0.0.1\tresp={plain(user, password)}\n")
        lines.append(await client.line())
    out["plain"] = lines
    lines = []
    for rid, (user, password) in enumerate([("alice", PASSWORD), ("alice", "nope"), ("ghost", "nope")], 10):
        lines += await login_exchange(client, rid, user, password)
    out["login"] = lines
    await client.close()

    master, greeting = await master_client(base_dir / "auth-master")
    out["master_greeting"] = _normalise(greeting)
    # One at a time: the order of answers to pipelined lookups is not part of the protocol.
    lines = []
    for command in ("USER\t1\talice", "USER\t2\tbob", "USER\t3\tghost", "PASS\t4\talice", "PASS\t5\tghost"):
        await master.send(f"{command}\tservice=imap\n")
        lines.append(await master.line())
    out["master_user_pass"] = lines
    await master.send("LIST\t6\n")
    out["master_list"] = await master.lines_until("DONE")
    await master.close()

    userdb, _ = await master_client(base_dir / "auth-userdb")
    await userdb.send("USER\t1\tALICE\tservice=lmtp\n")
    out["userdb_user"] = [await userdb.line()]
    await userdb.close()
    return out
