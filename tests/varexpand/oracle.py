"""Drive the real Dovecot 2.3 as an oracle for %-variable expansion.

Dovecot's auth process expands ``auth_username_format`` with the full authentication variable
table and, unlike userdb templates, keeps the expanded text even when a variable is unknown (a
userdb template with an unknown variable makes 2.3.19's auth process panic).  Settings may be
filtered per protocol, and ``doveadm user -x service=NAME`` picks the protocol, so one daemon
with one ``protocol tNNNN { auth_username_format = ... }`` block per template expands many
templates.  The expansion is prefixed with a marker so that the result is never equal to the
username (doveadm omits the ``user`` field when the username did not change); a prefix cannot
change how the template after it is parsed, a suffix could.

This module is shared by the golden recorder (``record_goldens.py``) and the live test.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

DOVECOT = "/usr/sbin/dovecot"
DOVEADM = "/usr/bin/doveadm"
DOVECONF = "/usr/bin/doveconf"
MARKER = "<"
# Environment variable the auth process sees (through import_environment), for %{env:...}.
ORACLE_ENV = {"VXTEST": "hello_world", "VXEMPTY": ""}
# Connection details passed to the auth request with doveadm user -x.
AUTH_INFO = {"local_ip": "192.0.2.1", "remote_ip": "2001:db8::7", "local_port": "143", "remote_port": "50123"}
_AUTH_INFO_ARGS = {"local_ip": "lip", "remote_ip": "rip", "local_port": "lport", "remote_port": "rport"}


def quote_config_value(value: str) -> str:
    """Quote a value for dovecot.conf (a double-quoted string with backslash escapes)."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


