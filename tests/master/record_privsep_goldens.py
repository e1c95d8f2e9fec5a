"""Record what real Dovecot 2.3.19 does when a user's uid is below first_valid_uid.

A private real Dovecot (own base_dir, high loopback ports) started as root with the passwd-file
users of test_privilege_separation.py; for IMAP and POP3 we record the lines the client gets
after a good password for ``lowuid`` (uid 100, first_valid_uid = 500) up to the close, and the
log lines it caused (time stamps, pids, ports and session ids taken out), into
goldens/privsep_refused_real_dovecot.json.

Run as root: .venv/bin/python -m tests.master.record_privsep_goldens
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import tempfile
import time
from pathlib import Path

from tests.master.harness import make_cert
from tests.support import real_dovecot
from tests.support.net import free_port

GOLDEN = Path(__file__).parent / "goldens" / "privsep_refused_real_dovecot.json"
USERS = {"lowuid": (100, 100)}
PASSWORD = "secret"


def conf_text(root: Path, imap: int, pop3: int, cert: Path, key: Path) -> str:
    """The configuration both servers run (the test writes the same, with more users)."""
    return f"""\
protocols = imap pop3
base_dir = {root}/run
listen = 127.0.0.1
log_path = {root}/log
ssl = yes
ssl_cert = <{cert}
ssl_key = <{key}
disable_plaintext_auth = no
first_valid_uid = 500
shutdown_clients = yes
mail_location = maildir:~/Maildir
passdb {{
  driver = passwd-file
  args = {root}/users
}}
userdb {{
  driver = passwd-file
  args = {root}/users
}}
service imap-login {{
  inet_listener imap {{
    port = {imap}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service pop3-login {{
  inet_listener pop3 {{
    port = {pop3}
  }}
  inet_listener pop3s {{
    port = 0
  }}
}}
"""


def normalize_log(text: str) -> list[str]:
    """Log lines without time stamps and the values that change from run to run."""
    lines = []
    for line in text.splitlines():
        line = re.sub(r"^\w{3} [ \d]\d \d\d:\d\d:\d\d ", "", line)
        if " starting up " in line or "Killed with signal" in line:
            continue
        line = re.sub(r", (mpid|session)=[^,]*", "", line)
        lines.append(line)
    return lines


def imap_refused(port: int, user: str) -> list[str]:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        f = sock.makefile("rwb", buffering=0)
        f.readline()
        f.write(f"a LOGIN {user} {PASSWORD}\r\n".encode())
        return read_to_close(f)


def pop3_refused(port: int, user: str) -> list[str]:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        f = sock.makefile("rwb", buffering=0)
        f.readline()
        f.write(f"USER {user}\r\n".encode())
        f.readline()
        f.write(f"PASS {PASSWORD}\r\n".encode())
        return read_to_close(f)


def read_to_close(f: object) -> list[str]:
    lines = []
    while line := f.readline():  # type: ignore[attr-defined]
        lines.append(line.decode())
    return lines


def main() -> None:
    root = Path(tempfile.mkdtemp(prefix="record-privsep-"))
    root.chmod(0o755)
    try:
        (root / "users").write_text("".join(
            f"{name}:{{PLAIN}}{PASSWORD}:{uid}:{gid}::{root}/home/{name}::\n" for name, (uid, gid) in USERS.items()))
        cert, key = make_cert(root)
        imap, pop3 = free_port(), free_port()
        conf = root / "dovecot.conf"
        conf.write_text(conf_text(root, imap, pop3, cert, key))
        real_dovecot.start(conf)
        try:
            time.sleep(1)
            golden = {"imap": imap_refused(imap, "lowuid"), "pop3": pop3_refused(pop3, "lowuid")}
            time.sleep(0.5)
            golden["log"] = normalize_log((root / "log").read_text())
        finally:
            real_dovecot.stop(conf)
        GOLDEN.write_text(json.dumps(golden, indent=1) + "\n")
        print(f"wrote {GOLDEN}")
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    if os.geteuid() != 0:
        raise SystemExit("run as root: real Dovecot drops to each user's uid")
    main()
