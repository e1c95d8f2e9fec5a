"""zlib: compressed Maildir files read transparently, new mail compressed with zlib_save."""

from __future__ import annotations

import gzip
import os
import subprocess
from pathlib import Path

from pydovecot.config import load
from pydovecot.storage.mail_user import create_mail_user
from tests.conftest import require_real_dovecot

CONF = """\
mail_location = maildir:{home}/Maildir
base_dir = {root}/run
ssl = no
first_valid_uid = 0
mail_uid = {uid}
mail_gid = {uid}
mail_plugins = zlib
plugin {{
  zlib_save = gz
  zlib_save_level = 6
}}
"""
MSG = b"Subject: zipped\n\n" + b"hello compressed world\n" * 50


def make_user(root: Path):
    home = root / "home"
    home.mkdir(exist_ok=True)
    uid = 65534 if os.getuid() == 0 else os.getuid()
    conf = root / "dovecot.conf"
    conf.write_text(CONF.format(home=home, root=root, uid=uid))
    return create_mail_user(load(str(conf)).lookup(service="imap"), "u", {"home": str(home)}, service="imap"), conf, home, uid


def test_saved_compressed_and_read_back(tmp_path: Path) -> None:
    user, _, home, _ = make_user(tmp_path)
    box = user.open_mailbox("INBOX")
    uid = box.append(MSG)
    (name,) = os.listdir(home / "Maildir" / "new")
    raw = (home / "Maildir" / "new" / name).read_bytes()
    assert raw[:2] == b"\x1f\x8b" and gzip.decompress(raw) == MSG
    assert f",S={len(MSG)}," in name  # the name keeps the real size
    assert box.read(uid) == MSG
    assert box.sync().messages[0].size == len(MSG)


def test_plain_files_still_read(tmp_path: Path) -> None:
    user, _, home, _ = make_user(tmp_path)
    box = user.open_mailbox("INBOX")
    box.sync()
    (home / "Maildir" / "cur" / "1.M1P1.host,S=5:2,").write_bytes(b"a: b\n")
    snap = box.sync()
    assert box.read(snap.messages[0].uid) == b"a: b\n"


def test_real_dovecot_reads_our_compressed_mail(open_tmp_path: Path) -> None:
    require_real_dovecot()
    user, conf, home, uid = make_user(open_tmp_path)
    user.open_mailbox("INBOX").append(MSG)
    subprocess.run(["chown", "-R", f"{uid}:{uid}", str(home)], check=True)
    env = {"USER": "u", "HOME": str(home), "PATH": os.environ.get("PATH", "")}
    out = subprocess.run(["/usr/lib/dovecot/imap", "-c", str(conf)],
                         input=b"a SELECT INBOX\r\nb FETCH 1 (RFC822.SIZE BODY.PEEK[HEADER.FIELDS (SUBJECT)])\r\nc LOGOUT\r\n",
                         env=env, capture_output=True, timeout=30, check=True).stdout
    crlf_size = len(MSG) + MSG.count(b"\n")
    assert f"RFC822.SIZE {crlf_size}".encode() in out, out
    assert b"Subject: zipped" in out
