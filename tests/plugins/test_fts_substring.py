"""Opt-in substring matching: ``fts_substring = yes`` (or flatcurve's ``substring_search=yes``,
xapian's ``partial=``) indexes trigrams, and SEARCH then answers as IMAP does without an index:
``BODY "ick bro"`` finds "quick brown". The word index (the default) answers whole words only.
Both are compared with the plain evaluator on the same generated mail."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from pydovecot.config import load
from pydovecot.imap.commands.search import _run_search
from pydovecot.imap.protocol.parser import parse_command
from pydovecot.plugins.fts.engine import FtsIndex, FtsOptions
from pydovecot.plugins.fts.extract import extract
from pydovecot.plugins.fts.plugin import parse_backend_options
from pydovecot.storage.mail_user import create_mail_user
from tests.plugins.test_fts_search import generated_mail, selected

CONF = """\
mail_location = maildir:{home}/Maildir
ssl = no
first_valid_uid = 0
mail_plugins = {plugins}
plugin {{
  fts = {backend}
  {options}
}}
"""


def open_inbox(tmp_path: Path, name: str, plugins: str, backend: str = "lucene", options: str = ""):  # type: ignore[no-untyped-def]
    home = tmp_path / "home"
    home.mkdir(parents=True, exist_ok=True)
    conf = tmp_path / f"{name}.conf"
    conf.write_text(CONF.format(home=home, plugins=plugins, backend=backend, options=options))
    user = create_mail_user(load(str(conf)).lookup(service="imap"), "u", {"home": str(home)}, service="imap")
    return user.open_mailbox("INBOX")


@pytest.fixture
def views(tmp_path: Path):  # type: ignore[no-untyped-def]
    """(substring index, word index, no index) views of one mailbox of generated mail."""
    rng = random.Random(4111)
    substring = open_inbox(tmp_path / "a", "substring", "fts fts_lucene", options="fts_substring = yes")
    for n in range(60):
        substring.append(generated_mail(rng, n))
    substring.append(b"From: Q <q@x.test>\r\nSubject: Fox and\r\n  a folded line\r\n\r\nThe Quick Brown fox\r\njumps over.\r\n")
    word = open_inbox(tmp_path / "a", "words", "fts fts_lucene")
    plain = open_inbox(tmp_path / "a", "plain", "")
    return selected(substring), selected(word), selected(plain)


def search(view, query: str) -> list[int]:  # type: ignore[no-untyped-def]
    return _run_search(view, parse_command(f"t UID SEARCH {query}".encode()), None)


def test_substrings_match_as_without_an_index(views) -> None:  # type: ignore[no-untyped-def]
    substring, _, plain = views
    rng = random.Random(7)
    bodies = [m for m in (substring.mailbox.read(uid) for uid in substring.uids) if m]
    queries = ['"ick bro"', '"ICK BRO"', '"ick  bro"', "ump", '"ps ov"', '"k\\"b"', "harl", "LIE", "ulu"]
    for _ in range(40):  # random stretches of the bodies, across word boundaries and punctuation
        raw = bodies[rng.randrange(len(bodies))].replace(b"\r\n", b"\n")
        body = raw.split(b"\n\n", 1)[1].split(b"\n")[0].decode()
        start = rng.randrange(max(1, len(body) - 8))
        queries.append('"' + body[start:start + rng.randint(3, 12)].replace('"', "") + '"')
    for query in queries:
        for key in ("BODY", "TEXT"):
            assert search(substring, f"{key} {query}") == search(plain, f"{key} {query}"), (key, query)
    for query in ("SUBJECT ox", 'SUBJECT "and  a fold"', 'SUBJECT "and a fold"', "FROM q@x", 'FROM "q <q@x"',
                  'TO "Baker <ben@"', 'CC "cid cole"', "TO rcher", "BODY quick BODY \"n fo\"", "NOT BODY ulu"):
        assert search(substring, query) == search(plain, query), query
    assert search(substring, 'BODY "ick bro"') == [substring.uids[-1]]


def test_short_values_fall_back_to_the_evaluator(views, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    substring, _, plain = views
    assert substring.mailbox.fts_lookup("BODY", "ck") is None
    assert search(substring, "BODY ck") == search(plain, "BODY ck")
    assert substring.mailbox.fts_lookup("BODY", "ick") is not None


def test_the_word_index_answers_whole_words_only(views) -> None:  # type: ignore[no-untyped-def]
    _, word, plain = views
    assert search(word, 'BODY "ick bro"') == []
    assert search(plain, 'BODY "ick bro"') != []
    assert search(word, 'BODY "quick brown"') == search(plain, 'BODY "quick brown"')


def test_backend_knobs_turn_substring_matching_on() -> None:
    assert parse_backend_options("substring_search=yes")[0].substring
    assert not parse_backend_options("substring_search=no")[0].substring
    assert parse_backend_options("partial=3 full=20")[0].substring
    assert parse_backend_options("partial=3 full=20")[1] == []
    assert not parse_backend_options("whitespace_chars=@.")[0].substring
    assert parse_backend_options("whitespace_chars=@.", substring=True)[0].substring


def test_flatcurve_substring_search_setting(tmp_path: Path) -> None:
    box = open_inbox(tmp_path, "flatcurve", "fts fts_flatcurve", backend="flatcurve",
                     options="fts_flatcurve = substring_search=yes")
    uid = box.append(b"Subject: s\r\n\r\nthe quick brown fox\r\n")
    assert box.fts_lookup("BODY", "ick bro") == {uid}


def test_changing_the_mode_rebuilds_the_index(tmp_path: Path) -> None:
    text = extract(b"Subject: s\r\n\r\nthe quick brown fox\r\n")
    words = FtsIndex(str(tmp_path), FtsOptions())
    words.add([(1, lambda: text)])
    assert words.lookup("BODY", "ick bro") == set() and words.lookup("BODY", "quick") == {1}
    words.close()
    trigrams = FtsIndex(str(tmp_path), FtsOptions(substring=True))
    assert trigrams.last_uid == 0  # made with another tokenizer: thrown away
    trigrams.add([(1, lambda: text)])
    assert trigrams.lookup("BODY", "ick bro") == {1}
    trigrams.close()
    again = FtsIndex(str(tmp_path), FtsOptions(substring=True))
    assert again.last_uid == 1  # same tokenizer: kept
    again.close()
