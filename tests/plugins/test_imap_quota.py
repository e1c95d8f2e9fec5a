"""imap_quota's view of the quota plugin (the IMAP replies are compared with real Dovecot in
tests/imap/session/test_plugin_sessions.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from pydovecot.config import load
from pydovecot.imap.capabilities import CapabilitySettings, post_login
from pydovecot.plugins.quota import QuotaExceeded
from pydovecot.plugins.quota.imap import ImapQuotaPlugin, Resource
from pydovecot.storage.mail_user import MailUserError, create_mail_user

CONF = """\
mail_location = maildir:{home}/Maildir
ssl = no
first_valid_uid = 0
mail_plugins = {plugins}
plugin {{
  quota = count:User quota
  quota_rule = *:storage=2k:messages=3
  quota2 = count
  quota2_rule = *:messages=100
  quota3 = count:Free
  quota_vsizes = yes
}}
"""


def make_user(tmp_path: Path, plugins: str = "quota imap_quota"):
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    conf = tmp_path / "dovecot.conf"
    conf.write_text(CONF.format(home=home, plugins=plugins))
    return create_mail_user(load(str(conf)).lookup(service="imap"), "u", {"home": str(home)}, service="imap")


def imap_quota(user) -> ImapQuotaPlugin:  # type: ignore[no-untyped-def]
    return next(p for p in user.plugins if isinstance(p, ImapQuotaPlugin))


def test_roots_names_and_resources(tmp_path: Path) -> None:
    user = make_user(tmp_path)
    plugin = imap_quota(user)
    roots = plugin.roots_of("INBOX")
    assert [plugin.display_name(r) for r in roots] == ["User quota", "", "Free"]
    assert plugin.resources(roots[0]) == [Resource("STORAGE", 0, 2), Resource("MESSAGE", 0, 3)]
    assert plugin.resources(roots[2]) == []  # no limits: no QUOTA line at all
    user.open_mailbox("INBOX").append(b"Subject: x\r\n\r\n" + b"y" * 100 + b"\r\n")
    # STORAGE is in kilobytes, rounded up as Dovecot does.
    assert plugin.resources(roots[0]) == [Resource("STORAGE", 1, 2), Resource("MESSAGE", 1, 3)]
    assert plugin.resources(roots[1]) == [Resource("MESSAGE", 1, 100)]
    assert plugin.find_root("") is roots[1]
    assert plugin.find_root("nosuch") is None


def test_capability_comes_last_and_only_with_the_plugin(tmp_path: Path) -> None:
    user = make_user(tmp_path)
    caps = post_login(CapabilitySettings(), special_use=True, plugins=user.plugins).split()
    assert caps[-3:] == ["NOTIFY", "SPECIAL-USE", "QUOTA"]
    (tmp_path / "plain").mkdir()
    plain = make_user(tmp_path / "plain", "quota")
    assert "QUOTA" not in post_login(CapabilitySettings(), special_use=False, plugins=plain.plugins).split()
    explicit = CapabilitySettings(imap_capability="IMAP4rev1 IDLE")
    assert post_login(explicit, special_use=False, plugins=user.plugins) == "IMAP4rev1 IDLE"


def test_requires_quota_first(tmp_path: Path) -> None:
    with pytest.raises(MailUserError, match="requires plugin quota"):
        make_user(tmp_path, "imap_quota quota")


def test_copy_over_quota_copies_nothing(tmp_path: Path) -> None:
    user = make_user(tmp_path)
    user.create_mailbox("Other")
    inbox = user.open_mailbox("INBOX")
    inbox.append(b"Subject: 1\r\n\r\none\r\n")
    inbox.append(b"Subject: 2\r\n\r\ntwo\r\n")
    other = user.open_mailbox("Other")
    uids = [m.uid for m in inbox.sync().messages]
    # One more message fits (3 allowed), two do not: the copy is all or nothing, as Dovecot's.
    with pytest.raises(QuotaExceeded) as info:
        inbox.copy_to(uids, other)
    assert info.value.code == "OVERQUOTA"
    assert other.sync().messages == ()
    assert len(inbox.copy_to(uids[:1], other)) == 1
