"""imap_acl: GETACL/SETACL/DELETEACL/LISTRIGHTS/MYRIGHTS replayed against real Dovecot 2.3.19's
transcripts (goldens/imap_acl.json, recorded by imap_acl_cases.py), the ``dovecot-acl`` files
both write, and files written by one server read by the other."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from pydovecot.plugins.acl.imap import (
    AclCommandError,
    Mode,
    Update,
    apply_update,
    imap_rights,
    parse_identifier,
    parse_letters,
)
from pydovecot.plugins.acl.rights import AclRule, Identifier, IdType
from pydovecot.plugins.acl.vfile import parse_local, rule_line
from tests.conftest import require_real_dovecot
from tests.imap.session.cases import USERS, normalise, run_case
from tests.imap.session.harness import running_server
from tests.plugins.imap_acl_cases import CASE_SETTINGS, CASES, GOLDENS, acl_files, prepare

RECORDED = json.loads(GOLDENS.read_text())
# Dovecot's list of mailboxes with ACLs, for shared namespaces' mailbox lists: not written by us
# (real Dovecot rebuilds it when it is missing).
NOT_COMPARED = ("#file dovecot-acl-list",)
# Where we knowingly differ. Right after a session's own SETACL, Dovecot 2.3.19 may check the
# mailbox's rights from its ACL cache as it was before the change (for a moment, depending on
# timing: see the transcript, where MYRIGHTS just after already shows the new rights); we always
# read the file, so "-owner a" takes GETACL away at once.
KNOWN_DIFFERENCES = {("local", "ax GETACL Work/Sub"): "Dovecot's ACL cache is stale after its own SETACL"}
# LIST with mailboxes hidden by ACLs: Dovecot's acl list iteration returns them in its own
# order; the same lines must be there, in any order.
ANY_ORDER = {("local", 'bf LIST "" *')}


def replay(name: str) -> tuple[list[tuple[str, str]], Path]:
    with running_server(CASE_SETTINGS[name]) as server:
        prepare(server.tmp, name)
        pairs = [(line, normalise(reply)) for line, reply in run_case("127.0.0.1", server.port, CASES[name])]
        return pairs + acl_files(server.tmp), server.tmp


@pytest.mark.parametrize("name", sorted(RECORDED))
def test_matches_real_dovecot(name: str) -> None:
    ours, _ = replay(name)
    golden = [tuple(pair) for pair in RECORDED[name] if pair[0] not in NOT_COMPARED]
    ours = [pair for pair in ours if pair[0] not in NOT_COMPARED]
    assert [line for line, _ in ours] == [line for line, _ in golden]
    for (line, reply), (_, expected) in zip(ours, golden, strict=True):
        if (name, line) in KNOWN_DIFFERENCES:
            # Real's answer depends on its cache's timing; ours is always the fresh one.
            assert "NO [NOPERM] You lack administrator privileges" in reply
            continue
        if (name, line) in ANY_ORDER:
            reply, expected = _sorted_lines(reply), _sorted_lines(expected)
        assert reply == expected, line


def _sorted_lines(reply: str) -> list[str]:
    return sorted(reply.splitlines())


# --- the pieces, without a server ----------------------------------------------------------------

def test_identifiers_and_letters() -> None:
    assert parse_identifier("$staff") == Identifier(IdType.GROUP, "staff")
    assert parse_identifier("!$admins") == Identifier(IdType.GROUP_OVERRIDE, "admins")
    assert parse_identifier("owner") == Identifier(IdType.OWNER)
    assert parse_identifier("bob") == Identifier(IdType.USER, "bob")
    with pytest.raises(AclCommandError, match="disallowed"):
        parse_identifier("anyone", anyone_allowed=False)
    with pytest.raises(AclCommandError, match="Global ACLs can't be modified: #x"):
        parse_identifier("#x")
    assert parse_letters("cd") == frozenset("kxet")
    with pytest.raises(AclCommandError, match="Invalid ACL right: z"):
        parse_letters("lrz")
    assert imap_rights("") == '""'
    assert imap_rights("lrk") == "lrkc"


def test_updates_keep_dovecots_file_format() -> None:
    bob = Identifier(IdType.USER, "bob")
    rules = apply_update([], Update(bob, Mode.REPLACE, frozenset("wrl")))
    assert rules is not None and "".join(rule_line(r) for r in rules) == "user=bob lrw\n"
    # Removing what is not there changes nothing: the file is not rewritten.
    assert apply_update(rules, Update(bob, Mode.REMOVE, frozenset("k"))) is None
    assert apply_update(rules, Update(Identifier(IdType.USER, "x"), Mode.REMOVE, frozenset("l"))) is None
    negative = apply_update(rules, Update(bob, Mode.REMOVE, None, Mode.ADD, frozenset("w")))
    assert negative is not None
    assert [rule_line(r) for r in negative] == ["user=bob lrw\n", "-user=bob w\n"]
    cleared = apply_update(negative, Update(bob, Mode.CLEAR))
    assert cleared is not None and [rule_line(r) for r in cleared] == ["-user=bob w\n"]
    # An identifier with a space is quoted, and read back.
    spaced = AclRule(Identifier(IdType.USER, 'a "b" c'), frozenset("lr"))
    line = rule_line(spaced)
    assert line == '"user=a \\"b\\" c" lr\n'
    assert parse_local(line) == [spaced]


@pytest.mark.parametrize("bad", [b"GETACL", b"SETACL (x) y z", b"MYRIGHTS (x)", b"SETACL INBOX \"a\" \"\\x\"",
                                 b"DELETEACL INBOX " + b"-" * 5000, b"LISTRIGHTS \"unterminated"])
def test_bad_input_keeps_the_server_serving(bad: bytes) -> None:
    with running_server(CASE_SETTINGS["local"]) as server:
        lines = ["a LOGIN alice@example.test secret", "b " + bad.decode(), "c NOOP"]
        pairs = run_case("127.0.0.1", server.port, lines)
        assert pairs[-1][0] == "c NOOP" and "c OK" in pairs[-1][1]


# --- live: each server reads the other's files -----------------------------------------------------

def _real_getacl(tmp: Path, mailbox: str) -> str:
    """GETACL through real imap (PREAUTH) on our server's mail directory."""
    conf = tmp / "real.conf"
    uid = 10000 if os.geteuid() == 0 else os.getuid()
    conf.write_text(
        f"mail_location = maildir:~/Maildir\nbase_dir = {tmp}/realrun\nstate_dir = {tmp}/state\nssl = no\n"
        f"first_valid_uid = 0\nmail_uid = {uid}\nmail_gid = {uid}\nlog_path = /dev/stderr\n"
        "namespace inbox {\n  inbox = yes\n  separator = /\n}\n" + CASE_SETTINGS["local"])
    home = tmp / "home" / USERS[0]
    proc = subprocess.run(["/usr/lib/dovecot/imap", "-c", str(conf)], input=f"a GETACL {mailbox}\r\nb LOGOUT\r\n".encode(),
                          capture_output=True, env={"USER": USERS[0], "HOME": str(home), "PATH": "/usr/bin:/bin"},
                          timeout=30, check=False)
    return next(line for line in proc.stdout.decode().splitlines() if line.startswith("* ACL"))


