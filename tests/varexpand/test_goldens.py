"""Our expansion against goldens recorded from the real Dovecot 2.3.19 (see record_goldens.py)."""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest

from .golden_table import expand_like_oracle

GOLDENS = Path(__file__).resolve().parent / "goldens"
TEXT_GOLDEN: dict[str, Any] = json.loads((GOLDENS / "auth_username_format.json").read_text("ascii"))
ERROR_GOLDEN: dict[str, Any] = json.loads((GOLDENS / "errors.json").read_text("ascii"))

_by_template: dict[str, list[dict[str, Any]]] = defaultdict(list)
for _case in TEXT_GOLDEN["cases"]:
    _by_template[_case["template"]].append(_case)


def test_golden_file_is_substantial() -> None:
    assert TEXT_GOLDEN["recorded_with"].startswith("dovecot 2.3.19")
    assert len(_by_template) > 350
    assert all(case["expected"] is not None for case in TEXT_GOLDEN["cases"])


@pytest.mark.parametrize("template", sorted(_by_template), ids=repr)
def test_expansion_matches_dovecot(template: str) -> None:
    for case in _by_template[template]:
        got = expand_like_oracle(TEXT_GOLDEN, case)
        assert got.text == case["expected"], f"user={case['user']!r}"


@pytest.mark.parametrize("case", ERROR_GOLDEN["cases"], ids=lambda c: repr(c["template"]))
def test_reported_error_matches_dovecot(case: dict[str, Any]) -> None:
    got = expand_like_oracle(ERROR_GOLDEN | {"auth_info": TEXT_GOLDEN["auth_info"]}, case)
    if case["expected_error"] is None:
        assert got.status == 1 and got.error is None
    elif case["expected_error"].startswith("if: regex failed:"):
        # The message comes from the C library's regerror(); we only promise the prefix.
        assert got.status == -1 and got.error is not None and got.error.startswith("if: regex failed:")
    else:
        assert got.status < 1
        assert got.error == case["expected_error"]
