"""dict-sql map files, with the rules and messages of Dovecot 2.3's dict-sql reader."""

from __future__ import annotations

from pathlib import Path

import pytest

from pydovecot.config.errors import ConfigError
from pydovecot.config.ext import dict_sql

QUOTA = """connect = host=127.0.0.1 dbname=mail user=dovecot
map {
  pattern = priv/quota/storage
  table = quota
  username_field = username
  value_field = bytes
  value_type = uint
}
map {
  pattern = shared/shared-boxes/user/$to/$from
  table = user_shares
  value_field = dummy
  fields {
    from_user = $from
    to_user = ${hexblob:to}
  }
}
"""


def write(tmp_path: Path, text: str) -> str:
    path = tmp_path / "dict-sql.conf.ext"
    path.write_text(text)
    return str(path)


def test_maps_and_fields(tmp_path: Path) -> None:
    conf = dict_sql.load(write(tmp_path, QUOTA))
    assert conf.connect == "host=127.0.0.1 dbname=mail user=dovecot"
    quota, shares = conf.maps
    assert (quota.pattern, quota.table, quota.value_fields, quota.value_types) == (
        "priv/quota/storage", "quota", ("bytes",), ("uint",))
    assert shares.pattern == "shared/shared-boxes/user/$/$"
    assert [(f.name, f.value_type) for f in shares.fields] == [("to_user", "hexblob"), ("from_user", "string")]
    assert shares.username_field == "'username_field not set'"


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ("connect = x\nmap {\n  table = t\n  value_field = v\n}\n", 5, "Missing setting: pattern"),
        ("connect = x\nmap {\n  pattern = p/$a\n  table = t\n  value_field = v\n}\n", 6,
         "Missing fields for pattern variables"),
        ("connect = x\nmap {\n  pattern = p/$a\n  table = t\n  value_field = v\n  fields {\n"
         "    col = $b\n  }\n}\n", 8, "Missing SQL field for variable: a"),
        ("connect = x\nmap {\n  pattern = p\n  table = t\n  value_field = v\n  fields {\n"
         "    col = b\n  }\n}\n", 7, "Value is missing '$' for field: col"),
        ("connect = x\nmap {\n  pattern = p\n  table = t\n  value_field = a,b\n  value_type = uint\n}\n", 7,
         "Number of fields in value_fields doesn't match value_type"),
        ("connect = x\nmap {\n  pattern = p\n  table = t\n  value_field = a\n  value_type = float\n}\n", 7,
         "Invalid value in value_type"),
        ("connect = x\nbogus {\n}\n", 2, "Unknown section: bogus"),
        ("connect = x\nmap {\n  nosuch = 1\n}\n", 3, "Unknown setting: nosuch"),
        ("connect = x\nmap {\n  value_hexblob = maybe\n}\n", 3, "Invalid boolean: maybe"),
    ],
)
def test_errors(tmp_path: Path, text: str, line: int, message: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as excinfo:
        dict_sql.load(path)
    assert (excinfo.value.line, excinfo.value.message) == (line, message)


def test_missing_connect(tmp_path: Path) -> None:
    path = write(tmp_path, "map {\n  pattern = p\n  table = t\n  value_field = v\n}\n")
    with pytest.raises(ConfigError) as excinfo:
        dict_sql.load(path)
    assert str(excinfo.value) == f"Error in configuration file {path}: Missing connect setting"
