"""Record SASL goldens from the real Dovecot 2.3.19 (run by hand; tests only read the output).

    python tests/auth/mechanisms/mech_record_goldens.py

It starts a throw-away Dovecot under a temporary base_dir (no inet listeners, auth_debug on, log
to a file), speaks the auth client protocol on <base_dir>/auth-client, runs every scenario of
mech_scenarios.py, and writes into goldens/:
  transcripts.json   normalised transcripts + the mechanism's own log lines per scenario
  handshake.json     the VERSION/MECH lines Dovecot sends for several auth_mechanisms values
  doveadm_pw.json    `doveadm pw` outputs the credential-format tests check our mechanisms against
  users.passwd-file  the passdb used (created once with doveadm pw, then kept so salts stay fixed)
"""

from __future__ import annotations

import base64
import json
import os
import random
import re
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
GOLDENS = HERE / "goldens"
sys.path.insert(0, str(HERE))

from mech_scenarios import SCENARIOS, Conversation, Reply  # noqa: E402

DOVECOT = "/usr/sbin/dovecot"
DOVEADM = "/usr/bin/doveadm"
MECHANISMS = "plain login cram-md5 digest-md5 scram-sha-1 scram-sha-256 anonymous external"

CONFIG = """\
base_dir = {base}/run
state_dir = {base}/state
log_path = {base}/dovecot.log
protocols = imap
listen = 127.0.0.1
auth_mechanisms = {mechanisms}
auth_anonymous_username = anonuser
auth_debug = yes
auth_verbose = yes
auth_failure_delay = 0
auth_ssl_username_from_cert = yes
{extra}
ssl = no
disable_plaintext_auth = no
passdb {{
  driver = passwd-file
  args = {users}
}}
userdb {{
  driver = static
  args = uid=65534 gid=65534 home={base}/home/%u
}}
service imap-login {{
  inet_listener imap {{
    port = 0
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
"""

VARIANTS = {"default": "", "realms": "auth_realms = example.com example.org"}


def doveadm_pw(scheme: str, password: str, user: str | None = None) -> str:
    cmd = [DOVEADM, "pw", "-s", scheme, "-p", password] + (["-u", user] if user else [])
    return subprocess.run(cmd, check=True, capture_output=True, text=True).stdout.strip()


def make_users_file(path: Path) -> None:
    lines = [
        "plainuser:{PLAIN}secret::::::",
        f"cramuser:{doveadm_pw('CRAM-MD5', 'secret')}::::::",
        f"digestuser:{doveadm_pw('DIGEST-MD5', 'secret', 'digestuser')}::::::",
        f"drealm@example.com:{doveadm_pw('DIGEST-MD5', 'secret', 'drealm@example.com')}::::::",
        f"scram1:{doveadm_pw('SCRAM-SHA-1', 'secret')}::::::",
        f"scram256:{doveadm_pw('SCRAM-SHA-256', 'secret')}::::::",
        "certuser:{PLAIN}secret::::::",
        "nopassuser:::::::nopassword",
        "cert2:::::::nopassword",
        "badscram:{SCRAM-SHA-1}100,YWJj,Zm9v,YmFy::::::",
        "badcram:{CRAM-MD5}abcd::::::",
    ]
    path.write_text("\n".join(lines) + "\n")


def tab_unescape(value: str) -> str:
    """Undo the auth protocol's tab-escaping (\x01 followed by 1, t, r, n or 0)."""
    codes = {"1": "\x01", "t": "\t", "r": "\r", "n": "\n", "0": "\0"}
    return re.sub("\x01(.)", lambda m: codes.get(m.group(1), m.group(1)), value)


