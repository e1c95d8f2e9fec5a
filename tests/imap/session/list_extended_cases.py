"""LIST-EXTENDED (RFC 5258) around names that do not exist as mailboxes: subscriptions to
deleted or never-created mailboxes, parents that are only a hierarchy level, `\\NonExistent`
against `\\Noselect`, under Maildir++ and LAYOUT=fs, with and without the mailbox list index.

Lines as in cases.py (one connection). Recorded from real Dovecot 2.3.19 by
record_list_extended_goldens.py; test_list_extended.py replays them against ours.
"""

from __future__ import annotations

from .cases import LOGIN

# The mailboxes every case starts from: nested names whose parents were never created, a
# parent deleted under its child, subscriptions to names that never existed or went away.
SETUP = [
    LOGIN,
    "s1 CREATE a/b/c",
    "s2 CREATE x/y",
    "s3 DELETE x",
    "s4 CREATE p",
    "s5 CREATE p/q",
    "s6 CREATE d",
    "s7 SUBSCRIBE d",
    "s8 DELETE d",
    "s9 CREATE gone/sub",
    "s10 SUBSCRIBE gone/sub",
    "s11 DELETE gone/sub",
    "s12 SUBSCRIBE p/q",
    "s13 CREATE k",
    "s14 SUBSCRIBE k",
    "s15 CREATE k/l",
    "s16 DELETE k",
    "s17 SUBSCRIBE a/b",
    "s18 CREATE m/n/o",
    "s19 DELETE m/n/o",
    "s20 APPEND p/q {5+}\r\nabc\r\n",
    "s21 CREATE e/f",
    "s22 SUBSCRIBE e/f",
    "s23 RENAME e/f e2/f2",
]

QUERIES = [
    'b LIST "" *',
    'c LIST "" %',
    'd LIST "" a/%',
    'e LIST "" %/%',
    'f LIST (SUBSCRIBED) "" *',
    'g LIST (SUBSCRIBED) "" %',
    'h LIST (SUBSCRIBED RECURSIVEMATCH) "" %',
    'i LIST (SUBSCRIBED RECURSIVEMATCH) "" *',
    'j LIST (SUBSCRIBED RECURSIVEMATCH) "" a/%',
    'k LIST "" * RETURN (CHILDREN)',
    'l LIST "" % RETURN (CHILDREN SUBSCRIBED)',
    'm LIST "" * RETURN (SUBSCRIBED)',
    'n LIST (SUBSCRIBED) "" * RETURN (CHILDREN SUBSCRIBED STATUS (MESSAGES UIDNEXT))',
    'o LIST "" * RETURN (STATUS (MESSAGES))',
    'p LIST (SUBSCRIBED) "" % RETURN (CHILDREN STATUS (MESSAGES))',
    'q LIST "" (% a/%)',
    'r LIST "" (gone a x k)',
    's LIST (SUBSCRIBED) "" (gone/sub never d k e/f)',
    's2 LIST (SUBSCRIBED) "" k/%',
    's3 LIST (SUBSCRIBED RECURSIVEMATCH) "" k',
    's4 LIST (SUBSCRIBED RECURSIVEMATCH) "" e',
    's5 LIST "" k* RETURN (CHILDREN SUBSCRIBED STATUS (MESSAGES))',
    't LIST "" gone/sub',
    'u LIST "" a',
    'v LIST "" x',
    'w LIST (REMOTE) "" %',
    'x LIST (SUBSCRIBED REMOTE RECURSIVEMATCH) "" %',
    'y LSUB "" *',
    'z LSUB "" %',
    'A LIST "" m/%',
    'B LIST "" m/* RETURN (CHILDREN)',
    'C LIST (SUBSCRIBED) "" m/*',
    'D STATUS a (MESSAGES)',
    'E SELECT a',
    'F LIST "" * RETURN (CHILDREN SPECIAL-USE)',
    'G LIST (SPECIAL-USE) "" *',
    'H LIST "a/" %',
    'I LIST (SUBSCRIBED) "a/" % RETURN (CHILDREN)',
    "J LOGOUT",
]

# Subscriptions and children in more combinations; references; parents made again.
MORE = [
    LOGIN,
    "s1 CREATE a/b/c",
    "s2 SUBSCRIBE a/b/c",
    "s3 CREATE a/b2",
    "s4 SUBSCRIBE a/b2",
    "s5 DELETE a/b2",
    "s6 CREATE u/v/w",
    "s7 SUBSCRIBE u/v/w",
    "s8 RENAME u/v v2",
    "s9 CREATE n",
    "s10 SUBSCRIBE n",
    "s11 CREATE n/o/p",
    "s12 DELETE n",
    "s13 CREATE n",
    "s14 CREATE g/h",
    "s15 DELETE g/h",
    "s16 LIST \"\" g*",
    "s17 DELETE g",
    "s18 CREATE r/s/t",
    "s19 RENAME r/s r2",
    "s20 DELETE r",
    "s21 CREATE r/s",
    "b LIST (SUBSCRIBED RECURSIVEMATCH) \"\" % RETURN (CHILDREN)",
    "c LIST (SUBSCRIBED RECURSIVEMATCH) \"\" a/% RETURN (CHILDREN SUBSCRIBED)",
    "d LIST (SUBSCRIBED RECURSIVEMATCH) \"\" %/% RETURN (STATUS (MESSAGES))",
    "e LIST \"a/\" * RETURN (CHILDREN)",
    "f LIST \"a\" /% RETURN (CHILDREN)",
    "g LIST (SUBSCRIBED) \"u/\" *",
    "h LSUB \"\" a/%",
    "i LSUB \"\" u/%",
    "j LSUB \"\" %/%",
    "k LIST \"\" (u v2 v2/% n n/%) RETURN (CHILDREN SUBSCRIBED)",
    "l LIST (RECURSIVEMATCH SUBSCRIBED) \"\" (u v2) RETURN (CHILDREN)",
    "m LIST \"\" * RETURN (CHILDREN SUBSCRIBED STATUS (MESSAGES UIDNEXT))",
    "n LIST (SUBSCRIBED) \"\" * RETURN (CHILDREN STATUS (UIDNEXT))",
    "o UNSUBSCRIBE u/v/w",
    "p LIST (SUBSCRIBED RECURSIVEMATCH) \"\" * RETURN (CHILDREN)",
    "q LIST \"\" %",
    "r LIST \"\" %/%",
    "s LIST \"\" * RETURN ()",
    "t LOGOUT",
]

FS = "mail_location = maildir:~/Maildir:LAYOUT=fs\n"
NO_INDEX = "mailbox_list_index = no\n"

CASES: dict[str, list[str]] = {
    "maildirpp": SETUP + QUERIES,
    "maildirpp_no_index": SETUP + QUERIES,
    "fs": SETUP + QUERIES,
    "fs_no_index": SETUP + QUERIES,
    "more_maildirpp": MORE,
    "more_maildirpp_no_index": MORE,
    "more_fs": MORE,
    "more_fs_no_index": MORE,
}

CASE_SETTINGS: dict[str, str] = {
    "maildirpp_no_index": NO_INDEX,
    "fs": FS,
    "fs_no_index": FS + NO_INDEX,
    "more_maildirpp_no_index": NO_INDEX,
    "more_fs": FS,
    "more_fs_no_index": FS + NO_INDEX,
}
