"""Talk to real Dovecot's `imap` binary in PREAUTH mode over stdin/stdout (no network, no master).

Used by record_goldens.py and by the live test. The mail is owned by `nobody` because Dovecot
refuses mail access as root.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from tests.storage.search.corpus import build_maildir

IMAP_BIN = Path("/usr/lib/dovecot/imap")
NOBODY = 65534

_CONF = """base_dir = {d}/run
state_dir = {d}/state
log_path = {d}/log
ssl = no
protocols = imap
mail_location = maildir:{d}/mail
mail_uid = {uid}
mail_gid = {uid}
first_valid_uid = 0
first_valid_gid = 0
passdb {{
  driver = static
  args = nopassword
}}
userdb {{
  driver = static
  args = uid={uid} gid={uid} home={d}/home
}}
"""


def available() -> bool:
    return IMAP_BIN.exists()


def _is_tagged(line: str, tag: str) -> bool:
    return line.startswith(tag + " ")


def run_session(commands: list[str], timeout: float = 60.0, tz: str = "UTC") -> list[dict[str, object]]:
    """Run commands (without tags) in one session on a fresh copy of the corpus; one record each:
    {"command", "untagged": [lines], "tagged": "OK ..."}. Timing text is stripped."""
    tmp = Path(tempfile.mkdtemp(prefix="sst-oracle-"))
    try:
        os.chmod(tmp, 0o755)
        for sub in ("run", "state", "home"):
            (tmp / sub).mkdir()
        build_maildir(tmp / "mail")
        uid = NOBODY if os.getuid() == 0 else os.getuid()
        if os.getuid() == 0:
            for path in [tmp / "home", *(tmp / "mail").rglob("*"), tmp / "mail"]:
                os.chown(path, NOBODY, NOBODY)
        (tmp / "dovecot.conf").write_text(_CONF.format(d=tmp, uid=uid))
        tagged = [f"x{i} {cmd}" for i, cmd in enumerate(["SELECT INBOX", *commands, "LOGOUT"])]
        env = {"USER": "nobody", "HOME": str(tmp / "home"), "TZ": tz, "PATH": "/usr/bin:/bin"}
        proc = subprocess.Popen(
            [str(IMAP_BIN), "-c", str(tmp / "dovecot.conf")],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env=env,
        )
        assert proc.stdin is not None and proc.stdout is not None
        results: list[dict[str, object]] = []
        try:
            _read_until(proc, None)  # PREAUTH greeting
            for i, line in enumerate(tagged):
                proc.stdin.write(line.encode("utf-8") + b"\r\n")
                proc.stdin.flush()
                untagged, final = _read_until(proc, f"x{i}")
                if i == 0 or i == len(tagged) - 1:
                    continue
                results.append({"command": commands[i - 1], "untagged": untagged, "tagged": final})
        finally:
            proc.stdin.close()
            proc.wait(timeout=timeout)
        return results
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _read_until(proc: subprocess.Popen[bytes], tag: str | None) -> tuple[list[str], str]:
    assert proc.stdout is not None
    untagged: list[str] = []
    while True:
        raw = proc.stdout.readline()
        if not raw:
            raise RuntimeError("imap exited early")
        line = raw.decode("utf-8", "replace").rstrip("\r\n")
        if tag is None:
            return [], line
        if _is_tagged(line, tag):
            return untagged, _strip_timing(line[len(tag) + 1 :])
        untagged.append(line)


def _strip_timing(text: str) -> str:
    cut = text.find(" (")
    return text[:cut] + "." if cut > 0 and text.endswith("secs).") else text