class RealDovecot:
    """One running Dovecot; `auth`/`cont` speak the auth client protocol (version 1.2)."""

    def __init__(self, base: Path, users: Path, variant: str, mechanisms: str = MECHANISMS) -> None:
        self.base = base
        base.mkdir(parents=True, exist_ok=True)
        self.conf = base / "dovecot.conf"
        self.conf.write_text(CONFIG.format(base=base, users=users, mechanisms=mechanisms, extra=VARIANTS[variant]))
        subprocess.run([DOVECOT, "-c", str(self.conf)], check=True)
        for _ in range(100):
            if (base / "run" / "auth-client").exists():
                break
            time.sleep(0.05)
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(20)
        self.sock.connect(str(base / "run" / "auth-client"))
        self.buffer = b""
        self.sock.sendall(b"VERSION\t1\t2\nCPID\t%d\n" % os.getpid())
        self.handshake: list[str] = []
        while not self.handshake or self.handshake[-1] != "DONE":
            self.handshake.append(self._line())
        self.next_id = 0
        self.rips: dict[str, int] = {}

    def stop(self) -> None:
        self.sock.close()
        subprocess.run([DOVECOT, "-c", str(self.conf), "stop"], check=False)

    def _line(self) -> str:
        while b"\n" not in self.buffer:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise EOFError("auth server closed the connection")
            self.buffer += chunk
        line, self.buffer = self.buffer.split(b"\n", 1)
        return line.decode("utf-8", "surrogateescape")

    def _reply(self) -> Reply:
        fields = self._line().split("\t")
        if fields[0] == "CONT":
            return Reply("CONT", base64.b64decode(fields[2]))
        return Reply(fields[0], b"", [tab_unescape(f) for f in fields[2:]])

    def auth(self, mech: str, initial: bytes | None, params: dict[str, str]) -> Reply:
        self.next_id += 1
        # A fresh remote IP per request keeps anvil's auth penalty from delaying failures and
        # lets us pick this request's log lines out of the shared log.
        self.rip = f"10.{random.randrange(256)}.{random.randrange(256)}.{random.randrange(1, 255)}"
        fields = ["AUTH", str(self.next_id), mech, "service=imap", "lip=127.0.0.1", "rip=" + self.rip]
        fields += [k if v == "" else f"{k}={v}" for k, v in params.items()]
        if initial is not None:
            fields.append("resp=" + (base64.b64encode(initial).decode() or "="))
        self.sock.sendall(("\t".join(fields) + "\n").encode())
        return self._reply()

    def cont(self, data: bytes) -> Reply:
        self.sock.sendall(b"CONT\t%d\t%s\n" % (self.next_id, base64.b64encode(data)))
        return self._reply()


LOG_LINE = re.compile(r"^\S+ \d+ [\d:]+ auth: (Debug|Info|Warning|Error): ([a-z0-9-]+)\((.*),(10\.[\d.]+)\): (.*)$")
MECH_LOG_NAMES = {"plain", "login", "cram-md5", "digest-md5", "scram-sha-1", "scram-sha-256", "anonymous",
                  "external"}


def mech_log_lines(log: Path) -> dict[str, list[list[str]]]:
    """rip -> [level, user-in-prefix, message] for lines the mechanism itself logged."""
    out: dict[str, list[list[str]]] = {}
    for raw in log.read_bytes().decode("utf-8", "surrogateescape").splitlines():
        m = LOG_LINE.match(raw)
        if m and m.group(2) in MECH_LOG_NAMES:
            out.setdefault(m.group(4), []).append([m.group(1).lower(), m.group(3), m.group(5)])
    return out


def record_transcripts(users: Path) -> list[dict[str, object]]:
    results: list[dict[str, object]] = []
    for variant in VARIANTS:
        with tempfile.TemporaryDirectory(prefix="pydovecot-mech-") as tmp:
            server = RealDovecot(Path(tmp), users, variant)
            try:
                rips: dict[str, str] = {}
                for sc in (s for s in SCENARIOS if s.variant == variant):
                    conv = Conversation(server, sc.mech, sc.params)
                    sc.run(conv)
                    rips[sc.name] = server.rip
                    results.append({"name": sc.name, "mech": sc.mech, "variant": variant, "params": sc.params,
                                    "steps": conv.steps})
                time.sleep(1.0)  # the log process writes asynchronously
                logs = mech_log_lines(Path(tmp) / "dovecot.log")
                for item in results:
                    if item["variant"] == variant:
                        item["mech_log"] = logs.get(rips[str(item["name"])], [])
            finally:
                server.stop()
    return results


