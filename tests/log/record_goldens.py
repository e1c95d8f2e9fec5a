"""Re-record goldens/real_dovecot_login.log from the real Dovecot 2.3.19 (run as root):

    .venv/bin/python -m tests.log.record_goldens

It starts /usr/sbin/dovecot on a temporary configuration (passwd-file user alice@example.test,
IMAP on 127.0.0.1:21143, POP3 on 21110, own base_dir), logs in with bad and good passwords over
imaplib/poplib, stops it and prints its log.  Dovecot's auth failure delay makes this take ~30 s.
"""

from __future__ import annotations

import contextlib
import imaplib
import os
import poplib
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CONF = """\
protocols = imap pop3
base_dir = {d}/base
listen = 127.0.0.1
log_path = {d}/dovecot.log
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
auth_verbose = yes
mail_location = maildir:{d}/mail/%u
default_internal_user = dovecot
default_login_user = dovenull
passdb {{
  driver = passwd-file
  args = {d}/users
}}
userdb {{
  driver = static
  args = uid=vmail gid=vmail home={d}/mail/%u
}}
service imap-login {{
  inet_listener imap {{
    port = 21143
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service pop3-login {{
  inet_listener pop3 {{
    port = 21110
  }}
  inet_listener pop3s {{
    port = 0
  }}
}}
"""


def sessions() -> None:
    m = imaplib.IMAP4("127.0.0.1", 21143)
    with contextlib.suppress(imaplib.IMAP4.error):
        m.login("alice@example.test", "wrong")
    m.logout()
    m = imaplib.IMAP4("127.0.0.1", 21143)
    m.login("alice@example.test", "secret")
    m.logout()
    m = imaplib.IMAP4("127.0.0.1", 21143)
    for password in ("wrong", "wrong2"):
        with contextlib.suppress(imaplib.IMAP4.error):
            m.login("nobody@example.test", password)
    m.shutdown()
    imaplib.IMAP4("127.0.0.1", 21143).shutdown()
    p = poplib.POP3("127.0.0.1", 21110)
    p.user("alice@example.test")
    with contextlib.suppress(poplib.error_proto):
        p.pass_("bad")
    p.quit()
    p = poplib.POP3("127.0.0.1", 21110)
    p.user("alice@example.test")
    p.pass_("secret")
    p.quit()


def main() -> int:
    d = Path(tempfile.mkdtemp(prefix="dovecot-golden-"))
    d.chmod(0o755)
    (d / "mail").mkdir()
    shutil.chown(d / "mail", "vmail", "vmail")
    (d / "users").write_text("alice@example.test:{PLAIN}secret:::\n")
    conf = d / "dovecot.conf"
    conf.write_text(CONF.format(d=d))
    subprocess.run(["/usr/sbin/dovecot", "-c", str(conf)], check=True)
    try:
        time.sleep(1)
        sessions()
        time.sleep(1)
    finally:
        subprocess.run(["/usr/sbin/dovecot", "-c", str(conf), "stop"], check=False)
    sys.stdout.write((d / "dovecot.log").read_text())
    shutil.rmtree(d, ignore_errors=True)
    return 0


if __name__ == "__main__" and os.geteuid() == 0:
    sys.exit(main())
