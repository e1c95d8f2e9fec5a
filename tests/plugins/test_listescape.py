"""listescape: the directory names real Dovecot 2.3.19 gives escaped mailbox names (Maildir++).

``goldens/listescape.json`` holds, per namespace separator, the names created and the
Maildir++ folder directories real Dovecot made for them; the live test re-records them.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from pydovecot.config import load
from pydovecot.plugins.listescape import ListEscaper
from pydovecot.storage.mail_user import create_mail_user
from tests.conftest import require_real_dovecot
from tests.plugins.real_imap import IMAP_BINARY, config, make_home, run_imap

GOLDEN = Path(__file__).parent / "goldens" / "listescape.json"
NAMES = {
    "/": ["a.b", "c\\d", "e~f", "g/h.i", "j\\2ek", "x%y", "sp ace", "~x", "a/~b", ".dot", "tail.", "q\\", "ö.u"],
    ".": ["a/b", "c\\d", "e.f", "~g", "h/.i"],
}


def body(separator: str, char: str | None = None) -> str:
    extra = f"plugin {{\n  listescape_char = {char}\n}}\n" if char else ""
    return f"mail_plugins = listescape\nnamespace inbox {{\n  separator = {separator}\n  inbox = yes\n}}\n{extra}"


def quoted(name: str) -> bytes:
    from pydovecot.imap.protocol.mutf7 import encode_mutf7

    return b'"' + encode_mutf7(name).replace(b"\\", b"\\\\") + b'"'


def folders(maildir: Path) -> list[str]:
    return sorted(entry for entry in os.listdir(maildir) if entry.startswith(".") and entry not in (".", ".."))


def ours(root: Path, separator: str) -> tuple[list[str], list[str]]:
    home = root / "ours"
    home.mkdir()
    conf = config(root, home, body(separator))
    user = create_mail_user(load(str(conf)).lookup(service="imap"), "u", {"home": str(home)}, service="imap")
    for name in NAMES[separator]:
        user.create_mailbox(name)
    listed = sorted(m.vname for m in user.namespaces.list("*") if "\\Noselect" not in m.flags)
    return folders(home / "Maildir"), listed


@pytest.mark.parametrize("separator", sorted(NAMES))
def test_directories_match_real_golden(tmp_path: Path, separator: str) -> None:
    dirs, listed = ours(tmp_path, separator)
    assert dirs == json.loads(GOLDEN.read_text())[separator]
    # The names read back from the directories are the names created.
    assert listed == sorted(["INBOX", *NAMES[separator]])


@pytest.mark.parametrize("separator", sorted(NAMES))
def test_live_against_real_imap(open_tmp_path: Path, separator: str) -> None:
    require_real_dovecot()
    if not IMAP_BINARY.exists():
        pytest.skip("no real imap binary")
    home = make_home(open_tmp_path, "real")
    conf = config(open_tmp_path, home, body(separator))
    responses, _ = run_imap(conf, home, [b"create " + quoted(name) for name in NAMES[separator]] + [b"logout"])
    assert "NO" not in [line.split()[1] for line in responses.splitlines() if line.startswith("t")]
    real = folders(home / "Maildir")
    assert real == json.loads(GOLDEN.read_text())[separator]
    assert ours(open_tmp_path, separator)[0] == real


def test_escape_char_setting(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    conf = config(tmp_path, home, body("/", "+"))
    user = create_mail_user(load(str(conf)).lookup(service="imap"), "u", {"home": str(home)}, service="imap")
    user.create_mailbox("a.b+c")
    assert folders(home / "Maildir") == [".a+2eb+2bc"]
    assert [m.vname for m in user.namespaces.list("a*")] == ["a.b+c"]


def test_round_trip() -> None:
    escaper = ListEscaper()
    for level in ["a.b", "~x", "x~", "\\2e", "a/b", "plain"]:
        assert escaper.unescape(escaper.escape(level)) == level
    assert escaper.escape("~a.b\\") == "\\7ea\\2eb\\5c"


def record() -> None:  # pragma: no cover - run by hand: python -m tests.plugins.test_listescape
    import shutil
    import tempfile

    out = {}
    for separator, names in NAMES.items():
        root = Path(tempfile.mkdtemp(prefix="pydovecot-listescape-"))
        root.chmod(0o755)
        try:
            home = make_home(root, "real")
            run_imap(config(root, home, body(separator)), home, [b"create " + quoted(n) for n in names] + [b"logout"])
            out[separator] = folders(home / "Maildir")
        finally:
            shutil.rmtree(root, ignore_errors=True)
    GOLDEN.write_text(json.dumps(out, indent=1, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    record()
