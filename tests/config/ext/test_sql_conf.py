"""dovecot-sql.conf.ext: read as Dovecot's auth process reads it, with its messages."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pydovecot.config.errors import ConfigError
from pydovecot.config.ext import sql

HERE = Path(__file__).resolve().parent
GOLDENS = json.loads((HERE / "goldens.json").read_text())
SEED_SQL = Path(__file__).resolve().parents[3] / "examples" / "seed" / "dovecot-sql.conf.ext"


@pytest.mark.parametrize("case", sorted(GOLDENS))
def test_errors_match_real_auth_process(case: str) -> None:
    path = str(HERE / "sql_cases" / case)
    expected = GOLDENS[case]
    if expected is None:
        sql.load(path)
        return
    with pytest.raises(ConfigError) as excinfo:
        sql.load(path)
    assert sql.fatal_message(path, excinfo.value) == expected.replace("{path}", path)


def test_valid_file_values_and_defaults() -> None:
    conf = sql.load(str(HERE / "sql_cases" / "valid.conf"))
    assert conf.driver == "sqlite"
    assert conf.connect == "/tmp/pydovecot-test.db"
    assert conf.default_pass_scheme == "SHA512-CRYPT"
    assert conf.password_query == "SELECT username AS user, password FROM mailbox WHERE username = '%u'"
    assert conf.iterate_query == "SELECT username, domain FROM users"  # Dovecot's default
    assert conf.explicit == {"driver", "connect", "default_pass_scheme", "password_query"}


def test_the_seed_file_unchanged() -> None:
    conf = sql.load(str(SEED_SQL))
    assert conf.driver == "mysql"
    assert conf.connect_params()["host"] == "127.0.0.1"
    assert "CONCAT('*:bytes=', quota) AS userdb_quota_rule" in conf.password_query
    assert conf.iterate_query.startswith("SELECT username AS user FROM mailbox")