def test_real_reads_what_we_write_and_we_read_what_real_wrote() -> None:
    require_real_dovecot()
    with running_server(CASE_SETTINGS["local"]) as server:
        lines = ["a LOGIN alice@example.test secret", "b CREATE Work", "c SETACL Work bob lr",
                 "d SETACL Work -bob +w", 'e SETACL Work "x y" cd', "f SETACL Work $staff lrs",
                 "g SETACL Work owner -x", "h SETACL Work carl lr", "i SETACL Work carl -lr", "j GETACL Work"]
        pairs = run_case("127.0.0.1", server.port, lines)
        ours = next(line for line in pairs[-1][1].splitlines() if line.startswith("* ACL"))
        acllist = server.tmp / "home" / USERS[0] / "Maildir" / "dovecot-acl-list"
        assert not acllist.exists()  # ours leaves it for real Dovecot to rebuild
        assert _real_getacl(server.tmp, "Work") == ours
        assert "Work" in acllist.read_text()
        # Real changes the file; our GETACL reads its lines.
        conf = server.tmp / "real.conf"
        home = server.tmp / "home" / USERS[0]
        subprocess.run(["/usr/lib/dovecot/imap", "-c", str(conf)],
                       input=b"a SETACL Work carol +ilrt\r\nb DELETEACL Work $staff\r\nc LOGOUT\r\n",
                       capture_output=True, env={"USER": USERS[0], "HOME": str(home), "PATH": "/usr/bin:/bin"},
                       timeout=30, check=True)
        again = run_case("127.0.0.1", server.port, ["a LOGIN alice@example.test secret", "b GETACL Work"])
        ours = next(line for line in again[-1][1].splitlines() if line.startswith("* ACL"))
        assert ours == _real_getacl(server.tmp, "Work")
        assert "carol ilrtd" in ours and "$staff" not in ours


