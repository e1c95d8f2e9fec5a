"""``SettingsTree.lookup`` merges once per set of matching filters and hands out that node."""

from __future__ import annotations

from pathlib import Path

from pydovecot.config import load

CONF = """
login_greeting = everyone
protocol imap {
  login_greeting = imap
}
remote 192.0.2.0/24 {
  login_greeting = lab
}
"""


def test_same_filters_share_one_merged_node(tmp_path: Path) -> None:
    conf = tmp_path / "dovecot.conf"
    conf.write_text(CONF)
    tree = load(str(conf))
    first = tree.lookup(service="imap", local="127.0.0.1", remote="198.51.100.1")
    # another address that matches the same filters: the same merge
    again = tree.lookup(service="imap", local="127.0.0.2", remote="198.51.100.9")
    assert again is first
    assert first.get("login_greeting") == "imap"


def test_different_filters_get_their_own_values(tmp_path: Path) -> None:
    conf = tmp_path / "dovecot.conf"
    conf.write_text(CONF)
    tree = load(str(conf))
    imap = tree.lookup(service="imap", remote="198.51.100.1")
    lab = tree.lookup(service="pop3", remote="192.0.2.7")
    plain = tree.lookup(service="pop3", remote="198.51.100.1")
    assert (imap.get("login_greeting"), lab.get("login_greeting"), plain.get("login_greeting")) == (
        "imap", "lab", "everyone")
    assert tree.lookup(service="pop3", remote="192.0.2.8") is lab
