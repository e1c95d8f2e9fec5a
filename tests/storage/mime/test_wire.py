"""Dovecot's choice between NIL, "quoted" and {n} literals, and the other string renderings."""

from __future__ import annotations

from pydovecot.storage.mime import wire


def test_nstring_quoting_rules() -> None:
    assert wire.nstring(None) == b"NIL"
    assert wire.nstring(b"") == b'""'
    assert wire.nstring(b'a"b\\c') == b'"a\\"b\\\\c"'
    assert wire.nstring(b'""""') == b'"\\"\\"\\"\\""'  # four escapes still quoted
    assert wire.nstring(b'"""""') == b'{5}\r\n"""""'  # the fifth switches to a literal
    assert wire.nstring(b"caf\xc3\xa9") == b"{5}\r\ncaf\xc3\xa9"
    assert wire.nstring(b"a\nb") == b"{3}\r\na\nb"
    assert wire.nstring(b"cut\x00here") == b'"cut"'


def test_nolf_drops_newlines_and_keeps_words_apart() -> None:
    assert wire.nstring_nolf(b"\n <id@x>") == b'" <id@x>"'
    assert wire.nstring_nolf(b"a\nb") == b'"a b"'
    assert wire.nstring_nolf(b"a\n\tb") == b'"a\tb"'


def test_string_for_humans() -> None:
    assert wire.string_for_humans(b"plain") == b'"plain"'
    assert wire.string_for_humans(b"") == b'""'
    assert wire.string_for_humans(b"  ") == b'""'
    assert wire.string_for_humans(b"a\n\tb  c ") == b"{5}\r\na b c"
    assert wire.string_for_humans(b"n\x00l") == b"{3}\r\nn\x80l"
