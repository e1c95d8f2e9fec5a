"""Quota rules as Dovecot reads them (the seed's own rules included)."""

from __future__ import annotations

import pytest

from pydovecot.plugins.quota.rules import QuotaConfigError, parse_limit, quota_roots

SEED = {
    "quota": "maildir:User quota:ignoreunlimited:noenforcing",
    "quota_rule": "*:storage=10000M",
    "quota_rule2": "INBOX:messages=+10240",
    "quota_rule3": "INBOX/Trash:storage=+125M",
    "quota_rule4": "INBOX/Sent:ignore",
    "quota_rule5": "INBOX/Archiv:storage=+25%",
    "quota_grace": "10%",
}
MB = 1024 * 1024


def test_seed_rules() -> None:
    (root,) = quota_roots(SEED)
    assert (root.backend, root.name, root.options) == ("maildir", "User quota", ("ignoreunlimited", "noenforcing"))
    assert not root.enforcing
    assert root.limits_for("Other") == (10000 * MB, 0)
    assert root.limits_for("INBOX") == (10000 * MB, 0)  # +messages on an unlimited count stays unlimited
    assert root.limits_for("INBOX/Trash") == (10125 * MB, 0)
    assert root.limits_for("INBOX/Sent") is None
    assert root.limits_for("INBOX/Archiv") == (12500 * MB, 0)
    assert root.grace(1000) == 100


def test_units_and_bytes() -> None:
    assert parse_limit("storage=100").storage == 100 * 1024  # kilobytes without a unit
    assert parse_limit("storage=2G").storage == 2 * 1024**3
    assert parse_limit("bytes=100").storage == 100
    limit = parse_limit("storage=1M:messages=10")
    assert (limit.storage, limit.messages) == (MB, 10)


def test_several_roots_and_wildcards() -> None:
    roots = quota_roots({"quota": "count:A", "quota_rule": "*:messages=10", "quota_rule2": "Spam*:ignore",
                         "quota2": "count:B", "quota2_rule": "*:storage=1k", "quota2_grace": "0"})
    assert [r.name for r in roots] == ["A", "B"]
    assert roots[0].limits_for("Spam/old") is None and roots[0].limits_for("x") == (0, 10)
    assert roots[1].limits_for("x") == (1024, 0) and roots[1].grace(1024) == 0


@pytest.mark.parametrize("bad", [{"quota": "nosuch:x"}, {"quota": "fs:x"},
                                 {"quota": "count:x", "quota_rule": "*:storage=lots"},
                                 {"quota": "count:x", "quota_rule": "*:weight=3"}])
def test_bad_rules_are_refused(bad: dict[str, str]) -> None:
    with pytest.raises(QuotaConfigError):
        quota_roots(bad)
