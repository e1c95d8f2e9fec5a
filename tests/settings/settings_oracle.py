"""Talking to the real doveconf 2.3 for the settings registry's goldens and live checks.

Run as a script (``python tests/settings/settings_oracle.py``) to re-record every golden
under ``tests/settings/goldens/`` from the installed Dovecot.  The live tests import the
same functions, so a recorded golden and a fresh run are produced the same way.
"""

from __future__ import annotations

import re
import subprocess
import tempfile
from collections.abc import Iterable
from pathlib import Path

DOVECONF = "/usr/bin/doveconf"
GOLDENS = Path(__file__).resolve().parent / "goldens"
EMPTY_CONF = GOLDENS / "empty.conf"
EVERYTHING_CONF = GOLDENS / "everything.conf"

# Every config module name doveconf 2.3.19 knows (the module_name of each settings root
# it links).  ``doveconf -m NAME`` with any other name prints just the settings every
# process reads (the master-service ones).
MODULES: tuple[str, ...] = (
    "aggregator",
    "auth",
    "dict",
    "director",
    "doveadm",
    "fs-crypt",
    "imap",
    "imap-login",
    "imap-urlauth",
    "imap-urlauth-login",
    "imap-urlauth-worker",
    "imapc",
    "lda",
    "lmtp",
    "login",
    "mail",
    "maildir",
    "master",
    "mbox",
    "mdbox",
    "pop3",
    "pop3-login",
    "pop3c",
    "replicator",
    "smtp-submit",
    "ssl",
    "ssl-server",
    "stats",
    "submission",
    "submission-login",
)

# One bad value per value type: each type rejects some of these with its own message,
# and plain strings accept them all.  The message tells the type apart (see ``classify``).
PROBE_VALUES: tuple[str, ...] = ("maybe", "0x1", "100ms", "3600")

# Where a setting of a section type is written so that doveconf parses it.  "{}" is the
# probe line; the other lines are the least the section needs to pass doveconf's checks.
SECTION_WRAPPERS: dict[str, str] = {
    "": "{}\n",
    "service": "service probe {{\n{}\n}}\n",
    "unix_listener": "service probe {{\nunix_listener probe {{\n{}\n}}\n}}\n",
    "fifo_listener": "service probe {{\nfifo_listener probe {{\n{}\n}}\n}}\n",
    "inet_listener": "service probe {{\ninet_listener probe {{\n{}\n}}\n}}\n",
    "namespace": "namespace probe {{\n{}\n}}\n",
    "mailbox": "namespace probe {{\nmailbox probe {{\n{}\n}}\n}}\n",
    "passdb": "passdb {{\ndriver = pam\n{}\n}}\n",
    "userdb": "userdb {{\ndriver = passwd\n{}\n}}\n",
    "metric": "metric probe {{\nfilter = event=x\n{}\n}}\n",
    "event_exporter": (
        "event_exporter probe {{\nformat = json\nformat_args = time-rfc3339\ntransport = log\n{}\n}}\n"
    ),
}

_LINE_PREFIX = re.compile(r"^doveconf: (?:Fatal|Error): (?:Error in configuration file \S+(?: line \d+)?: )?")


def run_doveconf(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [DOVECONF, "-c", str(config), *args],
        capture_output=True,
        text=True,
        check=False,
        timeout=30,
    )


def dump(config: Path, *args: str) -> str:
    """``doveconf -c CONFIG ARGS`` output; raises if doveconf fails."""
    proc = run_doveconf(config, *args)
    if proc.returncode != 0:
        raise RuntimeError(f"doveconf {' '.join(args)} failed: {proc.stderr.strip()}")
    return proc.stdout


def without_banner(text: str) -> list[str]:
    """The dump lines without the leading '#' banner (version, OS, hostname differ per machine)."""
    return [line for line in text.splitlines() if not line.startswith("#")]


def first_error(stderr: str) -> str:
    """The first error message doveconf printed, without its file/line prefix ('' if none)."""
    for line in stderr.splitlines():
        if line.startswith(("doveconf: Fatal:", "doveconf: Error:")):
            return _LINE_PREFIX.sub("", line)
    return ""


def probe(section: str, key: str, value: str) -> str:
    """The error doveconf gives for ``key = value`` inside ``section`` ('' when accepted)."""
    text = SECTION_WRAPPERS[section].format(f"{key} = {value}")
    with tempfile.NamedTemporaryFile("w", suffix=".conf", delete=False) as f:
        f.write(text)
        path = Path(f.name)
    try:
        return first_error(run_doveconf(path, "-n").stderr)
    finally:
        path.unlink()