def record_handshakes(users: Path) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for mechanisms in (MECHANISMS, "external anonymous scram-sha-256 plain", "DIGEST-MD5 Cram-MD5 login"):
        with tempfile.TemporaryDirectory(prefix="pydovecot-mech-") as tmp:
            server = RealDovecot(Path(tmp), users, "default", mechanisms)
            out[mechanisms] = [line for line in server.handshake if line.startswith(("VERSION", "MECH", "DONE"))]
            server.stop()
    return out


def record_config_errors(users: Path) -> dict[str, str]:
    """auth_mechanisms values the 2.3.19 auth process refuses: its Fatal line for each."""
    out: dict[str, str] = {}
    cases = {"plain scram-sha-1-plus": "", "plain scram-sha-256-plus": "", "plain anonymous": "anon"}
    for mechanisms, marker in cases.items():
        with tempfile.TemporaryDirectory(prefix="pydovecot-mech-") as tmp:
            base = Path(tmp)
            base.mkdir(exist_ok=True)
            conf = base / "dovecot.conf"
            text = CONFIG.format(base=base, users=users, mechanisms=mechanisms, extra="")
            if marker == "anon":
                text = text.replace("auth_anonymous_username = anonuser", "auth_anonymous_username =")
            conf.write_text(text)
            subprocess.run([DOVECOT, "-c", str(conf)], check=True)
            try:
                time.sleep(0.5)
                with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
                    sock.settimeout(5)
                    try:
                        sock.connect(str(base / "run" / "auth-client"))
                        sock.sendall(b"VERSION\t1\t2\nCPID\t1\n")
                        sock.recv(100)
                    except OSError:
                        pass
                time.sleep(1.0)
                fatal = [line.split("auth: Fatal: ", 1)[1] for line in (base / "dovecot.log").read_text().splitlines()
                         if "auth: Fatal: " in line]
                out[mechanisms] = fatal[0] if fatal else ""
            finally:
                subprocess.run([DOVECOT, "-c", str(conf), "stop"], check=False)
    return out


def record_doveadm_pw() -> list[dict[str, str]]:
    out = []
    passwords = ["secret", "", "p\u00e4ssw\u00f6rd", "x" * 70, "with space:colon"]
    for password in passwords:
        out.append({"scheme": "CRAM-MD5", "password": password, "output": doveadm_pw("CRAM-MD5", password)})
        for scheme in ("SCRAM-SHA-1", "SCRAM-SHA-256"):
            out.append({"scheme": scheme, "password": password, "output": doveadm_pw(scheme, password)})
        for user in ("alice", "alice@example.com"):
            out.append({"scheme": "DIGEST-MD5", "password": password, "user": user,
                        "output": doveadm_pw("DIGEST-MD5", password, user)})
    return out


def main() -> None:
    GOLDENS.mkdir(exist_ok=True)
    users = GOLDENS / "users.passwd-file"
    if not users.exists():
        make_users_file(users)
    transcripts = record_transcripts(users)
    (GOLDENS / "transcripts.json").write_text(json.dumps(transcripts, indent=1) + "\n")
    (GOLDENS / "handshake.json").write_text(json.dumps(record_handshakes(users), indent=1) + "\n")
    (GOLDENS / "config_errors.json").write_text(json.dumps(record_config_errors(users), indent=1) + "\n")
    (GOLDENS / "doveadm_pw.json").write_text(json.dumps(record_doveadm_pw(), indent=1) + "\n")
    print(f"recorded {len(transcripts)} transcripts into {GOLDENS}")


if __name__ == "__main__":
    main()
