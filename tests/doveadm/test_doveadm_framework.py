"""The command-declaration API: parsing, usage and the overview generated from declarations."""

from __future__ import annotations

import pytest

from doveadm import commands, getopt, usage
from doveadm.cmd import Command, Param, ParamKind, parse_arguments
from doveadm.errors import UsageExit


def _noop(ctx) -> int:
    return 0


LIST = Command(
    words=("mailbox", "list"), run=_noop, mail=True,
    params=(Param("mutf7", ParamKind.BOOL, short="7"), Param("subscriptions", ParamKind.BOOL, short="s"),
            Param("limit", ParamKind.INT64, short="n", metavar="<count>"),
            Param("mailbox-mask", ParamKind.ARRAY, positional=True, metavar="mailbox mask")),
)


def test_usage_is_generated_from_parameters() -> None:
    assert LIST.usage == "[-u <user>|-A] [-S <socket_path>] [-7] [-s] [-n <count>] <mailbox mask>"
    assert commands.find(["pw"])[0].usage == "[-l] [-p plaintext] [-r rounds] [-s scheme] [-t hash] [-u user] [-V]"


def test_mail_commands_take_the_common_options() -> None:
    values = parse_arguments(LIST, ["-u", "jane", "-A", "-S", "/run/s", "INBOX", "-7", "Sent*", "--limit=5"])
    assert values == {"user": "jane", "all-users": True, "socket-path": "/run/s", "mutf7": True,
                      "mailbox-mask": ["INBOX", "Sent*"], "limit": 5}


def test_unparsable_numbers_are_left_unset_like_dovecot() -> None:
    assert "limit" not in parse_arguments(LIST, ["-n", "+5"])
    assert parse_arguments(LIST, ["-n", "-5"])["limit"] == -5


def test_extraneous_and_bad_options() -> None:
    single = Command(words=("x",), run=_noop, params=(Param("name", ParamKind.STR, positional=True),))
    with pytest.raises(UsageExit, match="Extraneous arguments found: b c"):
        parse_arguments(single, ["a", "b", "c"])
    with pytest.raises(UsageExit, match="x: invalid option -- 'q'"):
        parse_arguments(single, ["-q"])


def test_getopt_abbreviations_and_ambiguity() -> None:
    specs = [getopt.OptionSpec("a", "a", "alpha", True), getopt.OptionSpec("b", "b", "alps")]
    found, rest = getopt.parse("t", ["--alph", "1", "x", "--alps"], specs)
    assert [(s.key, v) for s, v in found] == [("a", "1"), ("b", None)] and rest == ["x"]
    with pytest.raises(getopt.GetoptError, match="option '--al' is ambiguous; possibilities: '--alpha' '--alps'"):
        getopt.parse("t", ["--al"], specs)
    found, rest = getopt.parse("t", ["x", "-b"], specs, stop_at_first_argument=True)
    assert found == [] and rest == ["x", "-b"]


def test_overview_groups_subcommands(monkeypatch: pytest.MonkeyPatch) -> None:
    extra = (Command(words=("mailbox", "create"), run=_noop, usage_text="<mailbox>"),
             Command(words=("mailbox", "cache", "purge"), run=_noop), Command(words=("mailbox", "cache", "remove"), run=_noop),
             LIST)
    monkeypatch.setattr(usage, "COMMANDS", commands.COMMANDS + extra)
    text = usage.overview()
    assert "  mailbox      cache|create|list\n" in text
    assert text.splitlines()[1] == " " * 15
    sub = usage.overview("mailbox")
    assert sub.startswith("usage: doveadm [-Dv] [-f <formatter>] mailbox <command> [<args>]\n  cache        purge|remove\n")
    assert "  create       <mailbox>\n" in sub


def test_command_table_lookup_prefers_the_longest_name(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(commands, "COMMANDS", commands.COMMANDS + (LIST,))
    command, rest = commands.find(["mailbox", "list", "-7"])
    assert command is LIST and rest == ["-7"]
    assert commands.has_subcommands("mailbox") and not commands.has_subcommands("pw")
