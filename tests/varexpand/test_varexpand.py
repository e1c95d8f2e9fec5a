"""Table-driven tests of the documented %-expansion behaviour and of the module's API.

Expected values come from the Dovecot 2.3 "Config Variables" page, worked by hand, and were
cross-checked against the goldens recorded from the real 2.3.19 (test_goldens.py).
"""

from __future__ import annotations

import hashlib

import pytest

from pydovecot.varexpand import (
    AUTH,
    LOGIN,
    LOGIN_LOG_FORMAT,
    MAIL_USER,
    ProcessInfo,
    VarExpandFailure,
    VarRef,
    escape_backslash,
    expand,
    field_function,
    has_variable,
    parse,
    split_user,
)

PROCESS = ProcessInfo(pid="4242", uid="0", gid="0", hostname="mailhost")


def mail(template: str, **values: str | None) -> str:
    table = MAIL_USER.table({"user": "testuser@Example.COM", "service": "pop3", "uid": "1234"} | values)
    return expand(template, table, context=MAIL_USER, process=PROCESS, environ={"HOME_BASE": "/srv"}).text


DOCUMENTED = [
    # (template, table overrides, expected)
    ("%u", {}, "testuser@Example.COM"),
    ("%n", {}, "testuser"),
    ("%d", {}, "Example.COM"),
    ("%n", {"user": "nodomain"}, "nodomain"),
    ("%d", {"user": "nodomain"}, ""),
    ("%%", {}, "%"),
    ("100%%", {}, "100%"),
    ("%Us", {}, "POP3"),
    ("%U{service}", {}, "POP3"),
    ("%Lu", {}, "testuser@example.com"),
    ("%Ln", {"user": "MiXeD@X"}, "mixed"),
    ("%1Lu", {"user": "Bob@x"}, "b"),
    ("%E{user}", {"user": "O'Br\"ien\\x"}, "O\\'Br\\\"ien\\\\x"),
    ("%X{uid}", {"uid": "255"}, "ff"),
    ("%Xi", {"uid": "not-a-number"}, "0"),
    ("%Ri", {"uid": "1234"}, "4321"),
    ("%Dd", {"user": "u@sub.domain.org"}, "sub,dc=domain,dc=org"),
    ("%Tu|", {"user": "padded \t "}, "padded|"),
    ("%Mu", {"user": ""}, "d41d8cd98f00b204e9800998ecf8427e"),
    ("%Mu", {}, hashlib.md5(b"testuser@Example.COM").hexdigest()),
    # substrings: "%2u gives the first two characters, %2.1u the third"
    ("%2u", {}, "te"),
    ("%2.1u", {}, "s"),
    ("%1n", {}, "t"),
    ("%3.1n", {}, "t"),
    ("%.3u", {}, "tes"),
    ("%0.1u", {}, "t"),
    ("%-1.2u", {}, "M"),
    # "%-2.2i gives the UID mod 100"
    ("%-2.2i", {"uid": "1234"}, "34"),
    # "%04i may return 0001, 1000 and 12345".  The page goes on to claim %1.04i gives 001, 000
    # and 2345, but 2.3.19 pads after cutting the offset: 0000, 0000, 2345 (see the goldens).
    ("%04i", {"uid": "1"}, "0001"),
    ("%04i", {"uid": "1000"}, "1000"),
    ("%04i", {"uid": "12345"}, "12345"),
    ("%1.04i", {"uid": "1"}, "0000"),
    ("%1.04i", {"uid": "1000"}, "0000"),
    ("%1.04i", {"uid": "12345"}, "2345"),
    # "%0.-2u gives all but the last two characters"
    ("%0.-2u", {"user": "username"}, "userna"),
    # a positive offset past the end gives "", a negative one past the start the whole value
    ("%30.2u", {}, ""),
    ("%-30.2u", {"user": "abc"}, "ab"),
    ("%-30.0u", {"user": "abc"}, "abc"),
    # a width that goes negative after counting from the end does not truncate
    ("%0.-100u", {"user": "abc"}, "abc"),
    # a '-' without '.' is ignored
    ("%-2u", {"user": "abcd"}, "ab"),
    # hashes: width is the modulus, offset the zero-padded length; "%2.256Nu gives 00..ff"
    ("%256Nu", {"user": "First.Last@Sub.Example.COM"}, "30"),
    ("%2.256Nu", {"user": "First.Last@Sub.Example.COM"}, "30"),
    ("%4.256Nu", {"user": "First.Last@Sub.Example.COM"}, "0030"),
    ("%1Nu", {}, "0"),
    ("%Hu", {"user": "a"}, "61"),
    ("%Hu", {"user": "ab"}, "672"),
    ("%4.16Hu", {"user": "ab"}, "0002"),
    # modifiers apply left to right, the substring last
    ("%LRu", {"user": "AbC"}, "cba"),
    ("%1RLu", {"user": "AbC"}, "c"),
    # long names, aliases and built-ins
    ("%{username}@%{domain}", {}, "testuser@Example.COM"),
    ("%{lip}/%{local_ip}/%l", {"local_ip": "192.0.2.1"}, "192.0.2.1/192.0.2.1/192.0.2.1"),
    ("%{gid}", {"gid": "8"}, "8"),
    ("%{pid}", {"pid": None}, ""),
    ("%{hostname}", {"hostname": "from-setting"}, "from-setting"),
    ("%{env:HOME_BASE}/%n", {}, "/srv/testuser"),
    ("%{env:MISSING}", {}, ""),
    # hash functions
    ("%{md5:user}", {"user": "a"}, hashlib.md5(b"a").hexdigest()),
    ("%{sha256:user}", {"user": "a"}, hashlib.sha256(b"a").hexdigest()),
    ("%{md5;truncate=32:user}", {"user": "a"}, hashlib.md5(b"a").hexdigest()[:8]),
    ("%{sha1;truncate=4:user}", {"user": "a"}, "08"),  # 0x86 >> 4, as one hex byte
    ("%{md5;rounds=2:user}", {"user": "a"}, hashlib.md5(hashlib.md5(b"a").digest()).hexdigest()),
    ("%{md5;salt=%n:user}", {"user": "a@b"}, hashlib.md5(b"aa@b").hexdigest()),
    ("%{size:user}", {"user": "abc"}, "0000000000000003"),
    # conditionals (the documentation's examples)
    ("%{if;%u;eq;testuser;INVALID;%Uu}", {"user": "testuser"}, "INVALID"),
    ("%{if;%u;eq;testuser;INVALID;%Uu}", {"user": "other"}, "OTHER"),
    ("%{if;%{if;%u;eq;testuser;a;b};eq;a;INVALID;%Uu}", {"user": "testuser"}, "INVALID"),
    ("%{if;%i;>=;1000;high;low}", {"uid": "999"}, "low"),
    ("%{if;%n;*;test*;match;no}", {}, "match"),
    ("%{if;%d;~;^Ex.*M$;re;no}", {}, "re"),
    ("%{if;a;eq;b;only-true}", {}, ""),
    ("%{if;a\\;b;eq;a\\;b;yes;no}", {}, "yes"),
    # edge cases
    ("trailing%", {}, "trailing"),
    ("trailing%-2.3L", {}, "trailing"),
    ("%{user", {}, "UNSUPPORTED_VARIABLE_{user"),
    ("[%{a{b}c}]", {}, "[UNSUPPORTED_VARIABLE_a{b}c]"),
    ("[%{a{b}]", {}, "[UNSUPPORTED_VARIABLE_a{b}]"),
    ("%{}", {}, "UNSUPPORTED_VARIABLE_"),
    ("%u%h", {"home": None}, "testuser@Example.COM"),
    ("", {}, ""),
    ("%q", {}, "UNSUPPORTED_VARIABLE_q"),
    ("%3Lq", {}, "UNSUPPORTED_VARIABLE_q"),  # no modifiers on an unknown variable
    ("%LLLLLLLLLLLu", {}, "UNSUPPORTED_VARIABLE_Lu"),  # the 11th modifier letter is the variable
    # values are bytes: %L leaves non-ASCII alone, widths count UTF-8 bytes
    ("%Lu", {"user": "ÄBÇ"}, "ÄbÇ"),
    ("%Uu", {"user": "äbç"}, "äBç"),
    ("%2u", {"user": "ü1"}, "ü"),
    ("%1.2u", {"user": "aü"}, "ü"),
]


