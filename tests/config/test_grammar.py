"""The grammar file and the standalone parser generated from it must agree, and the
grammar must classify lines as Dovecot's parser does."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from pydovecot.config import parser as p
from pydovecot.config.errors import ConfigError

ROOT = Path(__file__).resolve().parents[2]


def _build_script():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("build_grammar", ROOT / "scripts" / "build-grammar.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_standalone_parser_is_generated_from_current_grammar() -> None:
    committed = (ROOT / "pydovecot" / "config" / "_standalone.py").read_text().splitlines()[1]
    assert committed == f"# grammar-sha256: {_build_script().grammar_digest()}", (
        "run scripts/build-grammar.py after editing dovecot.lark")


LINES = [
    "key = value", "key=", 'key = "a b"', "key = <  /etc/x", "mail_plugins = $mail_plugins quota",
    "service imap {", 'mailbox "Sent Messages" {', "}", "!include conf.d/*.conf", "foo bar",
    "service imap { x", "a = b = c", "foo bar baz",
]


def test_standalone_parser_agrees_with_lark_on_the_grammar() -> None:
    from lark import Lark

    reference = Lark((ROOT / "pydovecot" / "config" / "dovecot.lark").read_text(), parser="lalr",
                     lexer="contextual", start=["physical", "statement"])
    standalone = p._Grammar.get()
    for line in LINES:
        assert reference.parse(line, start="statement").pretty() == standalone.parse(line, start="statement").pretty()
        assert reference.parse(line, start="physical").pretty() == standalone.parse(line, start="physical").pretty()


@pytest.mark.parametrize(
    ("line", "kind", "key", "value"),
    [
        ("key = value", p.ASSIGN, "key", "value"),
        ("key=value", p.ASSIGN, "key", "value"),
        ("key =", p.ASSIGN, "key", ""),
        ('key = "a \\"b\\" c"', p.ASSIGN, "key", 'a "b" c'),
        ("key = 'single'", p.ASSIGN, "key", "single"),
        ('key = "unterminated', p.ASSIGN, "key", '"unterminated'),
        ("key = a = b", p.ASSIGN, "key", "a = b"),
        ("ssl_cert = </etc/x.pem", p.ASSIGN_FILE, "ssl_cert", "/etc/x.pem"),
        ("ssl_cert = <  spaced", p.ASSIGN_FILE, "ssl_cert", "spaced"),
        ("mail_plugins = $mail_plugins quota", p.ASSIGN_VARIABLE, "mail_plugins", "$mail_plugins quota"),
        ("x = price $5", p.ASSIGN_VARIABLE, "x", "price $5"),
        ('x = "quoted $keeps"', p.ASSIGN, "x", "quoted $keeps"),
        ("service imap {", p.SECTION_OPEN, "service", "imap"),
        ('mailbox "Sent Messages" {', p.SECTION_OPEN, "mailbox", "Sent Messages"),
        ("passdb {", p.SECTION_OPEN, "passdb", ""),
        ("passdb{", None, None, "Expecting '{'"),
        ("}", p.SECTION_CLOSE, "}", ""),
        ("!include conf.d/*.conf", p.INCLUDE, "!include", "conf.d/*.conf"),
        ("!include_try local.conf", p.INCLUDE, "!include_try", "local.conf"),
        ("foo bar", None, None, "Expecting '{'"),
        ("service imap { x", None, None, "Garbage after '{'"),
    ],
)
def test_statement_classification(line: str, kind: str | None, key: str | None, value: str) -> None:
    if kind is None:
        with pytest.raises(ConfigError) as excinfo:
            p.classify(line, "t.conf", 1)
        assert excinfo.value.message == value
        return
    st = p.classify(line, "t.conf", 1)
    assert (st.kind, st.key, st.value) == (kind, key, value)


@pytest.mark.parametrize(
    ("line", "content", "comment"),
    [
        ("key = value # note", "key = value", " # note"),
        ("key = value#note", "key = value", "#note"),
        ('key = "a # b" # c', 'key = "a # b"', " # c"),
        ("key = 'x # y", "key = 'x # y", None),
        ("plain", "plain", None),
    ],
)
def test_physical_lines_split_comments_outside_quotes(line: str, content: str, comment: str | None) -> None:
    assert p.split_physical(line) == (content, comment)


def test_continuation_lines_join_with_one_space(tmp_path: Path) -> None:
    conf = tmp_path / "c.conf"
    conf.write_text("mail_plugins = a \\\n    b   \\\n  c\n")
    statements = list(p.read_statements(str(conf), lambda m: None))
    assert [(s.key, s.value, s.line) for s in statements] == [("mail_plugins", "a b c", 3)]


def test_ambiguous_hash_warns_with_file_and_line(tmp_path: Path) -> None:
    conf = tmp_path / "c.conf"
    conf.write_text("\nlog_path = x#y\n")
    warnings: list[str] = []
    statements = list(p.read_statements(str(conf), warnings.append))
    assert statements[0].value == "x"
    assert warnings == [
        f"Configuration file {conf} line 2: Ambiguous '#' character in line, treating it as comment. "
        "Add a space before it to remove this warning."
    ]


def test_include_globs_sorted_and_relative_to_including_file(tmp_path: Path) -> None:
    (tmp_path / "conf.d").mkdir()
    for name in ("20-b.conf", "10-a.conf", "Z.conf", "_x.conf"):
        (tmp_path / "conf.d" / name).write_text(f"k = {name}\n")
    main = tmp_path / "dovecot.conf"
    main.write_text("!include conf.d/*.conf\n!include_try missing.conf\n")
    values = [s.value for s in p.read_statements(str(main), lambda m: None)]
    assert values == ["10-a.conf", "20-b.conf", "Z.conf", "_x.conf"]


def test_brace_expansion_in_includes(tmp_path: Path) -> None:
    for name in ("a.conf", "b.conf", "c.conf"):
        (tmp_path / name).write_text(f"k = {name}\n")
    main = tmp_path / "dovecot.conf"
    main.write_text("!include {c,a}.conf\n")
    assert [s.value for s in p.read_statements(str(main), lambda m: None)] == ["a.conf", "c.conf"]


def test_recursive_include_is_refused(tmp_path: Path) -> None:
    main = tmp_path / "dovecot.conf"
    main.write_text("!include dovecot.conf\n")
    with pytest.raises(ConfigError) as excinfo:
        list(p.read_statements(str(main), lambda m: None))
    assert str(excinfo.value) == f"Error in configuration file {main} line 1: Recursive include file: {main}"
