"""The malformed and edge-case IMAP inputs replayed against real Dovecot 2.3.19.

Each case names the connection state it starts in and the chunks the client sends. The recorder
(`record_imap_goldens.py`) sends every chunk to a live Dovecot and stores what came back in
`goldens/imap_errors.json`; `test_imap_goldens.py` feeds the same chunks to our protocol core and
compares. Kept as data so both sides build byte-identical input.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class GoldenCase:
    name: str
    state: str  # "not_authenticated" | "authenticated" | "selected"
    chunks: tuple[bytes, ...]


def _nested_search(depth: int) -> bytes:
    return b"a SEARCH " + b"(" * depth + b"ALL" + b")" * depth + b"\r\n"


def _nots(depth: int) -> bytes:
    return b"a SEARCH " + b"NOT " * depth + b"ALL\r\n"


NA, AU, SE = "not_authenticated", "authenticated", "selected"

CASES: tuple[GoldenCase, ...] = (
    # --- line framing, tags and unknown commands
    GoldenCase("garbage_word", NA, (b"garbage\r\n",)),
    GoldenCase("empty_line", NA, (b"\r\n",)),
    GoldenCase("tag_only", NA, (b"a\r\n",)),
    GoldenCase("tag_space_only", NA, (b"a \r\n",)),
    GoldenCase("star_tag", NA, (b"* NOOP\r\n",)),
    GoldenCase("plus_tag", NA, (b"+ NOOP\r\n",)),
    GoldenCase("unknown_command_na", NA, (b"a FOO\r\n",)),
    GoldenCase("unknown_command_auth", AU, (b"a FOO\r\n",)),
    GoldenCase("unknown_command_selected", SE, (b"a FOO bar\r\n",)),
    GoldenCase("too_long_line_na", NA, (b"a NOOP " + b"x" * 70000 + b"\r\n", b"b NOOP\r\n")),
    GoldenCase("too_long_line_auth", AU, (b"a NOOP " + b"x" * 70000 + b"\r\n", b"b NOOP\r\n")),
    GoldenCase("too_long_select_auth", AU, (b"a SELECT " + b"x" * 70000 + b"\r\n", b"b NOOP\r\n")),
    GoldenCase("garbage_word_auth", AU, (b"garbage\r\n",)),
    GoldenCase("tag_only_auth", AU, (b"a\r\n",)),
    GoldenCase("empty_line_auth", AU, (b"\r\n",)),
    GoldenCase("star_tag_auth", AU, (b"* NOOP\r\n",)),
    GoldenCase("select_literal_huge_auth", AU, (b"a SELECT {99999999999}\r\n",)),
    GoldenCase("select_literal_sync_auth", AU, (b"a SELECT {5}\r\n", b"INBOX\r\n")),
    GoldenCase("select_literal_bad_size_auth", AU, (b"a SELECT {12x}\r\n",)),
    GoldenCase("select_unterminated_quote_auth", AU, (b'a SELECT "INBOX\r\n',)),
    GoldenCase("noop_with_args", AU, (b"a NOOP extra\r\n",)),
    GoldenCase("capability_with_args", NA, (b"a CAPABILITY extra\r\n",)),
    GoldenCase("lowercase_command", AU, (b"a noop\r\n",)),
    GoldenCase("bare_lf", AU, (b"a NOOP\n",)),
    # --- LOGIN argument parsing
    GoldenCase("login_no_args", NA, (b"a LOGIN\r\n",)),
    GoldenCase("login_one_arg", NA, (b"a LOGIN alice\r\n",)),
    GoldenCase("login_list_arg", NA, (b"a LOGIN (alice) secret\r\n",)),
    GoldenCase("login_unterminated_quote", NA, (b'a LOGIN "alice secret\r\n',)),
    GoldenCase("login_bad_escape", NA, (b'a LOGIN "al\\ice" secret\r\n',)),
    GoldenCase("login_extra_arg", NA, (b"a LOGIN alice secret extra\r\n",)),
    GoldenCase("login_literal_sync", NA, (b"a LOGIN {5}\r\n", b"alice secret\r\n")),
    GoldenCase("login_literal_plus", NA, (b"a LOGIN {5+}\r\nalice {6+}\r\nwrong!\r\n",)),
    GoldenCase("login_literal_huge_na", NA, (b"a LOGIN {99999999999}\r\n",)),
    GoldenCase("login_literal_bad_size", NA, (b"a LOGIN {12x}\r\n",)),
    GoldenCase("login_nil", NA, (b"a LOGIN NIL NIL\r\n",)),
    GoldenCase("authenticate_no_args", NA, (b"a AUTHENTICATE\r\n",)),
    GoldenCase("authenticate_unknown_mech", NA, (b"a AUTHENTICATE FOO\r\n",)),
    # --- wrong state
    GoldenCase("select_not_authenticated", NA, (b"a SELECT INBOX\r\n",)),
    GoldenCase("fetch_not_authenticated", NA, (b"a FETCH 1 FLAGS\r\n",)),
    GoldenCase("fetch_authenticated", AU, (b"a FETCH 1 FLAGS\r\n",)),
    GoldenCase("expunge_authenticated", AU, (b"a EXPUNGE\r\n",)),
    GoldenCase("close_authenticated", AU, (b"a CLOSE\r\n",)),
    GoldenCase("uid_fetch_authenticated", AU, (b"a UID FETCH 1 FLAGS\r\n",)),
    GoldenCase("login_authenticated", AU, (b"a LOGIN alice secret\r\n",)),
    GoldenCase("authenticate_authenticated", AU, (b"a AUTHENTICATE PLAIN\r\n",)),
    GoldenCase("starttls_authenticated", AU, (b"a STARTTLS\r\n",)),
    # --- mailbox names
    GoldenCase("select_no_args", AU, (b"a SELECT\r\n",)),
    GoldenCase("select_bad_mutf7", AU, (b"a SELECT &ZZZ\r\n",)),
    GoldenCase("select_bad_mutf7_unterminated", AU, (b"a SELECT &AGE\r\n",)),
    GoldenCase("select_raw_8bit", AU, (b'a SELECT "caf\xc3\xa9"\r\n',)),
    GoldenCase("select_unbalanced_paren", AU, (b"a SELECT (INBOX\r\n",)),
    GoldenCase("select_bad_params", AU, (b"a SELECT INBOX (FOO)\r\n",)),
    GoldenCase("select_condstore_qresync_bad", AU, (b"a SELECT INBOX (QRESYNC (x))\r\n",)),
    GoldenCase("create_no_args", AU, (b"a CREATE\r\n",)),
    GoldenCase("rename_one_arg", AU, (b"a RENAME foo\r\n",)),
    GoldenCase("list_no_args", AU, (b"a LIST\r\n",)),
    GoldenCase("list_one_arg", AU, (b'a LIST ""\r\n',)),
    GoldenCase("list_bad_select_option", AU, (b'a LIST (FOO) "" "*"\r\n',)),
    GoldenCase("list_bad_return_option", AU, (b'a LIST "" "*" RETURN (FOO)\r\n',)),
    GoldenCase("status_no_items", AU, (b"a STATUS INBOX\r\n",)),
    GoldenCase("status_bad_item", AU, (b"a STATUS INBOX (FOO)\r\n",)),
    GoldenCase("status_not_list", AU, (b"a STATUS INBOX MESSAGES\r\n",)),
    GoldenCase("status_empty_list", AU, (b"a STATUS INBOX ()\r\n",)),
    GoldenCase("enable_no_args", AU, (b"a ENABLE\r\n",)),
    GoldenCase("id_unbalanced", AU, (b'a ID ("name"\r\n',)),
    GoldenCase("id_bad_arg", AU, (b"a ID foo\r\n",)),
    GoldenCase("append_no_args", AU, (b"a APPEND\r\n",)),
    GoldenCase("append_no_message", AU, (b"a APPEND INBOX\r\n",)),
    GoldenCase("append_huge_literal", AU, (b"a APPEND INBOX {99999999999}\r\n",)),
    GoldenCase("append_bad_flags", AU, (b"a APPEND INBOX (\\Foo) {1+}\r\nx\r\n",)),
    GoldenCase("append_bad_date", AU, (b'a APPEND INBOX "not a date" {1+}\r\nx\r\n',)),
    GoldenCase("append_string_not_literal", AU, (b'a APPEND INBOX "hello"\r\n',)),
    GoldenCase("literal_minus_too_big", AU, (b"a APPEND INBOX {5000-}\r\n",)),
    # --- sequence sets
    GoldenCase("fetch_max_uint32", SE, (b"a FETCH 1:4294967295 FLAGS\r\n",)),
    GoldenCase("fetch_over_uint32", SE, (b"a FETCH 1:4294967296 FLAGS\r\n",)),
    GoldenCase("fetch_star_star", SE, (b"a FETCH *:* FLAGS\r\n",)),
    GoldenCase("fetch_zero", SE, (b"a FETCH 0 FLAGS\r\n",)),
    GoldenCase("fetch_bad_set", SE, (b"a FETCH x FLAGS\r\n",)),
    GoldenCase("fetch_trailing_comma", SE, (b"a FETCH 1, FLAGS\r\n",)),
    GoldenCase("fetch_no_args", SE, (b"a FETCH\r\n",)),
    GoldenCase("fetch_no_items", SE, (b"a FETCH 1\r\n",)),
    GoldenCase("fetch_unbalanced", SE, (b"a FETCH 1 (FLAGS\r\n",)),
    GoldenCase("fetch_unknown_item", SE, (b"a FETCH 1 FOO\r\n",)),
    GoldenCase("fetch_bad_section", SE, (b"a FETCH 1 BODY[FOO]\r\n",)),
    GoldenCase("fetch_header_fields_no_list", SE, (b"a FETCH 1 BODY[HEADER.FIELDS]\r\n",)),
    GoldenCase("fetch_bad_partial", SE, (b"a FETCH 1 BODY[]<x>\r\n",)),
    GoldenCase("fetch_unclosed_section", SE, (b"a FETCH 1 BODY[1\r\n",)),
    GoldenCase("fetch_binary_bad_section", SE, (b"a FETCH 1 BINARY[TEXT]\r\n",)),
    GoldenCase("fetch_searchres_empty", SE, (b"a FETCH $ FLAGS\r\n",)),
    GoldenCase("uid_no_subcommand", SE, (b"a UID\r\n",)),
    GoldenCase("uid_unknown_subcommand", SE, (b"a UID FOO 1\r\n",)),
    # --- SEARCH
    GoldenCase("search_no_args", SE, (b"a SEARCH\r\n",)),
    GoldenCase("search_unknown_key", SE, (b"a SEARCH FOO\r\n",)),
    GoldenCase("search_missing_arg", SE, (b"a SEARCH SUBJECT\r\n",)),
    GoldenCase("search_bad_date", SE, (b"a SEARCH SINCE 1-Foo-2020\r\n",)),
    GoldenCase("search_or_one", SE, (b"a SEARCH OR ALL\r\n",)),
    GoldenCase("search_bad_charset", SE, (b"a SEARCH CHARSET FOO ALL\r\n",)),
    GoldenCase("search_unbalanced", SE, (b"a SEARCH (ALL\r\n",)),
    GoldenCase("search_empty_parens", SE, (b"a SEARCH ()\r\n",)),
    GoldenCase("search_nested_10", SE, (_nested_search(10),)),
    GoldenCase("search_nested_100", SE, (_nested_search(100),)),
    GoldenCase("search_nested_1000", SE, (_nested_search(1000),)),
    GoldenCase("search_not_1000", SE, (_nots(1000),)),
    GoldenCase("search_larger_bad", SE, (b"a SEARCH LARGER x\r\n",)),
    GoldenCase("search_modseq_bad", SE, (b"a SEARCH MODSEQ x\r\n",)),
    GoldenCase("search_return_bad", SE, (b"a SEARCH RETURN (FOO) ALL\r\n",)),
    # --- STORE, COPY, MOVE, EXPUNGE
    GoldenCase("store_missing_flags", SE, (b"a STORE 1 FLAGS\r\n",)),
    GoldenCase("store_bad_item", SE, (b"a STORE 1 FOO (\\Seen)\r\n",)),
    GoldenCase("store_bad_modifier", SE, (b"a STORE 1 (FOO 5) +FLAGS (\\Seen)\r\n",)),
    GoldenCase("store_unknown_system_flag", SE, (b"a STORE 1 +FLAGS (\\Foo)\r\n",)),
    GoldenCase("store_recent_flag", SE, (b"a STORE 1 +FLAGS (\\Recent)\r\n",)),
    GoldenCase("copy_one_arg", SE, (b"a COPY 1\r\n",)),
    GoldenCase("move_bad_set", SE, (b"a MOVE x INBOX\r\n",)),
    GoldenCase("expunge_with_args", SE, (b"a EXPUNGE 1\r\n",)),
    GoldenCase("uid_expunge_no_set", SE, (b"a UID EXPUNGE\r\n",)),
    GoldenCase("idle_then_garbage", SE, (b"a IDLE\r\n", b"garbage\r\n")),
    GoldenCase("idle_done", SE, (b"a IDLE\r\n", b"DONE\r\n")),
)
