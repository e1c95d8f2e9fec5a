"""checkpassword passdb + userdb: a config running checkpassword_script.py, the exchanges the
goldens hold, and normalising of process ids and temp paths in answers and log lines."""

from __future__ import annotations

import re
import shutil
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "e2e"))
from e2e_support import Setup, auth_client, b64, master_client, write_conf  # noqa: E402

SCRIPT = Path(__file__).parent / "checkpassword_script.py"

CONF = """protocols =
ssl = no
base_dir = {base}
auth_mechanisms = plain login
auth_failure_delay = 0
auth_verbose = yes
passdb {{
  driver = checkpassword
  args = {dir}/check.py
}}
userdb {{
  driver = checkpassword
  args = {dir}/check.py
}}
"""


def write_setup(directory: Path) -> Setup:
    shutil.copy(SCRIPT, directory / "check.py")
    (directory / "check.py").chmod(0o755)
    (directory / "users").write_text("")  # e2e_support.real_config expects one
    (directory / "envs").mkdir()
    (directory / "envs").chmod(0o777)  # the script writes its env-*.json here, whoever runs it
    return write_conf(directory, CONF)


def plain(user: str, password: str) -> str:
    return b64(f"\0{user}\0{password}".encode())


LOGINS = [("jane", "jane-pw"), ("jane", "wrong"), ("ghost", "x"), ("temp", "x"), ("usage", "x"),
          ("silent", "x"), ("killed", "x"), ("renamed", "renamed-pw")]
LOOKUPS = ["USER\t1\tjane", "USER\t2\tghost", "USER\t3\ttemp", "USER\t4\tusage", "USER\t5\tsilent",
           "PASS\t6\talice", "PASS\t7\tghost", "PASS\t8\ttemp"]


async def transcript(base_dir: Path) -> dict[str, list[str]]:
    """{exchange: lines}. The logins say no-penalty: real Dovecot would otherwise hold each
    request after a failure from the same IP for up to 15 s (its auth penalty)."""
    out: dict[str, list[str]] = {}
    client, _ = await auth_client(base_dir / "auth-client")
    for rid, (user, password) in enumerate(LOGINS, 1):
        await client.send(f"AUTH\t{rid}\tPLAIN\tservice=imap\tno-penalty\tlip=127.0.0.2\trip=127.0.0.1\tlport=143\t"
                          f"rport=40000\tresp={plain(user, password)}\n")
        out[f"plain_{user}_{password}"] = [await client.line()]
    await client.close()
    master, _ = await master_client(base_dir / "auth-master")
    for command in LOOKUPS:
        await master.send(f"{command}\tservice=imap\trip=127.0.0.1\n")
        out[command.replace("\t", "_")] = [await master.line()]
    await master.close()
    return out


_PID = re.compile(r"Child \d+ ")
_PREFIX = re.compile(r"^.*? auth: (?:Info|Error|Warning): ")


def normalise_log(line: str) -> str:
    return _PID.sub("Child * ", line)


def auth_log_lines(log_text: str) -> list[str]:
    return [normalise_log(_PREFIX.sub("", line)) for line in log_text.splitlines() if _PREFIX.match(line)]
