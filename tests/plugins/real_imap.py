"""Drive the real ``imap`` binary in PREAUTH mode (no daemon) for oracle tests of the plugins.

``/usr/lib/dovecot/imap -c CONF`` with USER and HOME set serves one session on stdin/stdout;
its log lines go to stderr (``log_path = /dev/stderr``). Mail is owned by a non-root uid
(65534 when the tests run as root) inside a directory every user can traverse.
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

IMAP_BINARY = Path("/usr/lib/dovecot/imap")
# "imap(u)<pid><session>: Info: " -> the text after it.
_PREFIX = re.compile(r"^imap\([^)]*\)<\d+><[^>]*>: (\w+): ")


def mail_uid() -> int:
    return 65534 if os.getuid() == 0 else os.getuid()


def make_home(root: Path, name: str = "home") -> Path:
    home = root / name
    home.mkdir(exist_ok=True)
    if os.getuid() == 0:
        os.chown(home, mail_uid(), mail_uid())
    return home


def config(root: Path, home: Path, body: str) -> Path:
    """A config for real imap and for us: Maildir in ``home``, logs to stderr."""
    conf = root / "dovecot.conf"
    conf.write_text(
        f"mail_location = maildir:{home}/Maildir\n"
        f"base_dir = {root}/run\nstate_dir = {root}/state\nssl = no\nfirst_valid_uid = 0\n"
        f"mail_uid = {mail_uid()}\nmail_gid = {mail_uid()}\n"
        "log_path = /dev/stderr\ninfo_log_path = /dev/stderr\n" + body)
    return conf


Command = bytes | tuple[bytes, bytes]
"""An IMAP command without its tag, or (command, literal) for APPEND."""


def run_imap(conf: Path, home: Path, commands: list[Command], user: str = "u", timeout: float = 30) -> tuple[str, str]:
    """Send the commands one at a time (waiting for each tagged reply); (responses, log)."""
    env = {"USER": user, "HOME": str(home), "PATH": "/usr/bin:/bin"}
    script = bytearray()
    # Every command is sent at once with LITERAL+; the server answers them in order.
    for index, command in enumerate(commands):
        tag = b"t%d " % index
        if isinstance(command, tuple):
            head, data = command
            script += tag + head + b" {%d+}\r\n" % len(data) + data + b"\r\n"
        else:
            script += tag + command + b"\r\n"
    proc = subprocess.run([str(IMAP_BINARY), "-c", str(conf)], input=bytes(script), capture_output=True,
                          env=env, timeout=timeout, check=False)
    return proc.stdout.decode("utf-8", "replace"), proc.stderr.decode("utf-8", "replace")


def log_lines(stderr: str, level: str = "Info") -> list[str]:
    """The log texts after the prefix, without the session's closing "Disconnected" line."""
    out = []
    for line in stderr.splitlines():
        match = _PREFIX.match(line)
        if match and match.group(1) == level and not line[match.end():].startswith("Disconnected"):
            out.append(line[match.end():])
    return out


def tagged(responses: str) -> dict[str, str]:
    """tag -> its final response line, timing "(0.001 + 0.000 secs)" removed."""
    out = {}
    for line in responses.splitlines():
        match = re.match(r"^(t\d+) (.*?)(?: \(\d+\.\d+ \+ \d+\.\d+(?: \+ \d+\.\d+)? secs\))?\.?\s*$", line)
        if match:
            out[match.group(1)] = match.group(2)
    return out
