"""Re-run the oracle: real Dovecot answers, live, must equal ours (and the recorded goldens)."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings

from tests.conftest import require_real_dovecot
from tests.storage.mime import mimegen, oracle
from tests.storage.mime.conftest import CORPUS, GOLDENS, corpus_names
from tests.storage.mime.parity import KNOWN_DIFFERENCES, compare, container_declares_encoding

# Messages written here (not in the corpus) so the live run also covers fresh input.
EXTRA = {
    "fresh-alt": (b"From: \"A, B\" <a@b.c>\r\nSubject: =?utf-8?q?x?= fresh\r\nMIME-Version: 1.0\r\n"
                  b"Content-Type: multipart/alternative; boundary=\"==x==\"\r\n\r\n--==x==\r\n"
                  b"Content-Type: text/plain; charset=\"utf-8\"\r\nContent-Transfer-Encoding: "
                  b"quoted-printable\r\n\r\nHall=C3=B6chen=\r\n Welt\r\n--==x==\r\nContent-Type: text/html\r\n"
                  b"\r\n<b>Hi</b>\r\n--==x==--\r\n"),
    "fresh-group": (b"To: list: ;\nCc: \"x\\\"y\" <x@y>, (c) z@w\nSubject: \ttabbed\t subject \n"
                    b"Date: today\n\nbody\n"),
}


@pytest.fixture(scope="module")
def live() -> None:
    if not oracle.available():
        require_real_dovecot()
        pytest.skip("set PYDOVECOT_DOVECOT_ROOT to an unpacked Dovecot (imap binary not found)")


@pytest.mark.parametrize("name", corpus_names()[::6])
def test_live_answers_equal_goldens_and_ours(live: None, name: str) -> None:
    message = (CORPUS / f"{name}.eml").read_bytes()
    answers = oracle.fetch_all(message)
    assert answers == oracle.read_golden(GOLDENS / f"{name}.txt")
    diffs = [d for d in compare(message, answers) if (name, d[0]) not in KNOWN_DIFFERENCES]
    assert diffs == []


@pytest.mark.parametrize("name", sorted(EXTRA))
def test_live_fresh_messages(live: None, name: str) -> None:
    assert compare(EXTRA[name], oracle.fetch_all(EXTRA[name])) == []


@settings(max_examples=25, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(message=mimegen.message())
def test_live_generated_messages(message: bytes) -> None:
    """Random awkward MIME trees: every FETCH item must equal the live Dovecot answer."""
    if not oracle.available():
        require_real_dovecot()
        pytest.skip("imap binary not found")
    skip_binary = container_declares_encoding(message)
    diffs = [d for d in compare(message, oracle.fetch_all(message))
             if not (skip_binary and d[0].startswith("BINARY"))]
    assert diffs == []