@pytest.mark.parametrize(("template", "values", "expected"), DOCUMENTED, ids=lambda v: repr(v))
def test_documented_behaviour(template: str, values: dict[str, str | None], expected: str) -> None:
    assert mail(template, **values) == expected


def test_cutting_a_multibyte_character_keeps_the_bytes() -> None:
    text = mail("%1u", user="ü")
    assert text.encode("utf-8", "surrogateescape") == "ü".encode()[:1]


def test_very_long_input() -> None:
    template = ("x" * 1000 + "%Ln/") * 200
    result = expand(template, MAIL_USER.table(user="BoB@example.org"), context=MAIL_USER)
    assert result.ok
    assert result.text == ("x" * 1000 + "bob/") * 200


def test_unknown_variables_are_reported_not_raised() -> None:
    result = expand("%u-%q-%{nope}-%{nope:arg}", MAIL_USER.table(user="u"), context=MAIL_USER)
    assert result.text == "u-UNSUPPORTED_VARIABLE_q-UNSUPPORTED_VARIABLE_nope-UNSUPPORTED_VARIABLE_nope"
    assert result.status == 0 and not result.ok
    assert result.unknown == ("Unknown variable '%q'", "Unknown variable '%nope'", "Unknown variable '%nope'")
    assert result.error == "Unknown variable '%nope'"  # a long name replaces an earlier letter's message


