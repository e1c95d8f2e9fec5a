"""GETMETADATA / SETMETADATA and the METADATA capability, replayed against real Dovecot's
transcripts (goldens/metadata_sessions.json, recorded by metadata_cases.py)."""

from __future__ import annotations

import json

import pytest

from .cases import run_case
from .harness import running_server
from .metadata_cases import CASE_SETTINGS, CASES, GOLDENS, normalise_metadata

RECORDED = json.loads(GOLDENS.read_text())


def replay(name: str) -> list[tuple[str, str]]:
    with running_server(CASE_SETTINGS.get(name, "")) as server:
        return [(line, normalise_metadata(reply)) for line, reply in run_case("127.0.0.1", server.port, CASES[name])]


def test_every_case_recorded() -> None:
    assert sorted(RECORDED) == sorted(CASES)


@pytest.mark.parametrize("name", sorted(RECORDED))
def test_matches_real_dovecot(name: str) -> None:
    ours = replay(name)
    golden = [tuple(pair) for pair in RECORDED[name]]
    assert [line for line, _ in ours] == [line for line, _ in golden]
    for (line, reply), (_, expected) in zip(ours, golden, strict=True):
        assert reply == expected, line
