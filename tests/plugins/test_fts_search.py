"""SEARCH answered from the fts index gives the same UIDs as the plain evaluator for whole-word
queries (where they differ otherwise: pydovecot/plugins/fts/engine.py). Real fts_lucene's
answers are compared in tests/imap/session/test_plugin_sessions.py (case fts_search)."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from pydovecot.config import load
from pydovecot.imap.commands.search import _run_search
from pydovecot.imap.protocol.parser import parse_command
from pydovecot.imap.selected import SelectedMailbox
from pydovecot.storage.interface import StoreAction
from pydovecot.storage.mail_user import create_mail_user

CONF = """\
mail_location = maildir:{home}/Maildir
ssl = no
first_valid_uid = 0
mail_plugins = {plugins}
plugin {{
  fts = lucene
}}
"""
# Words no other word contains, and that stemming leaves alone in both directions.
WORDS = ("alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel", "india", "juliet",
         "kilo", "lima", "mike", "oscar", "quebec", "romeo", "sierra", "tango", "victor", "zulu")
PEOPLE = ("Ann Archer <ann@one.test>", "Ben Baker <ben@two.test>", "Cid Cole <cid@three.test>")
QUERIES = [
    "BODY alpha", "BODY zulu", "TEXT bravo", "SUBJECT charlie", "FROM baker", "TO cole", "CC archer",
    "BODY \"delta echo\"", "BODY alpha BODY bravo", "UNSEEN BODY golf", "SEEN TEXT hotel", "1:20 BODY india",
    "BODY juliet NOT BODY kilo", "OR BODY lima BODY mike", "SUBJECT oscar BODY quebec", "NOT TEXT romeo",
    "BODY sierra LARGER 100", "FLAGGED OR SUBJECT tango BODY victor", "BODY nosuchword", "TEXT ann",
]


def make_user(tmp_path: Path, plugins: str):
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    conf = tmp_path / f"{plugins.replace(' ', '_') or 'none'}.conf"
    conf.write_text(CONF.format(home=home, plugins=plugins))
    return create_mail_user(load(str(conf)).lookup(service="imap"), "u", {"home": str(home)}, service="imap")


def generated_mail(rng: random.Random, n: int) -> bytes:
    subject = " ".join(rng.sample(WORDS, 2))
    body_lines = [" ".join(rng.choices(WORDS, k=rng.randint(3, 12))) + rng.choice([".", ",", "!", ""])
                  for _ in range(rng.randint(1, 6))]
    return (f"From: {rng.choice(PEOPLE)}\r\nTo: {rng.choice(PEOPLE)}\r\nCc: {rng.choice(PEOPLE)}\r\n"
            f"Subject: {subject}\r\nMessage-ID: <{n}@gen.test>\r\n\r\n" + "\r\n".join(body_lines) + "\r\n").encode()


def selected(mailbox) -> SelectedMailbox:  # type: ignore[no-untyped-def]
    view = SelectedMailbox("INBOX", mailbox, False)
    view.load(mailbox.sync(), mailbox.known_keywords())
    return view


@pytest.fixture
def views(tmp_path: Path):
    rng = random.Random(2087)
    with_fts = make_user(tmp_path, "fts fts_lucene").open_mailbox("INBOX")
    for n in range(60):
        with_fts.append(generated_mail(rng, n))
    uids = [m.uid for m in with_fts.sync().messages]
    with_fts.store(uids[::3], StoreAction.ADD, ["\\Seen"])
    with_fts.store(uids[::5], StoreAction.ADD, ["\\Flagged"])
    plain = make_user(tmp_path, "").open_mailbox("INBOX")
    assert hasattr(with_fts, "fts_lookup") and not hasattr(plain, "fts_lookup")
    return selected(with_fts), selected(plain)


@pytest.mark.parametrize("query", QUERIES)
def test_whole_word_queries_match_without_fts(views, query: str) -> None:
    indexed, plain = views
    cmd = parse_command(f"t UID SEARCH {query}".encode())
    found = _run_search(indexed, cmd, None)  # type: ignore[arg-type]
    assert found == _run_search(plain, cmd, None)  # type: ignore[arg-type]


def test_index_answers_the_text_keys(views, monkeypatch: pytest.MonkeyPatch) -> None:
    """The body keys really come from the index: the evaluator never reads those messages."""
    indexed, _ = views
    asked: list[tuple[str, str]] = []
    lookup = indexed.mailbox.fts_lookup

    def spy(key: str, value: str, existing=None):  # type: ignore[no-untyped-def]
        asked.append((key, value))
        return lookup(key, value, existing)

    monkeypatch.setattr(indexed.mailbox, "fts_lookup", spy, raising=False)
    cmd = parse_command(b"t SEARCH UNSEEN BODY alpha SUBJECT bravo OR BODY x BODY y")
    _run_search(indexed, cmd, None)  # type: ignore[arg-type]
    assert asked == [("BODY", "alpha"), ("SUBJECT", "bravo")]  # OR stays with the evaluator
