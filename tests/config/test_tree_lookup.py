"""The settings tree as the daemons see it: typed values, filters applied per connection."""

from __future__ import annotations

from pathlib import Path

import pytest

from pydovecot.config import load
from pydovecot.config.errors import ConfigError
from pydovecot.config.merge import ConflictError

CONF = """
mail_plugins = quota
imap_max_line_length = 64k
auth_cache_ttl = 2 hours
protocol imap {
  mail_plugins = $mail_plugins imap_quota
}
local 10.0.0.0/8 {
  login_greeting = inside
  protocol pop3 {
    login_greeting = inside pop3
  }
}
remote 192.0.2.7 {
  login_greeting = from the lab
}
local_name *.example.com {
  ssl_cert = </etc/ssl/example.pem
}
namespace inbox {
  inbox = yes
  separator = /
  mailbox Sent {
    special_use = \\Sent
    auto = subscribe
  }
}
passdb {
  driver = passwd-file
  args = /etc/users
}
passdb {
  driver = static
  args = nopassword
}
"""


@pytest.fixture
def tree(tmp_path: Path):  # type: ignore[no-untyped-def]
    conf = tmp_path / "dovecot.conf"
    conf.write_text(CONF)
    return load(str(conf))


def test_values_are_typed(tree) -> None:  # type: ignore[no-untyped-def]
    node = tree.lookup()
    assert node.get("imap_max_line_length") == 65536
    assert node.get("auth_cache_ttl") == 7200
    assert node.get("disable_plaintext_auth") is True  # a default, typed
    assert node.get("mail_plugins") == "quota"


def test_protocol_filter_and_variable(tree) -> None:  # type: ignore[no-untyped-def]
    assert tree.lookup(service="imap").get("mail_plugins") == "quota imap_quota"
    assert tree.lookup(service="pop3").get("mail_plugins") == "quota"


def test_ip_filters_pick_the_most_specific(tree) -> None:  # type: ignore[no-untyped-def]
    assert tree.lookup(service="imap", local="10.1.2.3").get("login_greeting") == "inside"
    assert tree.lookup(service="pop3", local="10.1.2.3").get("login_greeting") == "inside pop3"
    assert tree.lookup(service="imap", local="192.168.1.1").get("login_greeting") == tree.lookup().get(
        "login_greeting")
    assert tree.lookup(remote="192.0.2.7").get("login_greeting") == "from the lab"


def test_local_name_wildcards(tree) -> None:  # type: ignore[no-untyped-def]
    assert tree.lookup(local_name="mail.example.com").get("ssl_cert") == "</etc/ssl/example.pem"
    assert tree.lookup(local_name="example.org").get("ssl_cert") != "</etc/ssl/example.pem"


def test_sections_are_nodes(tree) -> None:  # type: ignore[no-untyped-def]
    node = tree.lookup()
    (inbox,) = [ns for ns in node.get("namespace") if ns.name == "inbox"]
    assert inbox.get("inbox") is True and inbox.get("separator") == "/"
    (sent,) = inbox.get("mailbox")
    assert (sent.name, sent.get("special_use"), sent.get("auto")) == ("Sent", "\\Sent", "subscribe")
    assert [db.get("driver") for db in node.get("passdb")] == ["passwd-file", "static"]
    imap_login = next(s for s in node.get("service") if s.name == "imap-login")
    assert imap_login.get("executable") == "imap-login"  # built-in service default
    (imap,) = [lst for lst in imap_login.get("inet_listener") if lst.name == "imap"]
    assert imap.get("port") == 143


def test_conflicting_filters_are_refused(tmp_path: Path) -> None:
    conf = tmp_path / "dovecot.conf"
    conf.write_text("local 10.0.0.0/8 {\n  login_greeting = a\n}\nremote 172.16.0.0/12 {\n"
                    "  login_greeting = b\n}\n")
    tree = load(str(conf))
    with pytest.raises(ConflictError, match="Conflict in setting login_greeting"):
        tree.lookup(local="10.0.0.1", remote="172.16.0.1")


def test_errors_name_file_and_line(tmp_path: Path) -> None:
    conf = tmp_path / "dovecot.conf"
    conf.write_text("\n\nauth_cache_ttl = 3600\n")
    with pytest.raises(ConfigError) as excinfo:
        load(str(conf))
    assert (excinfo.value.path, excinfo.value.line) == (str(conf), 3)
    assert "is missing units" in str(excinfo.value)


def test_doveadm_overrides_apply_on_top(tmp_path: Path) -> None:
    from pydovecot.config import load_for_doveadm

    conf = tmp_path / "dovecot.conf"
    conf.write_text("mail_location = maildir:~/Maildir\n")
    tree = load_for_doveadm(str(conf), [("mail_location", "mdbox:~/mdbox"), ("plugin/quota", "count:User quota"),
                                        ("service/imap/process_limit", "7")])
    node = tree.lookup()
    assert node.get("mail_location") == "mdbox:~/mdbox"
    assert node.get("plugin") == {"quota": "count:User quota"}
    assert [s.get("process_limit") for s in node.get("service") if s.name == "imap"] == [7]
    with pytest.raises(ConfigError, match="Invalid -o parameter auth_verbose=maybe"):
        load_for_doveadm(str(conf), [("auth_verbose", "maybe")])
