"""The dict quota backend: the file: dict and dict-sql on MariaDB, compared with real Dovecot.

The same operations (two APPENDs, one EXPUNGE) run through our mail user and through the real
``imap`` binary in PREAUTH mode; the dict file / SQL row each writes must be the same. The
dict-sql case needs a real dict service, so a real dovecot (own base_dir, no inet listeners)
runs for it.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from pydovecot.config import load
from pydovecot.plugins.quota import QuotaExceeded
from pydovecot.plugins.quota.dict_backend import FileDict, parse_args, resolve_uri
from pydovecot.storage.access import call_as
from pydovecot.storage.mail_user import create_mail_user
from tests.conftest import IN_CI, require_real_dovecot
from tests.plugins.real_imap import config, mail_uid, make_home, run_imap, tagged

# What real Dovecot 2.3.19 wrote for the operations below (file dict; the SQL row's columns).
GOLDEN = json.loads((Path(__file__).parent / "goldens" / "quota_dict.json").read_text())
RULES = "  quota_rule = *:storage=10k:messages=5\n"
MESSAGES = [b"Subject: a\r\n\r\n" + b"x" * 1000 + b"\r\n", b"Subject: b\r\n\r\n" + b"y" * 3000 + b"\r\n"]


def message_lf(data: bytes) -> bytes:
    return data.replace(b"\r\n", b"\n")


def our_operations(conf: Path, home: Path) -> None:
    """APPEND both messages, EXPUNGE the first, as the mail user."""
    def work() -> None:
        user = create_mail_user(load(str(conf)).lookup(service="imap"), "u", {"home": str(home)}, service="imap")
        inbox = user.open_mailbox("INBOX")
        for data in MESSAGES:
            inbox.append(message_lf(data))
        inbox.expunge([1])
    call_as(mail_uid() if os.getuid() == 0 else None, mail_uid() if os.getuid() == 0 else None, work)


def real_operations(conf: Path, home: Path) -> None:
    commands: list[bytes | tuple[bytes, bytes]] = [(b"APPEND INBOX", data) for data in MESSAGES]
    commands += [b"SELECT INBOX", b"STORE 1 +FLAGS (\\Deleted)", b"EXPUNGE", b"LOGOUT"]
    out, err = run_imap(conf, home, commands)
    assert all(line.startswith("OK") for line in list(tagged(out).values())[:5]), (out, err)


def test_parse_args() -> None:
    args = parse_args("dict:User quota::proxy::quota")
    assert (args.username, args.options, args.uri) == ("", (), "proxy::quota")
    args = parse_args("dict:User quota:bob:noenforcing:file:/x/y")
    assert (args.username, args.options, args.uri) == ("bob", ("noenforcing",), "file:/x/y")
    assert resolve_uri("proxy::quota", {"quota": "mysql:/m"}) == "mysql:/m"


def test_file_dict_usage_and_enforcement(open_tmp_path: Path) -> None:
    home = make_home(open_tmp_path)
    conf = config(open_tmp_path, home, "mail_plugins = quota\nplugin {\n"
                  f"  quota = dict:User quota::file:{home}/quota.dict\n{RULES}}}\n")
    our_operations(conf, home)
    values = FileDict(str(home / "quota.dict")).read()
    assert values == GOLDEN["file_dict"]
    assert values["priv/quota/storage"] == str(len(message_lf(MESSAGES[1])))
    user = create_mail_user(load(str(conf)).lookup(service="imap"), "u", {"home": str(home)}, service="imap")
    with pytest.raises(QuotaExceeded):
        user.open_mailbox("INBOX").append(b"Subject: big\n\n" + b"z" * 12000)
    # A lost dict is recalculated from the mailboxes.
    (home / "quota.dict").unlink()
    plugin = next(p for p in user.plugins if p.name == "quota")
    assert plugin.usage(plugin.roots[0]).messages == 1
    assert FileDict(str(home / "quota.dict")).read()["priv/quota/messages"] == "1"


def test_file_dict_same_as_real_dovecot(open_tmp_path: Path) -> None:
    require_real_dovecot()
    results = []
    for name in ("ours", "real"):
        (open_tmp_path / name).mkdir()
        home = make_home(open_tmp_path / name)
        conf = config(open_tmp_path / name, home, "mail_plugins = quota\nplugin {\n"
                      f"  quota = dict:User quota::file:{home}/quota.dict\n{RULES}}}\n")
        (our_operations if name == "ours" else real_operations)(conf, home)
        results.append(FileDict(str(home / "quota.dict")).read())
    assert results[0] == results[1] == GOLDEN["file_dict"]


# --- dict-sql on MariaDB through the real dict service ------------------------------------------

DB = f"pydovecot_quota_{os.getpid()}"


def _mysql(sql: str) -> str:
    return subprocess.run(["mysql", "-h127.0.0.1", "-uroot", "-N", "-B", "-e", sql], capture_output=True,
                          text=True, timeout=20, check=True).stdout


@pytest.fixture
def database() -> Iterator[str]:
    try:
        import pymysql

        pymysql.connect(host="127.0.0.1", user="root", connect_timeout=3).close()
    except Exception as exc:  # noqa: BLE001 - any failure means no usable server
        if IN_CI:
            pytest.fail(f"MariaDB unreachable under CI: {exc}")
        pytest.skip(f"MariaDB on 127.0.0.1:3306 unreachable: {exc}")
    _mysql(f"CREATE DATABASE {DB}; CREATE TABLE {DB}.quota (username varchar(100) not null, "
           "bytes bigint not null default 0, messages integer not null default 0, primary key (username))")
    try:
        yield DB
    finally:
        _mysql(f"DROP DATABASE IF EXISTS {DB}")


def sql_conf(root: Path, home: Path, port_base: int) -> Path:
    maps = root / "dict-sql.conf.ext"
    maps.write_text(f"connect = host=127.0.0.1 dbname={DB} user=root\n"
                    "map {\n  pattern = priv/quota/storage\n  table = quota\n  username_field = username\n"
                    "  value_field = bytes\n}\n"
                    "map {\n  pattern = priv/quota/messages\n  table = quota\n  username_field = username\n"
                    "  value_field = messages\n}\n")
    return config(root, home, "protocols = \nmail_plugins = quota\n"
                  f"dict {{\n  quota = mysql:{maps}\n}}\n"
                  "service dict {\n  unix_listener dict {\n    mode = 0666\n  }\n}\n"
                  f"plugin {{\n  quota = dict:User quota::proxy::quota\n{RULES}}}\n")


def test_dict_sql_same_rows_as_real_dovecot(open_tmp_path: Path, database: str) -> None:
    home = make_home(open_tmp_path, "home")
    conf = sql_conf(open_tmp_path, home, 0)
    our_operations(conf, home)
    ours = _mysql(f"SELECT username, bytes, messages FROM {DB}.quota")
    assert ours.split() == GOLDEN["sql_row"]
    require_real_dovecot()
    _mysql(f"DELETE FROM {DB}.quota")
    shutil.rmtree(home / "Maildir")
    subprocess.run(["/usr/sbin/dovecot" if Path("/usr/sbin/dovecot").exists() else "dovecot", "-c", str(conf)],
                   check=True, timeout=30)
    try:
        for _ in range(100):
            if (open_tmp_path / "run" / "dict").exists():
                break
            time.sleep(0.05)
        real_operations(conf, home)
        time.sleep(0.3)  # the dict commits asynchronously
        real = _mysql(f"SELECT username, bytes, messages FROM {DB}.quota")
    finally:
        subprocess.run(["dovecot", "-c", str(conf), "stop"], timeout=30, check=False)
    assert real.split() == ours.split() == GOLDEN["sql_row"]


def test_dict_sql_missing_row_is_recalculated(open_tmp_path: Path, database: str) -> None:
    home = make_home(open_tmp_path, "home")
    conf = sql_conf(open_tmp_path, home, 0)
    our_operations(conf, home)
    _mysql(f"DELETE FROM {DB}.quota")

    def append() -> None:
        user = create_mail_user(load(str(conf)).lookup(service="imap"), "u", {"home": str(home)}, service="imap")
        user.open_mailbox("INBOX").append(b"Subject: c\n\nzz\n")
    uid = mail_uid() if os.getuid() == 0 else None
    call_as(uid, uid, append)
    # The usage lookup before the save found no row: recalculated (1 message), then incremented.
    assert _mysql(f"SELECT bytes, messages FROM {DB}.quota").split() == [str(3013 + 15), "2"]
