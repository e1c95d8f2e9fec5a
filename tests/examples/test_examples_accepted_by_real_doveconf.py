"""The shipped configuration trees are valid Dovecot 2.3 configuration.

Three trees: the default tree at the repository root, examples/quickstart and
examples/seed. The live tests ask the real doveconf (the oracle) to read each one
and require a clean exit with nothing on stderr, plus the few settings that make
the tree what it is. The default tree's commented-out examples are checked too,
by uncommenting all of them in a copy. The demo passwords documented in the
READMEs are checked against the stored hashes without Dovecot.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest
from passlib.hash import sha512_crypt

ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class ShippedTree:
    name: str
    config: Path
    # Lines `doveconf -n` must print: the settings that define the tree.
    expected_lines: tuple[str, ...]


TREES = (
    ShippedTree(
        "default",
        ROOT / "dovecot.conf",
        (
            "protocols = imap pop3 lmtp",
            "mail_location = maildir:~/Maildir",
            "  driver = passwd-file",
            "    special_use = \\Sent",
        ),
    ),
    ShippedTree(
        "quickstart",
        ROOT / "examples" / "quickstart" / "dovecot.conf",
        (
            "listen = 127.0.0.1",
            "base_dir = /tmp/pydovecot-quickstart/run",
            "    port = 10143",
            "    port = 10110",
            "    port = 10024",
            "ssl = no",
        ),
    ),
    ShippedTree(
        "seed",
        ROOT / "examples" / "seed" / "dovecot.conf",
        (
            "listen = 127.0.0.1",
            "base_dir = /tmp/pydovecot-seed/run",
            "mail_location = maildir:/tmp/pydovecot-seed/vmail/%d/%n/Maildir",
            "  args = /tmp/pydovecot-seed/dovecot-sql.conf.ext",
            "    address = 127.0.0.1",
            "    port = 10024",
        ),
    ),
)


def _doveconf_n(doveconf: Path, config: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(doveconf), "-c", str(config), "-n"], capture_output=True, text=True, timeout=60, check=False
    )


@pytest.mark.oracle
@pytest.mark.parametrize("tree", TREES, ids=[t.name for t in TREES])
def test_real_doveconf_accepts_tree(tree: ShippedTree, real_dovecot: Path) -> None:
    result = _doveconf_n(real_dovecot / "doveconf", tree.config)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    printed = result.stdout.splitlines()
    for line in tree.expected_lines:
        assert line in printed, f"{tree.name}: {line!r} missing from doveconf -n"
    # No listener of the example trees may leave the loopback address.
    if tree.name != "default":
        assert "10.0.0.70" not in result.stdout


# A commented-out setting is '#' directly followed by the setting ("#name = value",
# "#name {", "#}", "#!include"); prose comments have a space after '#'. Inside
# commented-out blocks the '#' is followed by the block's indentation.
_COMMENTED_SETTING = re.compile(
    r"^(\s*)#(\s*)("
    r"[a-z_][\w/.\-]*(?: \"[^\"]*\"| [\w/.\-]+)?\s*\{\s*$"
    r"|[a-z_][\w/.\-]*\s*=.*"
    r"|\}\s*$"
    r"|!include.*"
    r")$"
)


def _uncomment_settings(text: str) -> str:
    lines = []
    for line in text.splitlines():
        match = _COMMENTED_SETTING.match(line)
        lines.append(match.group(1) + match.group(2) + match.group(3) if match else line)
    return "\n".join(lines) + "\n"


@pytest.mark.oracle
def test_default_tree_examples_are_valid_when_uncommented(tmp_path: Path, real_dovecot: Path) -> None:
    shutil.copy(ROOT / "dovecot.conf", tmp_path / "dovecot.conf")
    shutil.copytree(ROOT / "conf.d", tmp_path / "conf.d")
    uncommented = 0
    for path in [tmp_path / "dovecot.conf", *sorted((tmp_path / "conf.d").iterdir())]:
        original = path.read_text()
        changed = _uncomment_settings(original)
        uncommented += sum(a != b for a, b in zip(original.splitlines(), changed.splitlines(), strict=True))
        path.write_text(changed)
    assert uncommented > 100  # the heuristic really found the examples

    result = _doveconf_n(real_dovecot / "doveconf", tmp_path / "dovecot.conf")
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    # Every auth-*.conf.ext was included and parsed.
    assert "  driver = checkpassword" in result.stdout.splitlines()
    assert "  driver = static" in result.stdout.splitlines()


def _users_file_hashes(path: Path) -> dict[str, str]:
    hashes = {}
    for line in path.read_text().splitlines():
        user, password = line.split(":")[:2]
        hashes[user] = password
    return hashes


def _schema_hashes(path: Path) -> dict[str, str]:
    found = re.findall(r"\('([^']+@[^']+)',\s*'(\{SHA512-CRYPT\}[^']+)'", path.read_text())
    return dict(found)


@pytest.mark.parametrize(
    ("source", "user", "password"),
    [
        ("quickstart", "alice@example.test", "quickstart"),
        ("quickstart", "bob@example.test", "quickstart"),
        ("seed", "alice@example.test", "alice-seed"),
        ("seed", "bob@example.test", "bob-seed"),
    ],
)
def test_documented_demo_password_matches_stored_hash(source: str, user: str, password: str) -> None:
    if source == "quickstart":
        hashes = _users_file_hashes(ROOT / "examples" / "quickstart" / "users")
    else:
        hashes = _schema_hashes(ROOT / "examples" / "seed" / "schema.sql")
    stored = hashes[user]
    assert stored.startswith("{SHA512-CRYPT}$6$")
    assert sha512_crypt.verify(password, stored.removeprefix("{SHA512-CRYPT}"))
    assert not sha512_crypt.verify(password + "x", stored.removeprefix("{SHA512-CRYPT}"))
