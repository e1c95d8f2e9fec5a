"""Fixtures for the MIME layer tests: the corpus and Dovecot's recorded answers."""

from __future__ import annotations

from pathlib import Path

HERE = Path(__file__).resolve().parent
CORPUS = HERE / "corpus"
GOLDENS = HERE / "goldens"


def corpus_names() -> list[str]:
    return sorted(p.stem for p in CORPUS.glob("*.eml"))
