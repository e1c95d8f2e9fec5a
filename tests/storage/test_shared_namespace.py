"""Shared namespaces (``shared/%%u/``) with acl vfile and acl_shared_dict, compared with real
Dovecot 2.3.19.

``goldens/shared_namespace.json`` holds real's transcripts of the scenario in shared_cases.py
(record_shared_goldens.py). The end-to-end test runs the same sessions against our server on a
fresh tree and compares them line for line, with the shared dict between the steps; the unit
tests check the pieces (owner parsing, the owner's namespace, where ACLs are read, the dict
keys) through the storage API.
"""

from __future__ import annotations

import asyncio
import json
import os
import threading
from pathlib import Path
from typing import Any

import pytest

from pydovecot.config import load
from pydovecot.plugins.acl import AclPlugin
from pydovecot.plugins.acl.shared_dict import SharedDict, lookup_ids
from pydovecot.plugins.acl.vfile import parse_local
from pydovecot.storage.mail_user import MailUser, create_mail_user
from pydovecot.storage.shared import UserLookupUnavailable, owner_of, prefix_for, threadsafe_lookup
from tests.conftest import require_real_dovecot
from tests.storage import shared_cases
from tests.support import server
from tests.support.net import free_port

GOLDEN = Path(__file__).parent / "goldens" / "shared_namespace.json"


def golden() -> dict[str, Any]:
    return json.loads(GOLDEN.read_text(encoding="utf-8"))


# --- owner names ------------------------------------------------------------------------------

@pytest.mark.parametrize(("template", "separator", "vname", "expected"), [
    ("shared.%u.", ".", "shared.bob@x.sub", ("bob@x", "shared.bob@x.")),
    ("shared/%u/", "/", "shared/bob@x", ("bob@x", "shared/bob@x/")),
    ("shared/%u/", "/", "shared/bob@x/INBOX", ("bob@x", "shared/bob@x/")),
    ("shared/%u/", "/", "shared/bob@x/a/b", ("bob@x", "shared/bob@x/")),
    ("shared/%u/", "/", "shared", None),
    ("shared/%d/%n/", "/", "shared/x/bob/sub", ("bob@x", "shared/x/bob/")),
    ("shared/%n@%d/", "/", "shared/bob@x/sub", ("bob@x", "shared/bob@x/")),
    ("shared/%{user}/", "/", "shared/bob@x", ("bob@x", "shared/bob@x/")),
    ("Other/%n/", "/", "Other/bob/x", ("bob", "Other/bob/")),
])
def test_owner_of(template: str, separator: str, vname: str, expected: tuple[str, str] | None) -> None:
    assert owner_of(template, separator, vname) == expected
    if expected is not None:
        assert prefix_for(template, expected[0]) == expected[1]


# --- the storage API on the scenario's files --------------------------------------------------

def _tree(root: Path) -> tuple[Path, dict[str, dict[str, str]]]:
    conf = shared_cases.prepare(root, free_port())
    homes = {user: str(root / "home" / user.split("@")[0]) for user in shared_cases.USERS}
    userdb = {user: {"user": user, "home": home, "uid": "10000", "gid": "10000"} for user, home in homes.items()}
    return conf, userdb


def _user(conf: Path, userdb: dict[str, dict[str, str]], name: str) -> MailUser:
    calls: list[str] = []

    def lookup(owner: str) -> dict[str, str] | None:
        calls.append(owner)
        return userdb.get(owner)

    fields = {"home": userdb[name]["home"]}
    user = create_mail_user(load(str(conf)).lookup(service="imap"), name, fields, service="imap", lookup_user=lookup)
    user.lookups = calls  # type: ignore[attr-defined]
    return user


def _acl(user: MailUser) -> AclPlugin:
    return next(p for p in user.plugins if isinstance(p, AclPlugin))


@pytest.fixture
def tree(tmp_path: Path) -> tuple[Path, dict[str, dict[str, str]]]:
    root = tmp_path / "t"
    root.mkdir()
    # The storage calls run as the test's user here: no chown, mail_uid left as the config says.
    return _tree(root)