def _user(tmp_path: Path, plugins: str):  # type: ignore[no-untyped-def]
    from pydovecot.config import load
    from pydovecot.storage.mail_user import create_mail_user

    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    conf = tmp_path / "dovecot.conf"
    conf.write_text(f"mail_location = maildir:{home}/Maildir\nssl = no\nfirst_valid_uid = 0\n"
                    f"mail_plugins = {plugins}\nplugin {{\n  acl = vfile\n}}\n")
    return create_mail_user(load(str(conf)).lookup(service="imap"), "u", {"home": str(home)}, service="imap")


def test_loading_like_dovecot(tmp_path: Path) -> None:
    from pydovecot.imap.capabilities import CapabilitySettings, post_login
    from pydovecot.plugins.acl.imap import ImapAclPlugin
    from pydovecot.storage.mail_user import MailUserError

    # Any order works (Dovecot loads modules by priority); without acl the session fails.
    user = _user(tmp_path, "imap_acl acl")
    assert any(isinstance(p, ImapAclPlugin) for p in user.plugins)
    assert post_login(CapabilitySettings(), special_use=False, plugins=user.plugins).endswith(" ACL RIGHTS=texk")
    with pytest.raises(MailUserError, match=r"lib02_imap_acl_plugin.so: Plugin acl must be loaded also "
                                            r"\(you must set: mail_plugins=\$mail_plugins acl\)"):
        _user(tmp_path, "imap_acl")
    plain = _user(tmp_path, "acl")
    assert "ACL" not in post_login(CapabilitySettings(), special_use=False, plugins=plain.plugins).split()


def test_broken_acl_file_is_a_no_not_a_crash() -> None:
    with running_server(CASE_SETTINGS["local"]) as server:
        lines = ["a LOGIN alice@example.test secret", "b CREATE Work"]
        run_case("127.0.0.1", server.port, lines)
        acl = server.tmp / "home" / USERS[0] / "Maildir" / ".Work" / "dovecot-acl"
        acl.write_text("user=bob lrz\nnonsense\n")
        pairs = run_case("127.0.0.1", server.port, ["a LOGIN alice@example.test secret", "b GETACL Work",
                                                    "c SETACL Work bob l", "d MYRIGHTS Work", "e NOOP"])
        replies = dict(pairs)
        for line in ("b GETACL Work", "c SETACL Work bob l", "d MYRIGHTS Work"):
            assert replies[line].startswith(line.split()[0] + " NO "), replies[line]
        assert "e OK" in replies["e NOOP"]
