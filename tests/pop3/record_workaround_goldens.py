"""Record real Dovecot's RETR/TOP output under each pop3_client_workarounds value.

Runs ``/usr/lib/dovecot/pop3`` pre-authenticated (USER/HOME in the environment) on a maildir of
the messages in WORKAROUND_MESSAGES, one run per workaround set, and writes
goldens/workarounds/<name>.bin (the raw stdout). Run by hand as root; the tests read the result.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
OUT = HERE / "goldens" / "workarounds"

# Messages that show each workaround: NULs in header and body; a header that never ends;
# the same without a final newline; an ordinary message (nothing changes).
WORKAROUND_MESSAGES: tuple[bytes, ...] = (
    b"Subject: nul\x00here\r\nFrom: a@b\r\n\r\nbody \x00 with\r\n\x00nul\r\n.dot\r\n",
    b"Subject: no end of header\r\nFrom: a@b\r\n",
    b"Subject: no newline\r\nX-Last: yes",
    b"Subject: plain\r\n\r\nline1\r\nline2\r\n",
)
WORKAROUND_SETS = {"none": "", "outlook-no-nuls": "outlook-no-nuls", "oe-ns-eoh": "oe-ns-eoh",
                   "both": "outlook-no-nuls oe-ns-eoh"}


def commands() -> bytes:
    lines = []
    for n in range(1, len(WORKAROUND_MESSAGES) + 1):
        lines += [f"RETR {n}", f"TOP {n} 0", f"TOP {n} 1"]
    return ("\r\n".join([*lines, "QUIT"]) + "\r\n").encode()


def record(name: str, workarounds: str) -> bytes:
    with tempfile.TemporaryDirectory() as tmp:
        os.chmod(tmp, 0o755)
        home = Path(tmp, "home")
        for sub in ("cur", "new", "tmp"):
            (home / "Maildir" / sub).mkdir(parents=True)
        for n, data in enumerate(WORKAROUND_MESSAGES, 1):
            (home / "Maildir" / "cur" / f"{1000 + n}.M{n}P1.host,S={len(data)}:2,").write_bytes(data)
        conf = Path(tmp, "dovecot.conf")
        conf.write_text(f"base_dir = {tmp}/run\nmail_location = maildir:~/Maildir\nmail_uid = 65534\n"
                        f"mail_gid = 65534\nlog_path = {tmp}/log\nssl = no\n"
                        f"pop3_client_workarounds = {workarounds}\n")
        subprocess.run(["chown", "-R", "65534:65534", str(home)], check=True)
        env = {"USER": "u", "HOME": str(home), "PATH": "/usr/bin:/bin"}
        done = subprocess.run(["/usr/lib/dovecot/pop3", "-c", str(conf)], input=commands(),
                              capture_output=True, env=env, timeout=20, check=False)
        return done.stdout


def main() -> int:
    OUT.mkdir(parents=True, exist_ok=True)
    for name, workarounds in WORKAROUND_SETS.items():
        (OUT / f"{name}.bin").write_bytes(record(name, workarounds))
    return 0


if __name__ == "__main__":
    sys.exit(main())