def test_owner_namespace_uses_owner_variables_and_accessing_home(tree: Any) -> None:
    conf, userdb = tree
    bob = _user(conf, userdb, "bob@x")
    bob.create_mailbox("INBOX/sub")
    alice = _user(conf, userdb, "alice@x")
    ns, storage = alice.resolve("shared/bob@x/sub")
    assert (ns.prefix, ns.owner, storage) == ("shared/bob@x/", "bob@x", "sub")
    # %h is the owner's home; ~ in INDEX=/CONTROL= the accessing user's (as real Dovecot).
    assert ns.location.root == f"{userdb['bob@x']['home']}/Maildir"
    assert ns.location.option("CONTROL") == f"{userdb['alice@x']['home']}/shared/bob@x"
    assert ns.location.option("INDEX") == f"{userdb['alice@x']['home']}/shared/bob@x"
    # The namespace's own name and .../INBOX are the owner's INBOX.
    assert alice.resolve("shared/bob@x")[1] == "INBOX"
    assert alice.resolve("shared/bob@x/INBOX")[1] == "INBOX"
    assert ns.vname("INBOX") == "shared/bob@x"
    # One userdb lookup per owner, then the namespace is reused.
    alice.resolve("shared/bob@x/other")
    assert alice.lookups == ["bob@x"]  # type: ignore[attr-defined]
    # The private namespace is untouched.
    assert alice.resolve("INBOX/x")[0].type == "private"


def test_unknown_owner_has_no_mailboxes(tree: Any) -> None:
    conf, userdb = tree
    alice = _user(conf, userdb, "alice@x")
    ns, _ = alice.resolve("shared/nobody@x/INBOX")
    assert ns.owner_missing
    with pytest.raises(LookupError, match="Mailbox doesn't exist: shared/nobody@x/INBOX"):
        alice.open_mailbox("shared/nobody@x/INBOX")
    with pytest.raises(LookupError, match="Mailbox doesn't exist: shared"):
        alice.resolve("shared")


def test_rights_come_from_the_owners_mailbox_dir_not_control(tree: Any) -> None:
    """Real Dovecot reads the owner's dovecot-acl in the Maildir, even with CONTROL= set: a
    dovecot-acl in the accessing user's CONTROL copy is ignored (checked by experiment)."""
    conf, userdb = tree
    bob = _user(conf, userdb, "bob@x")
    bob.create_mailbox("INBOX/sub")
    _acl(bob).set_rights("INBOX/sub", "user=alice@x", "lrs")
    control = Path(userdb["alice@x"]["home"], "shared", "bob@x", ".sub")
    control.mkdir(parents=True)
    (control / "dovecot-acl").write_text("user=alice@x lrwstipekxa\n")
    alice = _user(conf, userdb, "alice@x")
    acl = _acl(alice)
    assert acl.my_rights("shared/bob@x/sub") == frozenset("lrs")
    assert acl.my_rights("shared/bob@x") == frozenset()  # no default rights for a non-owner
    assert alice.mailbox_visible("shared/bob@x/sub") and not alice.mailbox_visible("shared/bob@x")
    listed = {item.vname: sorted(item.flags) for item in alice.namespaces.list("*")}
    assert listed["shared"] == ["\\HasChildren", "\\Noselect"]
    assert listed["shared/bob@x"] == ["\\HasChildren", "\\Noselect"]
    assert listed["shared/bob@x/sub"] == ["\\HasNoChildren"]


def test_set_and_delete_rights_keep_the_shared_dict(tree: Any) -> None:
    """The keys and values real Dovecot writes (golden: SETACL, DELETEACL, doveadm acl with anyone)."""
    conf, userdb = tree
    steps = golden()["steps"]
    root = conf.parent
    users = {name: _user(conf, userdb, name) for name in shared_cases.USERS}
    for name, boxes in (("bob@x", ["INBOX/sub", "INBOX/priv", "INBOX/sub/deep", "INBOX/hidden/inner"]),
                        ("carol@y", ["INBOX/work", "INBOX/work/q"])):
        for box in boxes:
            users[name].create_mailbox(box)
    bob, carol = _acl(users["bob@x"]), _acl(users["carol@y"])
    bob.set_rights("INBOX", "user=alice@x", "lr")
    bob.set_rights("INBOX/sub", "user=alice@x", "lrwstie")
    bob.set_rights("INBOX/sub/deep", "user=carol@y", "lr")
    bob.set_rights("INBOX/hidden/inner", "user=alice@x", "lr")
    bob.set_rights("INBOX/priv", "user=bob@x", "alr")  # pointless user -> user: no key
    carol.set_rights("INBOX/work", "user=alice@x", "lr")
    carol.set_rights("INBOX/work/q", "user=bob@x", "lr")
    dicts = [step["dict"] for step in steps if "dict" in step]
    assert shared_cases.read_dict(root) == dicts[0]
    bob.delete_rights("INBOX/sub/deep", "user=carol@y")
    assert shared_cases.read_dict(root) == dicts[1]
    # alice, with the admin right on bob's mailbox, gives it on: bob's key is added.
    bob.set_rights("INBOX/sub", "user=alice@x", "lrwstiea")
    _acl(users["alice@x"]).set_rights("shared/bob@x/sub", "user=carol@y", "lr")
    assert shared_cases.read_dict(root) == dicts[2]
    carol.set_rights("INBOX/work/q", "anyone", "lr")
    assert shared_cases.read_dict(root) == golden()["anyone_set"]
    carol.delete_rights("INBOX/work/q", "anyone")
    assert shared_cases.read_dict(root) == golden()["anyone_deleted"]
    # Who sees whose mailboxes, as LIST reads it.
    store = SharedDict(f"file:{root}/dict/shared-mailboxes.db")
    assert store.owners_visible_to("alice@x") == ["bob@x", "carol@y"]
    assert store.owners_visible_to("bob@x") == ["carol@y"]
    assert store.owners_visible_to("carol@y") == ["bob@x"]