@dataclass
class OracleRun:
    """A private Dovecot instance whose protocols each carry one username_format template."""

    templates: Sequence[str]
    first_index: int = 0
    workdir: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="pydovecot-vx-", dir="/tmp")))
    started: bool = False

    def service_name(self, index: int) -> str:
        """The protocol (service) name whose username_format is template ``index``."""
        return service_name(self.first_index + index)

    @property
    def config_path(self) -> Path:
        return self.workdir / "dovecot.conf"

    def write_config(self) -> None:
        env = " ".join(f"{k}={v}" for k, v in ORACLE_ENV.items())
        lines = [
            f"base_dir = {self.workdir}/run",
            f"state_dir = {self.workdir}/state",
            f"log_path = {self.workdir}/dovecot.log",
            "protocols =",
            "ssl = no",
            "default_internal_user = root",
            "default_internal_group = root",
            "default_login_user = root",
            "auth_username_format =",
            "auth_username_chars =",
            "auth_cache_size = 0",
            f"import_environment = TZ {env}",
            "passdb {",
            "  driver = static",
            "  args = nopassword",
            "}",
            "userdb {",
            "  driver = static",
            "  args = uid=1000 gid=1000",
            "}",
        ]
        for i, template in enumerate(self.templates):
            lines.append(f"protocol {self.service_name(i)} {{")
            lines.append(f"  auth_username_format = {quote_config_value(MARKER + template)}")
            lines.append("}")
        (self.workdir / "run").mkdir(parents=True, exist_ok=True)
        (self.workdir / "state").mkdir(parents=True, exist_ok=True)
        self.config_path.write_text("\n".join(lines) + "\n", encoding="utf-8")

    def check_config_roundtrip(self) -> list[str]:
        """Templates that doveconf reads back differently from what we meant to write."""
        out = subprocess.run([DOVECONF, "-c", str(self.config_path), "-n"],
                             capture_output=True, check=True).stdout.decode("utf-8", "surrogateescape")
        seen: dict[str, str] = {}
        current = None
        for line in out.split("\n"):
            if line.startswith("protocol ") and line.endswith(" {"):
                current = line[len("protocol "):-2]
            elif current is not None and line.startswith("  auth_username_format = "):
                seen[current] = line[len("  auth_username_format = "):]
        return [t for i, t in enumerate(self.templates) if seen.get(self.service_name(i)) != MARKER + t]

    def start(self) -> None:
        if not self.config_path.exists():
            self.write_config()
        # The daemon keeps inherited descriptors open, so never capture its output.
        subprocess.run([DOVECOT, "-c", str(self.config_path)], check=True,
                       stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.started = True
        socket_path = self.workdir / "run" / "auth-userdb"
        deadline = time.monotonic() + 20
        while not socket_path.exists():
            if time.monotonic() > deadline:
                raise RuntimeError(f"dovecot did not create {socket_path}")
            time.sleep(0.05)

    def stop(self) -> None:
        if self.started:
            subprocess.run([DOVEADM, "-c", str(self.config_path), "stop"],
                           stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            self.started = False

    def cleanup(self) -> None:
        self.stop()
        shutil.rmtree(self.workdir, ignore_errors=True)

    def _lookup(self, index: int, usernames: Sequence[str]) -> tuple[int, list[str]]:
        args = [DOVEADM, "-c", str(self.config_path), "user", "-f", "user",
                "-x", f"service={self.service_name(index)}"]
        for name, value in AUTH_INFO.items():
            args += ["-x", f"{_AUTH_INFO_ARGS[name]}={value}"]
        proc = subprocess.run([*args, *usernames], capture_output=True)
        out = proc.stdout.decode("utf-8", "surrogateescape")
        # doveadm separates users with an empty line; the marker keeps every value non-empty.
        records = out[:-1].split("\n\n") if out.endswith("\n") else []
        return proc.returncode, records

    def expand(self, index: int, usernames: Sequence[str]) -> list[str | None]:
        """Template ``index`` expanded for each username; None where the lookup failed."""
        rc, records = self._lookup(index, usernames)
        if rc != 0 or len(records) != len(usernames) or not all(r.startswith(MARKER) for r in records):
            if len(usernames) > 1:  # find out which one failed
                return [self.expand(index, [u])[0] for u in usernames]
            return [None]
        return [r[len(MARKER):] for r in records]

    def auth_log(self) -> str:
        path = self.workdir / "dovecot.log"
        return path.read_text("utf-8", "replace") if path.exists() else ""


def service_name(index: int) -> str:
    return f"t{index:04d}"


def table_for(service: str, username: str) -> dict[str, str | None]:
    """The authentication variable table the oracle's auth process used for one lookup."""
    table: dict[str, str | None] = {"user": username, "service": service}
    table.update(AUTH_INFO)
    return table


def process_info() -> dict[str, str]:
    """Built-in values of the oracle's auth process (it runs as root on this host)."""
    return {"uid": "0", "gid": "0", "hostname": os.environ.get("DOVECOT_HOSTNAME") or socket.gethostname()}


def run_oracle(templates: Sequence[str], usernames: Sequence[str], *, batch: int = 50,
               ) -> tuple[dict[tuple[int, str], str | None], list[str]]:
    """Expand every template for every username with the real Dovecot.

    Returns the results keyed by (template index, username) and the templates that could not be
    written to dovecot.conf faithfully.  Templates run in batches because every doveadm call
    parses the whole config, which gets slow with hundreds of protocol blocks.
    """
    results: dict[tuple[int, str], str | None] = {}
    unquotable: list[str] = []
    for start in range(0, len(templates), batch):
        run = OracleRun(list(templates[start:start + batch]), first_index=start)
        try:
            run.write_config()
            unquotable += run.check_config_roundtrip()
            run.start()
            for i in range(len(run.templates)):
                for user, value in zip(usernames, run.expand(i, usernames), strict=True):
                    results[(start + i, user)] = value
        finally:
            run.cleanup()
    return results, unquotable


def run_error_oracle(templates: Sequence[str], username: str) -> list[str | None]:
    """The error Dovecot reports for each template (None when it expands cleanly).

    Each template is a userdb static field inside its own protocol block; a failed expansion is
    logged as "Failed to expand template: <error>" (2.3.19's auth process then panics and is
    restarted by the master, which is harmless here).  Templates must not contain spaces.
    """
    run = OracleRun([])
    blocks = []
    for i, template in enumerate(templates):
        if " " in template:
            raise ValueError(f"userdb templates cannot contain spaces: {template!r}")
        blocks += [f"protocol {service_name(i)} {{", "  userdb {", "    driver = static",
                   f"    args = uid=1000 gid=1000 x={template}", "  }", "}"]
    try:
        run.write_config()
        text = run.config_path.read_text()
        # The generic config has a global userdb; per-protocol ones replace it here.
        text = text.replace("userdb {\n  driver = static\n  args = uid=1000 gid=1000\n}\n", "")
        run.config_path.write_text(text + "\n".join(blocks) + "\n")
        run.start()
        log = run.workdir / "dovecot.log"
        results: list[str | None] = []
        for i in range(len(templates)):
            before = log.stat().st_size if log.exists() else 0
            proc = subprocess.run(
                [DOVEADM, "-c", str(run.config_path), "user", "-x", f"service={service_name(i)}", username],
                capture_output=True,
            )
            error = None
            if proc.returncode != 0:
                deadline = time.monotonic() + 5
                while error is None and time.monotonic() < deadline:
                    with log.open("rb") as f:
                        f.seek(before)
                        for line in f.read().decode("utf-8", "surrogateescape").splitlines():
                            if "Failed to expand template: " in line:
                                error = line.split("Failed to expand template: ", 1)[1]
                                break
                    if error is None:
                        time.sleep(0.05)
            results.append(error)
        return results
    finally:
        run.cleanup()
