"""Live comparison with the real Dovecot: re-expand a sample of the golden templates now.

This guards both our code and the goldens (a re-recording on a different Dovecot build would
show up here first).
"""

from __future__ import annotations

import pytest
from conftest import require_real_dovecot

from .cases import ERROR_TEMPLATES, TEMPLATES
from .golden_table import expand_like_oracle
from .oracle import AUTH_INFO, ORACLE_ENV, process_info, run_error_oracle, run_oracle, service_name

pytestmark = pytest.mark.oracle

SAMPLE_TEMPLATES = list(TEMPLATES[::7]) + ["%{if;%u;eq;x;y;%2.256N{sha1;truncate=12:user}}", "%-3.-1Lu|%Tu|"]
SAMPLE_USERS = ["First.Last@Sub.Example.COM", "a@b@c", "Zoë  "]
GOLDEN_CONTEXT = {"process": process_info(), "environ": ORACLE_ENV, "auth_info": AUTH_INFO}


def test_sample_matches_live_dovecot() -> None:
    require_real_dovecot()
    results, unquotable = run_oracle(SAMPLE_TEMPLATES, SAMPLE_USERS)
    assert unquotable == []
    mismatches = []
    for index, template in enumerate(SAMPLE_TEMPLATES):
        for user in SAMPLE_USERS:
            expected = results[(index, user)]
            case = {"template": template, "user": user, "service": service_name(index)}
            got = expand_like_oracle(GOLDEN_CONTEXT, case).text
            if got != expected:
                mismatches.append((template, user, expected, got))
    assert len(results) == len(SAMPLE_TEMPLATES) * len(SAMPLE_USERS)
    assert mismatches == []


def test_error_messages_match_live_dovecot() -> None:
    require_real_dovecot()
    sample = list(ERROR_TEMPLATES[::3])
    errors = run_error_oracle(sample, "bob@example.com")
    for index, (template, expected) in enumerate(zip(sample, errors, strict=True)):
        case = {"template": template, "user": "bob@example.com", "service": service_name(index)}
        got = expand_like_oracle(GOLDEN_CONTEXT, case)
        assert got.error == expected, template
