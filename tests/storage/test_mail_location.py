from __future__ import annotations

import pytest

from pydovecot.storage.mail_location import MailLocationError, parse_mail_location
from pydovecot.storage.maildir.layout import LayoutKind


def test_home_and_options() -> None:
    loc = parse_mail_location("maildir:~/Maildir:LAYOUT=fs:INBOX=~/inbox:INDEX=/var/idx:UTF-8", "/home/a")
    assert loc.driver == "maildir"
    assert loc.root == "/home/a/Maildir"
    assert loc.option("INBOX") == "/home/a/inbox"
    assert loc.index_dir == "/var/idx"
    layout = loc.maildir_layout()
    assert layout.kind is LayoutKind.FS and layout.utf8 and layout.inbox_path == "/home/a/inbox"


def test_double_colon_is_a_literal_colon() -> None:
    assert parse_mail_location("maildir:/srv/a::b:CONTROL=/c").root == "/srv/a:b"


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("maildir:~/Maildir:BOGUS=1", "Unknown setting: BOGUS"),
        ("nosuch:/x", "Unknown mail storage driver nosuch"),
        ("mbox:~/mail", "not supported yet"),
    ],
)
def test_errors(value: str, message: str) -> None:
    with pytest.raises(MailLocationError, match=message):
        parse_mail_location(value, "/home/a")


def test_tilde_without_home_is_refused() -> None:
    with pytest.raises(MailLocationError, match="Home directory not set"):
        parse_mail_location("maildir:~/Maildir", None)


def test_autodetect_finds_existing_maildir(tmp_path) -> None:
    (tmp_path / "Maildir" / "cur").mkdir(parents=True)
    assert parse_mail_location("", str(tmp_path)).root == str(tmp_path / "Maildir")
    with pytest.raises(MailLocationError, match="autodetection failed"):
        parse_mail_location("", str(tmp_path / "nothing"))
