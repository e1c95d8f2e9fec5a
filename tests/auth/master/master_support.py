"""Master users over the auth-client socket: a config with two master passdbs, the exchanges
the goldens hold, and a log reader for real Dovecot's auth lines.

Users (passwd-file, PLAIN scheme): jane/jane-pw and alice/alice-pw are normal users; admin/admin-pw
is a master user (``master = yes``) and boss/boss-pw one whose target must also pass the normal
passdbs (``master = yes`` + ``pass = yes``). ``auth_master_user_separator = *``.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "e2e"))
from e2e_support import Setup, auth_client, b64, login_exchange, write_conf  # noqa: E402

CONF = """protocols =
ssl = no
base_dir = {base}
auth_mechanisms = plain login
auth_failure_delay = 0
auth_verbose = yes
auth_master_user_separator = *
passdb {{
  driver = passwd-file
  args = {dir}/users
}}
passdb {{
  driver = passwd-file
  master = yes
  args = {dir}/masters
}}
passdb {{
  driver = passwd-file
  master = yes
  pass = yes
  args = {dir}/strict-masters
}}
userdb {{
  driver = passwd-file
  args = {dir}/users
}}
"""


def write_setup(directory: Path) -> Setup:
    (directory / "users").write_text(
        "jane:{PLAIN}jane-pw:1000:1000::/home/jane::\n"
        "alice:{PLAIN}alice-pw:1001:1001::/home/alice::\n")
    (directory / "masters").write_text("admin:{PLAIN}admin-pw\n")
    (directory / "strict-masters").write_text("boss:{PLAIN}boss-pw\n")
    return write_conf(directory, CONF)


def plain3(authzid: str, authcid: str, password: str) -> str:
    return b64(f"{authzid}\0{authcid}\0{password}".encode())


# (name, authzid, authcid, password) for PLAIN.
PLAIN_CASES = [
    ("separator", "", "jane*admin", "admin-pw"),
    ("authzid", "jane", "admin", "admin-pw"),
    ("authzid_unknown_target", "ghost", "admin", "admin-pw"),
    ("authzid_wrong_master_pw", "jane", "admin", "wrong"),
    ("authzid_unknown_master", "jane", "nobody", "admin-pw"),
    ("pass_yes_known_target", "jane", "boss", "boss-pw"),
    ("pass_yes_unknown_target", "ghost", "boss", "boss-pw"),
    ("separator_pass_yes", "", "alice*boss", "boss-pw"),
    ("authzid_is_self", "jane", "jane", "jane-pw"),
    ("normal_user_as_other", "alice", "jane", "jane-pw"),
    ("normal_user_as_master", "", "alice*jane", "jane-pw"),
    ("uppercase_target", "JANE", "admin", "admin-pw"),
    ("plain_normal", "", "jane", "jane-pw"),
    ("master_pw_without_authzid", "", "admin", "admin-pw"),
]


async def transcript(base_dir: Path) -> dict[str, list[str]]:
    """{case: server lines} over the auth-client socket (one request at a time)."""
    out: dict[str, list[str]] = {}
    client, _ = await auth_client(base_dir / "auth-client")
    for rid, (name, authzid, authcid, password) in enumerate(PLAIN_CASES, 1):
        await client.send(f"AUTH\t{rid}\tPLAIN\tservice=imap\tno-penalty\trip=127.0.0.1\t"
                          f"resp={plain3(authzid, authcid, password)}\n")
        out[name] = [await client.line()]
    out["login_separator"] = await login_exchange(client, 100, "jane*admin", "admin-pw")
    out["login_separator_wrong"] = await login_exchange(client, 101, "jane*admin", "nope")
    await client.close()
    return out


_LOG_PREFIX = re.compile(r"^.*? auth: (?:Info|Error|Warning): ")


def auth_log_lines(log_text: str) -> list[str]:
    """Real Dovecot's `auth: Info: ...` lines without the timestamp and level prefix."""
    return [_LOG_PREFIX.sub("", line) for line in log_text.splitlines() if _LOG_PREFIX.match(line)]


# doveadm auth test/login with master users: (argv after "doveadm -c CONF").
DOVEADM_CASES = [
    ["auth", "test", "jane*admin", "admin-pw"],
    ["auth", "test", "jane*admin", "wrong"],
    ["auth", "login", "jane*admin", "admin-pw"],
    ["auth", "login", "ghost*boss", "boss-pw"],
    ["auth", "login", "jane*boss", "boss-pw"],
    ["auth", "login", "ghost*admin", "admin-pw"],
]


def doveadm_outputs(command: list[str], conf: Path) -> dict[str, dict[str, object]]:
    """{case: {rc, stdout, stderr}} of ``command -c conf`` for each DOVEADM_CASES entry."""
    import subprocess

    out: dict[str, dict[str, object]] = {}
    for args in DOVEADM_CASES:
        run = subprocess.run([*command, "-c", str(conf), *args], capture_output=True, text=True, timeout=60)
        out[" ".join(args)] = {"rc": run.returncode, "stdout": run.stdout, "stderr": run.stderr}
    return out