def test_failures_have_status_minus_one() -> None:
    result = expand("a%{md5;rounds=0:user}b", MAIL_USER.table(user="u"), context=MAIL_USER)
    assert result.text == "ab"
    assert result.status == -1
    assert result.error == "Cannot parse hash arguments:rounds must be at least 1"


def test_hexuc_is_lowercase_like_dovecot_2_3_19() -> None:
    assert mail("%{md5;format=hexuc:user}", user="a") == hashlib.md5(b"a").hexdigest()


def test_contexts_map_letters_to_long_names() -> None:
    assert AUTH.letters["k"] == "cert" and LOGIN.letters["k"] == "ssl_security"
    assert AUTH.letters["l"] == "local_ip" and AUTH.canonical("lip") == "local_ip"
    assert MAIL_USER.letters["i"] == "uid" and "i" not in AUTH.letters
    assert LOGIN.letters["e"] == "mail_pid" and LOGIN.canonical("mech") == "mechanism"
    assert LOGIN_LOG_FORMAT.letters == {"s": "elements", "$": "message"}
    assert AUTH.name_for_letter("q") is None


def test_context_table_derives_user_parts() -> None:
    table = AUTH.table(user="a@b@c", auth_user="master@x", lip="10.0.0.1")
    assert (table["username"], table["domain"]) == ("a", "b@c")
    assert (table["domain_first"], table["domain_last"]) == ("b", "c")
    assert (table["auth_username"], table["auth_domain"]) == ("master", "x")
    assert table["local_ip"] == "10.0.0.1"
    assert table["login_user"] is None
    assert split_user("plain") == ("plain", None)


def test_context_variables_are_known_even_without_values() -> None:
    result = expand("[%h][%{session}][%{rip}]", {"user": "u"}, context=MAIL_USER)
    assert result.ok and result.text == "[][][]"
    assert expand("%w", {}, context=MAIL_USER).status == 0  # %w exists only in AUTH
    assert expand("%w", {}, context=AUTH).ok


def test_table_entries_override_builtins() -> None:
    table = {"pid": "7", "hostname": "h2"}
    assert expand("%{pid}/%{hostname}/%{uid}", table, context=LOGIN_LOG_FORMAT, process=PROCESS).text == "7/h2/0"
    assert expand("%{pid}/%{gid}", {}, context=LOGIN_LOG_FORMAT, process=PROCESS).text == "4242/0"


def test_functions_and_field_defaults() -> None:
    userdb = field_function({"quota": "1G", "empty": ""})
    functions = {"userdb": userdb}
    template = "%{userdb:quota}|%{userdb:missing:dflt}|%{userdb:empty:dflt}|%{userdb:missing}"
    assert expand(template, {}, context=AUTH, functions=functions).text == "1G|dflt||"

    def broken(data: str) -> str:
        raise VarExpandFailure(f"lookup of {data} failed")

    result = expand("x%{ldap:cn}y", {}, context=AUTH, functions={"ldap": broken})
    assert (result.text, result.status, result.error) == ("xy", -1, "lookup of cn failed")


def test_hash_and_if_names_are_case_insensitive_but_env_is_not() -> None:
    table = MAIL_USER.table(user="a")
    assert expand("%{IF;1;==;1;y;n}", table).text == "y"
    upper = expand("%{MD5:user}", table)  # matched as a hash, but the method lookup is exact
    assert (upper.text, upper.status, upper.error) == ("", 0, "(null)")
    assert expand("%{ENV:HOME}", table, environ={"HOME": "/h"}).text == "UNSUPPORTED_VARIABLE_ENV"


def test_parse_and_has_variable() -> None:
    tokens = parse("a%-1.02LNu%{home}")
    assert tokens[0] == b"a"
    assert tokens[1] == VarRef(offset=-1, width=2, zero_padding=True, modifiers=b"LN", key=b"u", is_long=False)
    assert tokens[2] == VarRef(offset=0, width=0, zero_padding=False, modifiers=b"", key=b"home", is_long=True)
    assert has_variable("maildir:%h/Maildir", letter="h", name="home")
    assert has_variable("maildir:%{home}/Maildir", letter="h", name="home")
    assert not has_variable("maildir:%%h/Maildir", letter="h", name="home")
    assert not has_variable("maildir:~/Maildir", letter="h", name="home")


def test_escape_backslash() -> None:
    assert escape_backslash("it's \"x\" \\ y") == "it\\'s \\\"x\\\" \\\\ y"
