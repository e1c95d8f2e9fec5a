"""Record what real Dovecot 2.3.19's auth process does in test_auth_process.py's situations.

A private real Dovecot (own base_dir, high loopback ports) started as root on the configuration
of record_privsep_goldens.conf_text, with alice in a root-only (0600) passwd-file: her login
(auth, running as dovecot, cannot open the file), then ``kill -9`` of the auth process.  The
log lines of both (time stamps taken out; the run's path, uid/gid, pid and session replaced by
<USERS>, <UID>, <GID>, <PID>, <SESSION>) go to goldens/auth_process_real_dovecot.txt.

Run as root: .venv/bin/python -m tests.master.record_auth_process_goldens
"""

from __future__ import annotations

import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

from tests.master.harness import make_cert
from tests.master.record_privsep_goldens import conf_text
from tests.support import real_dovecot
from tests.support.net import free_port

GOLDEN = Path(__file__).parent / "goldens" / "auth_process_real_dovecot.txt"
HEADER = """\
# Recorded from real Dovecot 2.3.19 (record_auth_process_goldens.py: as root, its own base_dir,
# the configuration of record_privsep_goldens.conf_text): `kill -9` of its auth process, and a
# 0600 root passwd-file read by auth as dovecot (when auth starts, for the passdb and the userdb,
# then at alice's lookup).  <PID>, <SESSION>, <USERS>, <UID>, <GID> stand for the run's values.
"""


def login(port: int) -> str:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        f = sock.makefile("rwb", buffering=0)
        f.readline()
        f.write(b"a LOGIN alice secret\r\n")
        while not (line := f.readline().decode()).startswith("a "):
            pass
        return line


def main() -> None:
    root = Path(tempfile.mkdtemp(prefix="record-auth-"))
    root.chmod(0o755)
    internal = pwd.getpwnam("dovecot")
    try:
        users = root / "users"
        users.write_text(f"alice:{{PLAIN}}secret:65534:65534::{root}/home::\n")
        users.chmod(0o600)
        cert, key = make_cert(root)
        imap, pop3 = free_port(), free_port()
        conf = root / "dovecot.conf"
        conf.write_text(conf_text(root, imap, pop3, cert, key))
        real_dovecot.start(conf)
        try:
            time.sleep(1)
            print(login(imap).rstrip())
            pid = int(subprocess.run(["pgrep", "-u", "dovecot", "-x", "auth"], capture_output=True, text=True,
                                     check=True).stdout.split()[0])
            os.kill(pid, signal.SIGKILL)
            time.sleep(1)
        finally:
            real_dovecot.stop(conf)
        lines = []
        for line in (root / "log").read_text().splitlines():
            if not line.split(" ", 3)[-1].startswith("auth: "):
                continue
            line = re.sub(r"^\w{3} [ \d]\d \d\d:\d\d:\d\d ", "", line)
            line = line.replace(str(users), "<USERS>").replace(f"child {pid} ", "child <PID> ")
            line = line.replace(f"euid={internal.pw_uid}(", "euid=<UID>(").replace(f"egid={internal.pw_gid}(",
                                                                                    "egid=<GID>(")
            lines.append(re.sub(r",<[^>]+>\)", ",<SESSION>)", line))
        # the kill first: the test reads the log lines in this order
        lines.sort(key=lambda line: "killed with signal" not in line)
        GOLDEN.write_text(HEADER + "".join(line + "\n" for line in lines))
        print(f"wrote {GOLDEN}")
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    if os.geteuid() != 0:
        raise SystemExit("run as root: real Dovecot's auth runs as dovecot")
    main()
