"""The file dict driver: Dovecot's dict-file format (tab-escaped key/value lines)."""

from __future__ import annotations

from pathlib import Path

from pydovecot.dict import DictError, resolve_uri
from pydovecot.dict.file import FileDict, tab_escape, tab_unescape


def test_escaping_round_trips_every_special_byte() -> None:
    text = "a\x01b\tc\rd\ne\x01"
    assert tab_escape(text) == "a\x011b\x01tc\x01rd\x01ne\x011"
    assert tab_unescape(tab_escape(text)) == text
    assert tab_unescape("plain") == "plain"


def test_file_holds_escaped_lines_as_dovecot_writes_them(tmp_path: Path) -> None:
    store = FileDict(str(tmp_path / "attrs"))
    store.commit([("priv/g/multi", "a\r\nb"), ("shared/g/x", "1")])
    assert (tmp_path / "attrs").read_bytes() == b"priv/g/multi\na\x01r\x01nb\nshared/g/x\n1\n"
    assert store.lookup("priv/g/multi") == "a\r\nb"


def test_reads_a_file_written_by_dovecot(tmp_path: Path) -> None:
    # As real Dovecot 2.3.19 left it after SETMETADATA INBOX (/private/multi {5}\r\na\r\nbc).
    (tmp_path / "attrs").write_bytes(b"priv/70ce/multi\na\x01r\x01nbc\npriv/70ce/x\ne\n")
    store = FileDict(str(tmp_path / "attrs"))
    assert store.iterate("priv/70ce/") == [("priv/70ce/multi", "a\r\nbc"), ("priv/70ce/x", "e")]


def test_commit_sets_unsets_and_drops_prefixes(tmp_path: Path) -> None:
    store = FileDict(str(tmp_path / "attrs"))
    store.commit([("priv/a/k", "1"), ("priv/b/k", "2"), ("shared/a/k", "3")])
    store.commit([("priv/b/k", None), ("priv/b/new", "4")], unset_prefixes=("priv/a/", "shared/a/"))
    assert store.read() == {"priv/b/new": "4"}
    assert not (tmp_path / "attrs.lock").exists()


def test_undecodable_bytes_survive_a_rewrite(tmp_path: Path) -> None:
    (tmp_path / "attrs").write_bytes(b"priv/g/bin\n\xff\xfe\n")
    store = FileDict(str(tmp_path / "attrs"))
    store.commit([("priv/g/other", "x")])
    assert b"priv/g/bin\n\xff\xfe\n" in (tmp_path / "attrs").read_bytes()


def test_proxy_uri_resolves_through_dict_settings() -> None:
    assert resolve_uri("proxy::attrs", {"attrs": "file:/x"}) == "file:/x"
    assert resolve_uri("file:/y", {}) == "file:/y"
    try:
        resolve_uri("proxy::nosuch", {})
    except DictError:
        pass
    else:
        raise AssertionError("unknown proxy dict accepted")


def test_missing_directory_is_created_and_mode_follows_dovecot(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir(mode=0o750)
    home.chmod(0o750)
    store = FileDict(str(home / "sub" / "attrs"))
    store.commit([("priv/g/k", "v")])
    assert (home / "sub").stat().st_mode & 0o777 == 0o700
    assert (home / "sub" / "attrs").stat().st_mode & 0o777 == 0o600  # the new directory's rw bits
    top = FileDict(str(home / "attrs"))
    top.commit([("priv/g/k", "v")])
    assert (home / "attrs").stat().st_mode & 0o777 == 0o640
    (home / "attrs").chmod(0o604)
    top.commit([("priv/g/k", "w")])
    assert (home / "attrs").stat().st_mode & 0o777 == 0o604  # kept across rewrites