def probe_all(targets: Iterable[tuple[str, str]]) -> list[tuple[str, str, str, str]]:
    """(section, key, value, error) for every target and every probe value."""
    rows = []
    for section, key in targets:
        for value in PROBE_VALUES:
            rows.append((section, key, value, probe(section, key, value)))
    return rows


def classify(errors: dict[str, str]) -> str:
    """The value type (a ``Kind`` value, STR standing for both string kinds) that explains
    the errors doveconf gave for the probe values."""
    maybe = errors["maybe"]
    if maybe.startswith("Invalid boolean value"):
        return "bool"
    if maybe.startswith("Invalid size"):
        return "size"
    if maybe.startswith("Invalid port number"):
        return "port"
    if maybe.startswith("Invalid value: maybe"):
        return "enum"
    if errors["0x1"].startswith("Invalid number: "):
        return "octal"
    if errors["0x1"].startswith("Invalid number 0x1"):
        return "uint"
    if errors["100ms"].startswith("Milliseconds not supported"):
        return "time"
    if "is missing units" in errors["3600"]:
        return "time_msecs"
    return "str"


def read_probes(path: Path) -> dict[tuple[str, str], dict[str, str]]:
    table: dict[tuple[str, str], dict[str, str]] = {}
    for line in path.read_text().splitlines():
        section, key, value, error = line.split("\t")
        table.setdefault((section, key), {})[value] = error
    return table


def probe_targets() -> list[tuple[str, str]]:
    """Every (section, setting) of the registry that is a plain value (not a list)."""
    from pydovecot.settings import ROOT, SECTION_TYPES
    from pydovecot.settings.model import Kind

    targets = []
    for section in (ROOT, *SECTION_TYPES.values()):
        if section.name not in SECTION_WRAPPERS:
            continue
        for s in section.settings:
            if s.kind not in (Kind.LIST, Kind.STRLIST):
                targets.append((section.name, s.name))
    return targets


def _run_text(text: str, *args: str) -> subprocess.CompletedProcess[str]:
    with tempfile.NamedTemporaryFile("w", suffix=".conf", delete=False) as f:
        f.write(text)
        path = Path(f.name)
    try:
        return run_doveconf(path, *args)
    finally:
        path.unlink()


def refused_in_net_filter(key: str, value: str) -> bool:
    """Whether doveconf refuses ``key = value`` inside a remote block as an auth setting."""
    proc = _run_text(f"remote 192.0.2.1 {{\n{key} = {value}\n}}\n", "-n")
    return "Auth settings not supported inside local/remote blocks" in proc.stderr


def net_filter_refusals() -> list[str]:
    """Every top-level plain setting doveconf refuses inside local/remote blocks, plus the
    passdb/userdb sections (tried as sections)."""
    from pydovecot.settings import ROOT
    from pydovecot.settings.model import Kind

    refused = [
        s.name
        for s in ROOT.settings
        if s.kind not in (Kind.LIST, Kind.STRLIST) and refused_in_net_filter(s.name, s.default)
    ]
    for section, body in (("passdb", "driver = pam"), ("userdb", "driver = passwd")):
        proc = _run_text(f"remote 192.0.2.1 {{\n{section} {{\n{body}\n}}\n}}\n", "-n")
        if "Auth settings not supported inside local/remote blocks" in proc.stderr:
            refused.append(section)
    return sorted(refused)


def hidden_as_secret(key: str, value: str = "probe") -> bool | None:
    """Whether ``doveconf -n`` hides ``key = value`` behind "# hidden, use -P to show it";
    None when doveconf rejects the value."""
    proc = _run_text(f"{key} = {value}\n", "-n")
    if proc.returncode != 0:
        return None
    for line in proc.stdout.splitlines():
        if line.startswith(f"{key} = "):
            return line == f"{key} = # hidden, use -P to show it"
    return None


def record() -> None:
    """Re-record every golden from the installed Dovecot."""
    (GOLDENS / "doveconf_a_empty.txt").write_text(dump(EMPTY_CONF, "-a"))
    (GOLDENS / "doveconf_a_everything.txt").write_text(dump(EVERYTHING_CONF, "-a"))
    for name, conf in (("empty", EMPTY_CONF), ("everything", EVERYTHING_CONF)):
        folder = GOLDENS / "modules" / name
        folder.mkdir(parents=True, exist_ok=True)
        for module in MODULES:
            (folder / f"{module}.txt").write_text(dump(conf, "-m", module, "-a"))
    rows = probe_all(probe_targets())
    (GOLDENS / "kind_probes.tsv").write_text("".join("\t".join(r) + "\n" for r in rows))
    (GOLDENS / "net_filter_refused.txt").write_text("".join(k + "\n" for k in net_filter_refusals()))


if __name__ == "__main__":
    record()