def test_lookup_ids() -> None:
    rules = parse_local("owner lrwstipekxa\nuser=bob@x lr\n-user=z l\nuser=a r\nauthenticated l\n"
                        "group=staff lr\ngroup-override=adm l\n")
    assert lookup_ids("bob@x", rules) == {"anyone", "group/staff", "group/adm"}


def test_threadsafe_lookup_bridges_to_the_loop() -> None:
    async def lookup(name: str) -> dict[str, str] | None:
        await asyncio.sleep(0)
        return {"home": f"/h/{name}"} if name != "nobody" else None

    async def main() -> list[Any]:
        call = threadsafe_lookup(asyncio.get_running_loop(), lookup)
        results: list[Any] = []
        worker = threading.Thread(target=lambda: results.extend([call("bob"), call("nobody")]))
        worker.start()
        while worker.is_alive():
            await asyncio.sleep(0.01)
        with pytest.raises(UserLookupUnavailable):
            call("bob")  # on the loop's own thread: refused, never a deadlock
        return results

    assert asyncio.run(main()) == [{"home": "/h/bob"}, None]


def test_a_failed_owner_lookup_is_not_remembered(tree: Any) -> None:
    conf, userdb = tree
    alice = _user(conf, userdb, "alice@x")
    answers: list[Any] = [UserLookupUnavailable("auth is down"), userdb["bob@x"]]

    def flaky(name: str) -> dict[str, str] | None:
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    alice.lookup_user = flaky
    with pytest.raises(LookupError):  # the template answers: nothing is known of bob now
        alice.resolve("shared/bob@x/sub")
    ns, storage = alice.resolve("shared/bob@x/sub")
    assert (ns.owner, ns.owner_missing, storage) == ("bob@x", False, "sub")


# --- end to end: our server, the same sessions as real's --------------------------------------

@pytest.mark.skipif(os.getuid() != 0, reason="the scenario's mail belongs to the vmail uid (run as root)")
def test_imap_sessions_match_real(open_tmp_path: Path) -> None:
    port = free_port()
    conf = shared_cases.prepare(open_tmp_path, port)
    proc = server.start(conf)
    try:
        server.wait_started(proc, open_tmp_path / "log")
        ours = shared_cases.run(open_tmp_path, port)
    finally:
        server.stop(proc)
    expected = golden()["steps"]
    for step, (mine, real) in enumerate(zip(ours, expected, strict=True)):
        assert mine == real, f"step {step} ({real.get('user', 'dict')})"


@pytest.mark.skipif(os.getuid() != 0, reason="the scenario's mail belongs to the vmail uid (run as root)")
def test_explicit_inbox_matches_real(open_tmp_path: Path) -> None:
    port = free_port()
    conf = shared_cases.prepare(open_tmp_path, port, "mail_shared_explicit_inbox = yes\n")
    proc = server.start(conf)
    try:
        server.wait_started(proc, open_tmp_path / "log")
        ours = shared_cases.run(open_tmp_path, port, shared_cases.EXPLICIT_INBOX)
    finally:
        server.stop(proc)
    assert ours == golden()["explicit_inbox"]


@pytest.mark.skipif(os.getuid() != 0, reason="real Dovecot drops to the vmail uid (run as root)")
def test_goldens_match_live_real() -> None:
    """Real Dovecot still answers what the goldens say (re-recorded live, not written)."""
    require_real_dovecot()
    from tests.storage.record_shared_goldens import record

    assert record() == golden()
